"""Migrations: the state database's schema evolves one Alembic revision at a time.

Every Store brings its database up to date before anything uses it. A database at HEAD
costs one query; any other goes to `gazette.migrations.upgrade` (which imports Alembic,
so only then), where one process at a time:

- upgrades a database without gazette's tables from nothing, through every revision;
- takes a database from before migrations (gazette_meta says schema_version "2", there
  is no alembic_version) as being at the baseline, then upgrades it;
- upgrades a database at an older revision;
- refuses a database at a revision it does not know: a newer gazette upgraded it.

The revisions live in versions/; README.md ("Changing the schema") says how to add one.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

# The newest revision in versions/ (a test checks they agree): a new revision sets it.
HEAD = "0007"


def bring_up_to_date(engine: Engine, shown_url: str) -> None:
    """Upgrades the database to HEAD, or raises StateError when it cannot be used."""
    if stored_revision(engine) == HEAD:
        return
    from gazette.migrations.upgrade import upgrade  # noqa: PLC0415 - Alembic is slow to import

    upgrade(engine, shown_url)


def stored_revision(engine: Engine) -> str | None:
    """The revision the database records, or None (no version table, or no database yet:
    the upgrade finds out which, and says what is wrong)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version"))
            revision: str | None = found.scalar()
            return revision
    except SQLAlchemyError:
        return None
