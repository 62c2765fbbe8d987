"""The catalog's tables in the state database (posts, converted formulas, fetched feeds)
and the queries on them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    update,
)

from gazette.models import Formula
from gazette.store import metadata, sorted_text

posts = Table(
    "posts",
    metadata,
    Column("id", sorted_text(), primary_key=True),
    Column("slug", String, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("title_inferred", Boolean, nullable=False, default=False),
    Column("published", String(40), nullable=False),  # RFC 3339 with its offset
    # The same instant in UTC: texts with different offsets do not sort by time.
    Column("published_utc", sorted_text(40), nullable=False, index=True),
    Column("updated", String(40), nullable=False),
    Column("summary_html", Text, nullable=False),
    Column("summary_text", Text, nullable=False),
    Column("content_html", Text, nullable=False),
    Column("content_text", Text, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list
    Column("authors", Text, nullable=False, server_default="[]"),  # JSON list of names
    Column("url", Text, nullable=False, server_default=""),  # a generator's; else site.post_url
    Column("series", Text, nullable=False),
    Column("series_index", Integer),
    Column("figures", Text, nullable=False),  # JSON list of {caption, src}
    Column("lang", String, nullable=False),  # as the source wrote it: no length limit
    Column("sources", Text, nullable=False),  # JSON list of path:line
    Column("warnings", Text, nullable=False),  # JSON list: the reader's and the renderer's
    Column("render_warnings", Text, nullable=False),
    Column("render_key", String(64), nullable=False),
    Column("body_hash", String(64), nullable=False, index=True),
    Column("content_hash", String(64), nullable=False),
    Column("record_hash", String(64), nullable=False),
    Column("first_seen", sorted_text(40), nullable=False),
    Column("last_seen", String(40), nullable=False),  # when its source was last read
    Column("removed_at", String(40), index=True),
)
# What a build plans from, newest first, read from the index alone (revision 0006 says
# why SQLite only).
Index(
    "ix_posts_heads",
    posts.c.removed_at,
    posts.c.published_utc.desc(),
    posts.c.id,
    posts.c.published,
    posts.c.record_hash,
    posts.c.series,
    posts.c.tags,
).ddl_if(dialect="sqlite")
# A post's title, looked up by a sync of a few changed files (revision 0007). On
# PostgreSQL a hash index: gazette.migrations.schema declares it so, because naming a
# dialect's option loads that dialect, which every run on SQLite would pay for.
TITLE_INDEX = Index("ix_posts_title", posts.c.title)

formulas = Table(
    "formulas",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("tex", Text, nullable=False),
    Column("display", Boolean, nullable=False),
    Column("mathml", Text, nullable=False),
    Column("error", Text, nullable=False),
)

fetches = Table(
    "fetches",
    metadata,
    Column("url", String, primary_key=True),
    Column("etag", String),
    Column("last_modified", String),
    Column("body", LargeBinary, nullable=False),
)

# What each source file gave at the last sync (its drafts without their bodies), and how
# the file looked then: an unchanged file is not read again (gazette.catalog.incremental).
source_files = Table(
    "source_files",
    metadata,
    Column("source", Integer, primary_key=True),  # the number of its [[sources]] table
    Column("path", sorted_text(), primary_key=True),  # a file's path, or a feed's URL
    Column("fingerprint", String(64), nullable=False),  # the settings and code it was read with
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("checked", Float, nullable=False),  # when it was read, in seconds since the epoch
    Column("drafts", Text, nullable=False),  # JSON
    Column("findings", Text, nullable=False),  # JSON
)


@dataclass(frozen=True, slots=True)
class PostKey:
    """What matching needs of a stored post, without its (large) rendered text."""

    id: str
    slug: str
    title: str
    published: str
    updated: str
    body_hash: str
    render_key: str
    content_hash: str
    record_hash: str
    sources: str  # JSON list
    removed: bool

    @property
    def last_source(self) -> str:
        return (json.loads(self.sources) or [""])[-1]  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class CachedFetch:
    etag: str | None
    last_modified: str | None
    body: bytes


# --- posts ---------------------------------------------------------------------------


def load_post_keys(connection: Connection, ids: Sequence[str] | None = None) -> list[PostKey]:
    """Oldest record first: of two that share a date and title, an edit continues the older
    (in a fixed order on every database; PostgreSQL returns unordered rows as they lie).
    Every record, or those of ``ids``."""
    names = [name for name in PostKey.__slots__ if name not in ("removed", "sources")]
    columns = [posts.c[name] for name in names]
    query = select(*columns, posts.c.sources, posts.c.removed_at, posts.c.first_seen)
    if ids is None:
        rows = list(connection.execute(query.order_by(posts.c.first_seen, posts.c.id)))
    else:
        rows = [
            row
            for start in range(0, len(ids), 500)
            for row in connection.execute(query.where(posts.c.id.in_(ids[start : start + 500])))
        ]
        rows.sort(key=lambda row: (row[-1], row[0]))  # code point order: the "C" collation
    return [
        PostKey(
            **dict(zip(names, row, strict=False)), sources=row[-3], removed=row[-2] is not None
        )
        for row in rows
    ]


def insert_posts(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        connection.execute(posts.insert(), [_encoded(row) for row in rows])


def update_posts(connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        values = _encoded(row)
        connection.execute(update(posts).where(posts.c.id == values.pop("id")).values(**values))


def mark_seen(connection: Connection, ids: Iterable[str], now: str) -> None:
    """These posts were seen now; a returning post is no longer removed."""
    chunk: list[str] = []
    for post_id in ids:
        chunk.append(post_id)
        if len(chunk) == 500:
            _mark_seen_chunk(connection, chunk, now)
            chunk = []
    _mark_seen_chunk(connection, chunk, now)


def _mark_seen_chunk(connection: Connection, ids: list[str], now: str) -> None:
    if ids:
        connection.execute(
            update(posts).where(posts.c.id.in_(ids)).values(last_seen=now, removed_at=None)
        )


def mark_removed(connection: Connection, ids: Sequence[str], now: str) -> None:
    for start in range(0, len(ids), 500):
        connection.execute(
            update(posts).where(posts.c.id.in_(ids[start : start + 500])).values(removed_at=now)
        )


def iter_post_rows(connection: Connection, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Present posts, newest first, decoded; streamed so memory stays flat."""
    for row in connection.execute(_present_posts(posts.c, batch)):
        yield _decoded(dict(row._mapping))


def _present_posts(columns: Iterable[Any], batch: int) -> Any:
    """Posts not removed, newest first (ties by id), streamed ``batch`` rows at a time."""
    return (
        select(*columns)
        .where(posts.c.removed_at.is_(None))
        .order_by(posts.c.published_utc.desc(), posts.c.id)
        .execution_options(yield_per=batch)
    )


class PostHead(NamedTuple):
    """A post as a build plans from it: no rendered text."""

    id: str
    record_hash: str
    tags: tuple[str, ...]
    series: str


def iter_post_heads(connection: Connection, now: datetime, batch: int = 2000) -> Iterator[PostHead]:
    """The head of every post published by ``now``, newest first."""
    columns = [posts.c[name] for name in ("id", "published", "tags", "series", "record_hash")]
    tag_lists: dict[str, tuple[str, ...]] = {}  # posts share their tags' JSON text
    published_by_now = False
    for post_id, published, tags, series, record_hash in connection.execute(
        _present_posts(columns, batch)
    ):
        # Newest first: once one post is out, every post after it is.
        if not published_by_now and datetime.fromisoformat(published) > now:
            continue
        published_by_now = True
        if tags not in tag_lists:
            tag_lists[tags] = tuple(json.loads(tags))
        yield PostHead(post_id, record_hash, tag_lists[tags], series)


def post_rows_by_id(connection: Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        query = select(posts).where(posts.c.id.in_(ids[start : start + 500]))
        for row in connection.execute(query):
            found[row.id] = _decoded(dict(row._mapping))
    return found


def present_hashes(connection: Connection, ids: Sequence[str]) -> dict[str, str]:
    """The record hash of each of ``ids`` still in the catalog (removed ones are left out)."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        query = select(posts.c.id, posts.c.record_hash).where(
            posts.c.id.in_(ids[start : start + 500]), posts.c.removed_at.is_(None)
        )
        found.update({row.id: row.record_hash for row in connection.execute(query)})
    return found


def removed_posts(connection: Connection) -> list[dict[str, Any]]:
    query = select(posts.c.id, posts.c.title, posts.c.sources, posts.c.removed_at).where(
        posts.c.removed_at.is_not(None)
    )
    return [_decoded(dict(row._mapping)) for row in connection.execute(query)]


_JSON_COLUMNS = ("tags", "authors", "figures", "sources", "warnings", "render_warnings")


def _encoded(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v, ensure_ascii=False) if k in _JSON_COLUMNS else v for k, v in row.items()
    }


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.loads(v) if k in _JSON_COLUMNS else v for k, v in row.items()}


# --- formulas, fetches ----------------------------------------------------------------


def load_formulas(connection: Connection, keys: Iterable[str]) -> dict[str, Formula]:
    """The stored conversions of the formulas of these keys (formula_key), by key."""
    found: dict[str, Formula] = {}
    wanted = list(set(keys))
    for start in range(0, len(wanted), 500):
        query = select(formulas).where(formulas.c.key.in_(wanted[start : start + 500]))
        for row in connection.execute(query):
            found[row.key] = Formula(row.tex, row.display, row.mathml, row.error)
    return found


def save_formulas(connection: Connection, converted: Mapping[str, Formula]) -> None:
    """Stores these conversions, by their keys (formula_key)."""
    rows = [
        {"key": key, "tex": f.tex, "display": f.display, "mathml": f.mathml, "error": f.error}
        for key, f in converted.items()
    ]
    if rows:
        connection.execute(formulas.insert(), rows)


def cached_fetch(connection: Connection, url: str) -> CachedFetch | None:
    row = connection.execute(select(fetches).where(fetches.c.url == url)).first()
    return CachedFetch(row.etag, row.last_modified, row.body) if row else None


def save_fetch(connection: Connection, url: str, fetch: CachedFetch) -> None:
    connection.execute(fetches.delete().where(fetches.c.url == url))
    connection.execute(
        fetches.insert().values(
            url=url, etag=fetch.etag, last_modified=fetch.last_modified, body=fetch.body
        )
    )


def next_publication(connection: Connection, after: datetime) -> datetime | None:
    """When the first post dated after ``after`` (one not shown yet) comes due."""
    query = select(func.min(posts.c.published_utc)).where(
        posts.c.removed_at.is_(None), posts.c.published_utc > after.astimezone(UTC).isoformat()
    )
    found = connection.execute(query).scalar()
    return datetime.fromisoformat(found) if found else None


# --- source files ---------------------------------------------------------------------


class FileRecord(NamedTuple):  # a tuple: a sync loads one per file
    """How a source file looked when it was last read, and what reading it found."""

    fingerprint: str
    size: int
    mtime_ns: int
    content_hash: str
    checked: float
    findings: str  # JSON


FileKey = tuple[int, str]  # (number of the [[sources]] table, path or URL)


def load_file_records(connection: Connection) -> dict[FileKey, FileRecord]:
    """Every source file's record, without the drafts."""
    columns = [source_files.c[name] for name in ("source", "path", *FileRecord._fields)]
    return {(row[0], row[1]): FileRecord(*row[2:]) for row in connection.execute(select(*columns))}


def load_file_drafts(
    connection: Connection, keys: Sequence[FileKey] | None = None
) -> dict[FileKey, str]:
    """Every source file's drafts (JSON), as the last sync stored them; or those of ``keys``."""
    query = select(source_files.c.source, source_files.c.path, source_files.c.drafts)
    if keys is None:
        return {(row[0], row[1]): row[2] for row in connection.execute(query)}
    found: dict[FileKey, str] = {}
    for source, path in keys:
        where = query.where(source_files.c.source == source, source_files.c.path == path)
        found.update({(row[0], row[1]): row[2] for row in connection.execute(where)})
    return found


def save_file_records(
    connection: Connection, rows: Sequence[dict[str, Any]], replacing: Sequence[FileKey]
) -> None:
    """Stores the records of these files (dicts of every column), in place of the stored
    records of ``replacing`` (those of the rows' files that have one)."""
    delete_file_records(connection, replacing)
    if rows:
        connection.execute(source_files.insert(), list(rows))


def note_files_checked(connection: Connection, checked: dict[FileKey, float]) -> None:
    """Records when these unchanged files were last compared by their bytes."""
    if not checked:
        return
    statement = source_files.update().where(
        source_files.c.source == bindparam("file_source"),
        source_files.c.path == bindparam("file_path"),
    )
    rows = [{"file_source": n, "file_path": p, "checked": at} for (n, p), at in checked.items()]
    connection.execute(statement, rows)


def delete_file_records(connection: Connection, keys: Sequence[FileKey]) -> None:
    for source, path in keys:
        connection.execute(
            source_files.delete().where(
                source_files.c.source == source, source_files.c.path == path
            )
        )


def count_present_posts(connection: Connection) -> int:
    query = select(func.count()).select_from(posts).where(posts.c.removed_at.is_(None))
    return int(connection.execute(query).scalar() or 0)
