"""One pass over every source into the stored catalog.

Read (only the files that changed: gazette.catalog.incremental) → merge duplicates
→ fill in series → match each post to its record (keeping ids)
→ render only what changed → write. Runs inside one transaction; the caller commits.
When a change cannot reach beyond its own files (gazette.catalog.changed), only their
posts go through these steps.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from gazette.catalog.batch import render_many
from gazette.catalog.changed import Taken, changed_files_only, note_merged
from gazette.catalog.draft import Draft
from gazette.catalog.identity import (
    EMPTY_BODY,
    RecordIndex,
    SlugRegistry,
    dated_when_first_seen,
    make_slug,
    mint_id,
    read_titles,
)
from gazette.catalog.incremental import Sourced, SourceFiles
from gazette.catalog.normalize import detect_series
from gazette.catalog.render import Rendered
from gazette.catalog.sources import read_into
from gazette.catalog.survey import Survey
from gazette.catalog.tables import (
    PostKey,
    count_present_posts,
    insert_posts,
    load_post_keys,
    mark_removed,
    mark_seen,
    update_posts,
)
from gazette.config import Settings
from gazette.models import Finding
from gazette.pinyin import Reader

# A sync holds the bodies of this many drafts as it reads (about 7 KB each, for Chinese);
# the files of any more are read again when their chunk is rendered. That bounds the
# memory of a first sync of a very large blog (100k posts peak at 0.90 GB holding 10,000;
# 1.06 GB holding 20,000) but costs a second parse (a quarter of a cold 10k build of
# 200-entry listing pages), so a blog of ordinary size holds every body.
HELD_BODIES = 10_000


@dataclass
class SyncReport:
    """What a pass found and did."""

    findings: list[Finding] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    rendered: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]


@dataclass
class _Merged:
    item: Sourced
    draft: Draft
    locations: list[str]
    warnings: list[str]


@dataclass
class _Planned:
    draft: Draft
    id: str
    slug: str
    updated: datetime
    locations: list[str]
    warnings: list[str]
    body_hash: str
    render_key: str
    content_hash: str
    existing: PostKey | None
    item: Sourced


def sync_catalog(
    settings: Settings,
    connection: Connection,
    now: datetime,
    incremental: bool = True,
    survey: Survey | None = None,
    titles: Reader | None = None,
) -> SyncReport:
    """Bring the stored catalog in line with the sources, as of ``now``; without
    ``incremental``, every file is read again. ``survey``: the files as the caller found
    them already (they are looked at otherwise); ``titles``: a reader of new posts' titles
    the caller started already (one starts when a new file is found otherwise). The
    reader ends with the sync."""
    titles = titles if titles is not None else Reader()
    try:
        return _sync(settings, connection, now, incremental, survey, titles)
    finally:
        titles.close()


def _sync(
    settings: Settings,
    connection: Connection,
    now: datetime,
    incremental: bool,
    survey: Survey | None,
    titles: Reader,
) -> SyncReport:
    report = SyncReport()
    files = SourceFiles(connection, settings, incremental, survey, HELD_BODIES, titles)
    read_into(settings, connection, files, now.astimezone(settings.site.zone).date())
    if files.unchanged():
        # The catalog is what the last sync made of these very files.
        report.findings.extend(files.gathered(drafts=False).findings)
        report.unchanged = count_present_posts(connection)
        files.save()  # when racy files were compared by their bytes
        return report
    read = files.gathered(drafts=False)
    changed = changed_files_only(connection, files, read.drafts) if incremental else None
    if changed is None:
        read = files.gathered()
        keys = load_post_keys(connection)
        taken = Taken.of(keys)
    else:
        keys, taken = changed.keys, changed.taken
    report.findings.extend(read.findings)
    items = _dated(read.drafts, keys, now)
    merged = _with_series(_merge_duplicates([i for i in items if i.draft.published is not None]))
    planned = _plan(merged, keys, taken, settings, now, titles)
    _write(connection, planned, files, settings, now, report)
    _remove_missing(connection, keys, planned, now, report)
    merged_now = any(len(p.locations) != 1 for p in planned)
    if changed is None or merged_now:
        note_merged(connection, merged_now)
    if changed is not None:
        report.unchanged += changed.others
    files.save()
    return report


def _dated(items: list[Sourced], keys: list[PostKey], now: datetime) -> list[Sourced]:
    """Undated entries (feeds) dated when first seen: the date their record was given."""
    hashes = [item.body_hash for item in items]
    drafts = dated_when_first_seen([item.draft for item in items], hashes, keys, now)
    return [replace(item, draft=draft) for item, draft in zip(items, drafts, strict=True)]


# --- merging and series --------------------------------------------------------------


def _merge_duplicates(items: list[Sourced]) -> list[_Merged]:
    """The same post from several sources is one post with every location."""
    merged: list[_Merged] = []
    by_key: dict[str, _Merged] = {}
    for item in items:
        draft = item.draft
        keys = _identity_keys(item)
        found = next((by_key[k] for k in keys if k in by_key), None)
        if found is None:
            found = _Merged(item, draft, list(item.locations), list(draft.warnings))
            merged.append(found)
        else:
            found.locations.extend(item.locations)
            found.warnings.extend(_conflicts(found.draft, draft))
        for key in keys:
            by_key.setdefault(key, found)
    return merged


def _identity_keys(item: Sourced) -> list[str]:
    """The same post in two sources has the same id, or date and title, or title and body
    (a listing page's year is a guess); two posts that only share a body stay two."""
    draft = item.draft
    if draft.id:
        return [f"id:{draft.id}"]
    assert draft.published is not None
    keys = [] if draft.title_inferred else [f"title:{draft.published.date()}:{draft.title}"]
    if item.body_hash != EMPTY_BODY:  # a stored draft's body is not loaded: its hash tells
        keys.append(f"body:{draft.title}:{item.body_hash}")
    return keys


def _conflicts(kept: Draft, other: Draft) -> list[str]:
    notes = []
    for name in ("title", "published", "tags", "series", "summary"):
        mine, theirs = getattr(kept, name), getattr(other, name)
        if mine != theirs and theirs:
            shown = theirs.isoformat() if isinstance(theirs, datetime) else theirs
            notes.append(
                f"also in {other.location} with a different {name} ({shown!r}); "
                f"kept the one from {kept.location}"
            )
    return notes


def _with_series(merged: list[_Merged]) -> list[_Merged]:
    """Series from the title when the source names none (a guessed title names none);
    missing indexes by date order."""
    updated: list[_Merged] = []
    for item in merged:
        draft = item.draft
        if not draft.series and not draft.title_inferred:
            match = detect_series(draft.title)
            if match is not None:
                draft = replace(draft, series=match.name, series_index=match.index)
        updated.append(_Merged(item.item, draft, item.locations, item.warnings))
    members: dict[str, list[_Merged]] = defaultdict(list)
    for item in updated:
        if item.draft.series:
            members[item.draft.series].append(item)
    for items in members.values():
        taken = {i.draft.series_index for i in items}
        ordered = sorted(items, key=lambda i: (i.draft.published, i.draft.title))
        next_index = 1
        for item in ordered:
            if item.draft.series_index is None:
                while next_index in taken:
                    next_index += 1
                item.draft = replace(item.draft, series_index=next_index)
                taken.add(next_index)
    return updated


# --- identity ------------------------------------------------------------------------


def _plan(
    merged: list[_Merged],
    keys: list[PostKey],
    taken: Taken,
    settings: Settings,
    now: datetime,
    titles: Reader,
) -> list[_Planned]:
    """Each post matched to the record it continues (among ``keys``), or given a slug and id
    that no record (``taken``) has; ``titles`` has been reading new files' titles."""
    index = RecordIndex.of(keys)
    slugs = SlugRegistry(taken.has_slug)
    ids = _Ids(taken)
    ordered = sorted(merged, key=lambda m: (m.draft.published, m.draft.location))
    # A slug is made only for a post that needs one: reading Chinese takes pypinyin.
    wanted = [(m.draft, m.item.body_hash, m.item.slug) for m in ordered]
    found = index.match_all(wanted)
    new = [d.title for (d, _, slug), e in zip(wanted, found, strict=True) if not (e or slug)]
    read_titles(new, titles)
    planned = []
    for item, (draft, hashed, wanted_slug), existing in zip(ordered, wanted, found, strict=True):
        assert draft.published is not None
        if existing is not None:
            post_id = existing.id
            slug = existing.slug if _keeps_slug(draft, existing) else slugs.unique(draft.slug)
        else:
            asked = wanted_slug or make_slug(draft.title)
            slug, post_id = _new_identity(draft, asked, slugs, ids, settings)
        content_hash = _content_hash(draft, hashed)
        planned.append(
            _Planned(
                draft=draft,
                id=post_id,
                slug=slug,
                updated=_updated(draft, existing, content_hash, now),
                locations=item.locations,
                warnings=item.warnings,
                body_hash=hashed,
                render_key=item.item.render_key,
                content_hash=content_hash,
                existing=existing,
                item=item.item,
            )
        )
    return planned


@dataclass
class _Ids:
    """The ids records have, and those given in this sync."""

    taken: Taken
    given: set[str] = field(default_factory=set)

    def has(self, post_id: str) -> bool:
        return post_id in self.given or self.taken.has_id(post_id)


def _new_identity(
    draft: Draft, wanted_slug: str, slugs: SlugRegistry, ids: _Ids, settings: Settings
) -> tuple[str, str]:
    """A new post's slug and id. A minted id is never one a record has (a record keeps its
    id when its slug changes, so the old slug's id may be taken): the slug takes a number."""
    assert draft.published is not None
    while True:
        slug = slugs.unique(wanted_slug)
        post_id = draft.id or mint_id(settings.site.authority, draft.published, slug)
        if draft.id or not ids.has(post_id):
            ids.given.add(post_id)
            return slug, post_id


def _keeps_slug(draft: Draft, existing: PostKey) -> bool:
    """A post keeps its slug unless the source asks for another: the one it asks for, or
    (when another post had it first) the one it got in its place, ``name-N``."""
    if not draft.slug or draft.slug == existing.slug:
        return True
    number = existing.slug.removeprefix(f"{draft.slug}-")
    return number != existing.slug and number.isdigit()


def _content_hash(draft: Draft, hashed: str) -> str:
    """What a reader sees change: a change here bumps ``updated``."""
    assert draft.published is not None
    parts = [draft.title, hashed, draft.summary, *draft.tags, draft.series, str(draft.series_index)]
    parts.append(draft.published.isoformat())
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _updated(draft: Draft, existing: PostKey | None, content_hash: str, now: datetime) -> datetime:
    assert draft.published is not None
    if draft.updated is not None:
        return max(draft.updated, draft.published)
    if existing is None:
        return draft.published
    if existing.content_hash == content_hash:
        return datetime.fromisoformat(existing.updated)
    return max(now, draft.published)


# --- writing -------------------------------------------------------------------------


def _write(
    connection: Connection,
    planned: list[_Planned],
    files: SourceFiles,
    settings: Settings,
    now: datetime,
    report: SyncReport,
) -> None:
    stamp = now.isoformat()
    to_render = [p for p in planned if p.existing is None or p.existing.render_key != p.render_key]

    def drafts(start: int, stop: int) -> list[Draft]:
        return files.with_bodies([(p.item, p.draft) for p in to_render[start:stop]])

    chunks = render_many(connection, len(to_render), drafts, settings.catalog.excerpt_width)
    done = 0
    for rendered in chunks:
        plans = to_render[done : done + len(rendered)]
        rows = [_rendered_row(p, r, stamp) for p, r in zip(plans, rendered, strict=True)]
        new = [p.existing is None for p in plans]
        insert_posts(connection, [row for row, is_new in zip(rows, new, strict=True) if is_new])
        update_posts(connection, [row for row, is_new in zip(rows, new, strict=True) if not is_new])
        done += len(rendered)
    report.rendered = done
    update_posts(connection, _changed_metadata(planned, {p.id for p in to_render}))
    mark_seen(connection, (p.id for p in planned if _seen_anew(p)), stamp)
    report.added = sum(p.existing is None for p in planned)
    report.changed = sum(
        p.existing is not None and p.existing.content_hash != p.content_hash for p in planned
    )
    report.unchanged = len(planned) - report.added - report.changed


def _seen_anew(plan: _Planned) -> bool:
    """A post of a file read now, or one coming back: its record's last_seen moves (a post
    of a file that was not read again keeps the time its file was last read)."""
    existing = plan.existing
    return existing is not None and (existing.removed or not plan.item.stored)


def _changed_metadata(planned: list[_Planned], rendered_ids: set[str]) -> list[dict[str, Any]]:
    """Rows of posts whose rendering stands but whose other fields changed."""
    rows = []
    for plan in planned:
        if plan.id in rendered_ids:
            continue
        row = _metadata_row(plan)
        assert plan.existing is not None
        if row["record_hash"] != plan.existing.record_hash:
            rows.append(row)
    return rows


def _rendered_row(plan: _Planned, rendered: Rendered, stamp: str) -> dict[str, Any]:
    row = _metadata_row(plan)
    row.update(
        summary_html=rendered.summary_html,
        summary_text=rendered.summary_text,
        content_html=rendered.content_html,
        content_text=rendered.content_text,
        figures=[{"caption": f.caption, "src": f.src} for f in rendered.figures],
        render_key=plan.render_key,
        render_warnings=list(rendered.warnings),
    )
    if plan.existing is None:
        row.update(first_seen=stamp, last_seen=stamp)
    return row


def _metadata_row(plan: _Planned) -> dict[str, Any]:
    """Every stored field but the rendering, and the hash that tells whether it changed."""
    draft = plan.draft
    assert draft.published is not None
    row: dict[str, Any] = {
        "id": plan.id,
        "slug": plan.slug,
        "title": draft.title,
        "title_inferred": draft.title_inferred,
        "published": draft.published.isoformat(),
        "published_utc": draft.published.astimezone(UTC).isoformat(),
        "updated": plan.updated.isoformat(),
        "tags": list(dict.fromkeys(draft.tags)),
        "authors": list(draft.authors),
        "url": draft.url,
        "series": draft.series,
        "series_index": draft.series_index,
        "lang": draft.lang,
        "sources": plan.locations,
        "warnings": plan.warnings,
        "body_hash": plan.body_hash,
        "content_hash": plan.content_hash,
    }
    row["record_hash"] = hashlib.sha256(
        json.dumps([row, plan.render_key], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return row


def _remove_missing(
    connection: Connection,
    keys: list[PostKey],
    planned: list[_Planned],
    now: datetime,
    report: SyncReport,
) -> None:
    """A post no source has any more leaves the catalog (its record stays, marked removed)."""
    present = {p.id for p in planned}
    gone = [k for k in keys if not k.removed and k.id not in present]
    mark_removed(connection, [k.id for k in gone], now.isoformat())
    report.removed = len(gone)
    for key in gone:
        report.findings.append(
            Finding(
                "warning",
                f"post {key.title!r} ({key.id}) is in no source any more; it left the catalog",
                key.last_source,
            )
        )
