"""The state database (SQLite by default, any SQLAlchemy URL): the engine, transactions
and gazette_meta's small values. Each stage keeps its own tables beside its code, on the
``metadata`` here; `gazette.migrations` brings a database's schema up to date when a
Store opens it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from gazette.errors import DuplicateError, StateError
from gazette.migrations import bring_up_to_date

metadata = MetaData()


def sorted_text(length: int | None = None) -> String:
    """A text column queries sort by: in byte order on every database, as SQLite sorts.

    PostgreSQL's default collation follows the server's locale, where "a" may come before
    "B" and punctuation may be skipped; "C" is byte order (code point order in UTF-8).
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


settings_table = Table(
    "gazette_meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)


class Store:
    """One state database. Every change happens inside ``transaction()``."""

    def __init__(self, url: str, *, threads: bool = False) -> None:
        self.url = url
        self.shown_url = shown_url(url)  # for messages: no password
        self.engine = _engine(url)
        # SQLite lets one transaction write at a time, and one that waits for another
        # sleeps in steps of up to 100 ms: a process whose threads write at once (serve)
        # has them wait here instead, woken the moment the other one commits. Other
        # processes still wait in SQLite's way.
        one_at_a_time = threads and self.engine.dialect.name == "sqlite"
        self._in_process: AbstractContextManager[object] = (
            threading.RLock() if one_at_a_time else nullcontext()
        )
        try:
            bring_up_to_date(self.engine, self.shown_url)
        except SQLAlchemyError as error:
            raise StateError(
                f"{self.shown_url}: cannot open the state database: {_reason(error)}"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing: an exception inside rolls every change back."""
        try:
            with self._in_process, self.engine.begin() as connection:
                yield connection
        except IntegrityError as error:
            raise DuplicateError(f"{self.shown_url}: {_reason(error)}") from None
        except SQLAlchemyError as error:
            raise StateError(f"{self.shown_url}: state database error: {_reason(error)}") from None

    def close(self) -> None:
        self.engine.dispose()


def shown_url(url: str) -> str:
    """A database URL fit for messages and logs: its password, if any, as ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _reason(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).split("\n")[0]


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(_with_driver(url))
    except ImportError as error:
        raise StateError(f"{shown_url(url)}: {_missing_driver(url, error)}") from None
    except (SQLAlchemyError, ValueError) as error:
        raise StateError(
            f"{shown_url(url)}: not a usable database URL ({error}); set [state] database, "
            "e.g. sqlite:///state/gazette.db"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# SQLAlchemy 2.0's driver for postgresql:// is psycopg2 (2.1's is psycopg); gazette's
# [postgres] extra installs psycopg, so a URL that names no driver gets that one.
_DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg"}


def _with_driver(url: str) -> str:
    """``url`` with gazette's driver when it names none (postgresql://… is psycopg's)."""
    scheme, separator, rest = url.partition("://")
    return _DEFAULT_DRIVERS.get(scheme, scheme) + separator + rest


def _missing_driver(url: str, error: ImportError) -> str:
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        return f"the PostgreSQL driver is not installed ({error}); pip install 'gazette[postgres]'"
    return f"its database driver is not installed ({error}); install it, or use sqlite:///"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


# --- small values ----------------------------------------------------------------------


def read_meta(connection: Connection, key: str) -> str | None:
    """A value kept in gazette_meta, or None."""
    query = select(settings_table.c.value).where(settings_table.c.key == key)
    value: str | None = connection.execute(query).scalar()
    return value


def write_meta(connection: Connection, key: str, value: str) -> None:
    connection.execute(settings_table.delete().where(settings_table.c.key == key))
    connection.execute(settings_table.insert().values(key=key, value=value))
