"""The feeds' table in the state database: every file the last build wrote."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Connection, Integer, String, Table, func, select

from gazette.store import metadata

# Every file `build` wrote: what it was made from, and how it looked on disk then.
feed_files = Table(
    "feed_files",
    metadata,
    Column("path", String, primary_key=True),  # relative to the output folder, with /
    Column("input_key", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),  # past 2**31: PostgreSQL needs BIGINT
)


@dataclass(frozen=True, slots=True)
class FeedFileRecord:
    input_key: str
    size: int
    mtime_ns: int


def count_feed_files(connection: Connection) -> int:
    """How many files the output folder holds by the last build's record."""
    return int(connection.execute(select(func.count()).select_from(feed_files)).scalar_one())


def load_feed_files(connection: Connection) -> dict[str, FeedFileRecord]:
    rows = connection.execute(select(feed_files))
    return {row.path: FeedFileRecord(row.input_key, row.size, row.mtime_ns) for row in rows}


def save_feed_files(connection: Connection, records: dict[str, FeedFileRecord]) -> None:
    """Replaces the list of files the last build left in the output folder."""
    connection.execute(feed_files.delete())
    rows = [
        {"path": path, "input_key": r.input_key, "size": r.size, "mtime_ns": r.mtime_ns}
        for path, r in sorted(records.items())
    ]
    for start in range(0, len(rows), 1000):
        connection.execute(feed_files.insert(), rows[start : start + 1000])
