"""Rate limits kept in the state database, so that every serve process (and machine)
shares them: a fixed window of N hits, and one hit per interval.

Each check runs inside the caller's transaction after ``serialize``, so that two
processes never both read a window and both count themselves into it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from sqlalchemy import Connection, select, text, update

from gazette.digest.tables import rate_limits

# Any fixed 64-bit number: "gzsubs" in ASCII (the migrations' lock uses another).
_LOCK_KEY = 0x677A73756273


def serialize(connection: Connection) -> None:
    """Makes the rest of the transaction run one at a time across processes. Call it
    before any read: on SQLite it takes the write lock (BEGIN IMMEDIATE) unless the
    transaction holds it already; on PostgreSQL, a transaction-level advisory lock."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        # A transaction that already wrote holds the write lock: nothing to take then.
        if not getattr(connection.connection.dbapi_connection, "in_transaction", False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


class Hit(NamedTuple):
    """What counting a hit found: seconds to wait (0: allowed), and whether it opened a
    new window."""

    wait: float
    new_window: bool


def hit_window(connection: Connection, key: str, limit: int, seconds: float, now: float) -> Hit:
    """Counts one hit of ``key`` in its window of ``seconds``: allowed while within
    ``limit``, else how many seconds until the next window (the hit is not counted)."""
    start = math.floor(now / seconds) * seconds
    found = _row(connection, key)
    if found is None or found[0] != start:
        _store(connection, key, start, 1, found is None)
        return Hit(0.0, True)
    if found[1] >= limit:
        return Hit(start + seconds - now, False)
    _store(connection, key, start, found[1] + 1, False)
    return Hit(0.0, False)


def hit_interval(connection: Connection, key: str, seconds: float, now: float) -> float:
    """One hit of ``key`` per ``seconds``: 0 and counted when the last counted one is that
    old, else how many seconds until it is."""
    found = _row(connection, key)
    if found is not None and now - found[0] < seconds:
        return found[0] + seconds - now
    _store(connection, key, now, 1, found is None)
    return 0.0


def forget_before(connection: Connection, moment: float) -> None:
    """Drops windows that started before ``moment``: they limit nothing any more."""
    connection.execute(rate_limits.delete().where(rate_limits.c.window_start < moment))


def _row(connection: Connection, key: str) -> tuple[float, int] | None:
    query = select(rate_limits.c.window_start, rate_limits.c.hits).where(rate_limits.c.key == key)
    row = connection.execute(query).first()
    return (float(row[0]), int(row[1])) if row else None


def _store(connection: Connection, key: str, start: float, hits: int, new: bool) -> None:
    if new:
        connection.execute(rate_limits.insert().values(key=key, window_start=start, hits=hits))
    else:
        connection.execute(
            update(rate_limits)
            .where(rate_limits.c.key == key)
            .values(window_start=start, hits=hits)
        )
