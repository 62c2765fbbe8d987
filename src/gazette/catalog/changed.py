"""A sync that finds few changed files plans the posts of those files alone.

The full sync matches every draft against every record, merges duplicates across files
and numbers series over the whole catalog. A change reaches beyond its own files only
through what its drafts share with other posts: an id, a slug (or ``slug-N``), a title, a
body, a series, an undated entry (dated from the records), or a URL (which posts of other
files link to). When the drafts of the
changed files, before and after, share none of these with any other record, and no post
is merged from several places, every other post stays exactly as the last sync left it:
then only the changed files' drafts and their old records are planned. Otherwise the full
sync runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Connection, select

from gazette.catalog.incremental import Sourced, SourceFiles
from gazette.catalog.normalize import detect_series
from gazette.catalog.tables import PostKey, count_present_posts, load_post_keys, posts
from gazette.store import read_meta, write_meta

MERGED_KEY = "catalog.merged_posts"  # "no" when no post has more than one location
MOST_FILES = 200  # more changed files than this: the full sync (its queries stay small)
_CHUNK = 400


@dataclass(frozen=True)
class Taken:
    """The slugs and ids records have: a new post's slug and minted id must be neither.
    Held as sets, or (with a ``connection``) looked up one by one as they are asked about,
    when a sync plans a few posts among many records."""

    slugs: set[str]
    ids: set[str]
    connection: Connection | None = None

    @classmethod
    def of(cls, keys: Iterable[PostKey]) -> Taken:
        taken = cls(set(), set())
        for key in keys:
            taken.slugs.add(key.slug)
            taken.ids.add(key.id)
        return taken

    @classmethod
    def looked_up(cls, connection: Connection) -> Taken:
        return cls(set(), set(), connection)

    def has_slug(self, slug: str) -> bool:
        return slug in self.slugs or self._stored(posts.c.slug, slug)

    def has_id(self, post_id: str) -> bool:
        return post_id in self.ids or self._stored(posts.c.id, post_id)

    def _stored(self, column: Column[str], value: str) -> bool:
        if self.connection is None:
            return False
        return self.connection.execute(select(column).where(column == value)).first() is not None


@dataclass(frozen=True)
class ChangedFiles:
    """What a sync of a few changed files works on."""

    keys: list[PostKey]  # the records of the posts the changed files held
    taken: Taken
    others: int  # present posts outside the changed files, which stay as they are


def changed_files_only(
    connection: Connection, files: SourceFiles, read: Sequence[Sourced]
) -> ChangedFiles | None:
    """The changed files' part of the catalog, when a change there cannot reach any other
    post (``read``: the drafts of the files read now); None when it may."""
    changed = files.changed_keys()
    if not changed or len(changed) > MOST_FILES or len(changed) == len(files.seen):
        return None
    stored = files.stored_drafts(changed)
    if _urls(stored) != _urls(read):
        return None  # posts of other files that link to these show their URLs
    before = [item for item in stored if item.draft.published is not None]
    now = [item for item in read if item.draft.published is not None]
    if not _self_contained([*before, *now]) or some_post_is_merged(connection):
        return None
    keys = _records_of(connection, before)
    if keys is None:
        return None
    taken = Taken.looked_up(connection)
    if _shared_with_others(connection, [*before, *now], keys, taken):
        return None
    present = sum(not key.removed for key in keys)
    return ChangedFiles(keys, taken, count_present_posts(connection) - present)


def _self_contained(items: Iterable[Sourced]) -> bool:
    """No draft is undated (dated from the records) or in a series (numbered over all of
    its posts)."""
    for item in items:
        draft = item.draft
        if draft.date_inferred or draft.series or draft.series_index is not None:
            return False
        if not draft.title_inferred and detect_series(draft.title) is not None:
            return False
    return True


def _urls(items: Iterable[Sourced]) -> set[tuple[str, str]]:
    """The URL a generator gives each file's posts (other files' posts may link to them)."""
    return {(i.draft.location.rsplit(":", 1)[0], i.draft.url) for i in items if i.draft.url}


def some_post_is_merged(connection: Connection) -> bool:
    """Whether a post may come from more than one place, as the last sync noted (a record
    made of several drafts lacks the titles and bodies of all but the first)."""
    return read_meta(connection, MERGED_KEY) != "no"


def note_merged(connection: Connection, merged: bool) -> None:
    write_meta(connection, MERGED_KEY, "yes" if merged else "no")


def _records_of(connection: Connection, before: list[Sourced]) -> list[PostKey] | None:
    """The present record of each draft the changed files held (found by its body, as no
    post is merged: each record has its draft's body); None unless each draft has exactly
    one of its own."""
    wanted = {json.dumps(list(item.locations), ensure_ascii=False) for item in before}
    if len(wanted) != len(before):
        return None
    ids = [
        row.id
        for chunk in _chunks(sorted({item.body_hash for item in before}))
        for row in connection.execute(
            select(posts.c.id, posts.c.sources).where(
                posts.c.body_hash.in_(chunk), posts.c.removed_at.is_(None)
            )
        )
        if row.sources in wanted
    ]
    if len(ids) != len(before):
        return None
    return load_post_keys(connection, ids)


def _shared_with_others(
    connection: Connection, items: list[Sourced], keys: list[PostKey], taken: Taken
) -> bool:
    """Whether a record of another post (present or removed) has an id, slug, title or body
    of these drafts or of their records, or a slug ``name-N`` made from one of their slugs
    (a draft that asks for ``name`` may take the record of ``name``)."""
    own = {key.id for key in keys}
    ids = {item.draft.id for item in items if item.draft.id} | own
    slugs = {item.draft.slug for item in items if item.draft.slug} | {k.slug for k in keys}
    if any(taken.has_id(post_id) for post_id in ids - own):
        return True
    own_slugs = {key.slug for key in keys}
    if any(slug not in own_slugs for slug in _numbered_slugs(connection, slugs)):
        return True
    if any(taken.has_slug(slug) for slug in slugs - own_slugs):
        return True
    titles = {item.draft.title for item in items} | {key.title for key in keys}
    hashes = {item.body_hash for item in items} | {key.body_hash for key in keys}
    return any(_other_with(connection, posts.c.title, titles, own)) or any(
        _other_with(connection, posts.c.body_hash, hashes, own)
    )


def _numbered_slugs(connection: Connection, names: set[str]) -> Iterator[str]:
    """The records' slugs ``name-N`` made from one of ``names``."""
    for name in sorted(names):
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = select(posts.c.slug).where(posts.c.slug.like(f"{escaped}-%", escape="\\"))
        # LIKE may ignore case (SQLite's does): the name is compared exactly here.
        found = connection.execute(query).scalars()
        yield from (slug for slug in found if _numbered_from(slug) == name)


def _numbered_from(slug: str) -> str:
    """``name`` for a slug ``name-N``; "" for any other."""
    base, _, number = slug.rpartition("-")
    return base if base and number.isdigit() else ""


def _other_with(
    connection: Connection, column: Column[str], values: set[str], own: set[str]
) -> Iterator[bool]:
    for chunk in _chunks(sorted(values)):
        query = select(posts.c.id).where(column.in_(chunk))
        yield any(row.id not in own for row in connection.execute(query))


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]

