"""Upgrading a state database with Alembic, one process at a time.

Everything happens in one transaction that first takes a lock, so a second process
starting at the same moment waits, then finds the database at HEAD and does nothing:

- PostgreSQL: a transaction-level advisory lock (DDL is transactional there, and the
  lock is released by the commit or rollback, even if the process dies);
- SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read
  (SQLite's DDL is transactional too; a waiting process waits out busy_timeout);
- any other database: only the transaction (one process at a time should upgrade it).

The lease cannot serve: its table is part of the schema being upgraded.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from gazette.errors import StateError
from gazette.migrations import HEAD

# gazette_meta's schema_version in every gazette from before migrations: the schema the
# baseline revision describes.
LEGACY_SCHEMA = "2"
BASELINE = "0001"
# Any fixed 64-bit number serves as the advisory lock's key: this is "gazette" in ASCII.
_LOCK_KEY = 0x67617A65747465
_HERE = Path(__file__).resolve().parent
log = logging.getLogger("gazette.migrations")


def upgrade(engine: Engine, shown_url: str) -> None:
    """Brings the database to HEAD, or raises StateError naming ``shown_url``."""
    config = alembic_config()
    with engine.connect() as connection, connection.begin():
        _lock(connection)
        found = MigrationContext.configure(connection).get_current_revision()
        if found == HEAD:
            return  # another process upgraded it while this one waited
        _check_known(found, ScriptDirectory.from_config(config), shown_url)
        before = _describe(connection, found, shown_url)
        config.attributes["connection"] = connection
        command.upgrade(config, HEAD)
    log.info("%s: state database %s, now at schema revision %s", shown_url, before, HEAD)


def alembic_config() -> Config:
    """Alembic's settings for gazette's revisions (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(_HERE))
    return config


def _lock(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _check_known(found: str | None, script: ScriptDirectory, shown_url: str) -> None:
    known = {revision.revision for revision in script.walk_revisions()}
    if found is not None and found not in known:
        raise StateError(
            f"{shown_url}: the state database is at schema revision {found}, which this "
            f"gazette does not know (it knows up to {HEAD}): a newer gazette upgraded it; "
            "upgrade gazette to use this database"
        )


def _describe(connection: Connection, found: str | None, shown_url: str) -> str:
    """What the database was, for the log line; refuses a schema from before migrations
    other than the baseline's.

    A database from before migrations is at the baseline: the baseline revision makes
    only the tables it lacks (those its gazette had not needed yet).
    """
    if found is not None:
        return f"upgraded from schema revision {found}"
    tables = inspect(connection).get_table_names()
    query = text("SELECT value FROM gazette_meta WHERE key = 'schema_version'")
    schema = connection.execute(query).scalar() if "gazette_meta" in tables else None
    if schema is None:
        return "created"
    if schema != LEGACY_SCHEMA:
        raise StateError(
            f"{shown_url}: state schema {schema} is not {LEGACY_SCHEMA}, the schema "
            "migrations start from; use the gazette version that wrote it, or a new database"
        )
    return f"from before migrations (schema {LEGACY_SCHEMA}) taken as revision {BASELINE}"
