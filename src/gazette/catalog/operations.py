"""What the rest of gazette asks of the catalog: sync it, check it, read its posts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from gazette.catalog.identity import post_url
from gazette.catalog.pages import missing_pages
from gazette.catalog.sources import generator_sites
from gazette.catalog.survey import Survey
from gazette.catalog.sync import SyncReport, sync_catalog
from gazette.catalog.tables import iter_post_rows, post_rows_by_id, removed_posts
from gazette.config import Settings
from gazette.errors import SourceError
from gazette.models import Figure, Finding, Post
from gazette.pinyin import Reader
from gazette.store import Store


class _RollBack(Exception):
    """Raised inside a transaction to undo it."""


def update_catalog(
    settings: Settings,
    store: Store,
    now: datetime,
    survey: Survey | None = None,
    titles: Reader | None = None,
) -> SyncReport:
    """Sync the catalog and commit; with any error in a source, write nothing and raise.
    ``survey`` and ``titles``: see sync_catalog."""
    with store.transaction() as connection:
        report = sync_catalog(settings, connection, now, survey=survey, titles=titles)
        if report.errors:
            first = report.errors[0]
            more = (
                f" (and {len(report.errors) - 1} more; run `gazette check`)"
                if len(report.errors) > 1
                else ""
            )
            raise SourceError(f"{first.location}: {first.message}{more}")
    return report


def check_catalog(settings: Settings, store: Store, now: datetime) -> list[Finding]:
    """Everything worth knowing about the catalog; committed only when nothing is an error."""
    findings: list[Finding] = []
    try:
        with store.transaction() as connection:
            report = sync_catalog(settings, connection, now)
            findings.extend(report.findings)
            findings.extend(_post_findings(settings, connection, now))
            findings.extend(_earlier_removals(connection, report))
            if not report.errors:
                findings.extend(_built_pages(settings, connection))
            if report.errors:
                raise _RollBack
    except _RollBack:
        pass
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (order[f.severity], f.location))


def _post_findings(settings: Settings, connection: Connection, now: datetime) -> Iterator[Finding]:
    for post in iter_posts(settings, connection, include_future=True):
        where = post.sources[0] if post.sources else post.id
        for warning in post.warnings:
            yield Finding("warning", warning, where)
        if not post.is_visible(now):
            yield Finding(
                "info",
                f"{post.title!r} is dated {post.published:%Y-%m-%d %H:%M}: it stays out of "
                "feeds and digests until then",
                where,
            )


def _built_pages(settings: Settings, connection: Connection) -> Iterator[Finding]:
    """Post URLs that are no page of a generator's built site (when one is at hand)."""
    posts = list(iter_posts(settings, connection))
    return missing_pages(generator_sites(settings), posts)


def _earlier_removals(connection: Connection, report: SyncReport) -> Iterator[Finding]:
    """Posts that left the catalog in an earlier run (this run's are already reported)."""
    reported = {f.location for f in report.findings}
    for row in removed_posts(connection):
        where = row["sources"][-1] if row["sources"] else ""
        if where not in reported:
            yield Finding(
                "info",
                f"post {row['title']!r} ({row['id']}) left the catalog on "
                f"{row['removed_at'][:10]}: no source has it any more",
                where,
            )


def iter_posts(
    settings: Settings,
    connection: Connection,
    now: datetime | None = None,
    include_future: bool = False,
) -> Iterator[Post]:
    """The catalog's posts, newest first (future ones only when asked)."""
    for row in iter_post_rows(connection):
        post = _post(settings, row)
        if include_future or now is None or post.is_visible(now):
            yield post


def load_posts(settings: Settings, connection: Connection, ids: Sequence[str]) -> list[Post]:
    """The posts with these ids, in the order asked (ids not in the catalog are skipped)."""
    rows = post_rows_by_id(connection, ids)
    return [_post(settings, rows[post_id]) for post_id in ids if post_id in rows]


def _post(settings: Settings, row: dict[str, Any]) -> Post:
    published = datetime.fromisoformat(row["published"])
    return Post(
        id=row["id"],
        slug=row["slug"],
        url=row["url"] or post_url(settings.site, row["id"], row["slug"], published),
        title=row["title"],
        published=published,
        updated=datetime.fromisoformat(row["updated"]),
        summary_html=row["summary_html"],
        summary_text=row["summary_text"],
        content_html=row["content_html"],
        content_text=row["content_text"],
        title_inferred=bool(row["title_inferred"]),
        tags=tuple(row["tags"]),
        series=row["series"],
        series_index=row["series_index"],
        figures=tuple(Figure(f["caption"], f["src"]) for f in row["figures"]),
        authors=tuple(row["authors"]),
        lang=row["lang"],
        sources=tuple(row["sources"]),
        warnings=tuple(row["warnings"]) + tuple(row["render_warnings"]),
    )


def post_as_json(post: Post) -> dict[str, Any]:
    """The fields of ``posts --json`` (and of a jsonl source)."""
    return {
        "id": post.id,
        "slug": post.slug,
        "url": post.url,
        "title": post.title,
        "title_inferred": post.title_inferred,
        "published": post.published.isoformat(),
        "updated": post.updated.isoformat(),
        "summary_html": post.summary_html,
        "summary_text": post.summary_text,
        "content_html": post.content_html,
        "content_text": post.content_text,
        "tags": list(post.tags),
        "series": post.series,
        "series_index": post.series_index,
        "figures": [{"caption": f.caption, "src": f.src} for f in post.figures],
        "authors": list(post.authors),
        "lang": post.lang,
        "sources": list(post.sources),
        "warnings": list(post.warnings),
    }
