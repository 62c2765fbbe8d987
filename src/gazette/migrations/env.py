"""Alembic's environment for gazette's state database.

gazette runs it (``gazette.migrations.upgrade``) on a connection of its own, inside the
transaction that holds the upgrade lock. A developer runs it through the ``alembic``
command (configured in pyproject.toml), naming a database with ``-x database=URL``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from gazette.migrations.schema import declared_for, metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(_database_argument())
    try:
        with engine.connect() as own:
            _run_on(own)
            own.commit()
    finally:
        engine.dispose()


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it: autogenerate writes batch operations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=declared_for(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def _database_argument() -> str:
    database = context.get_x_argument(as_dictionary=True).get("database", "")
    if not database:
        raise SystemExit(
            "alembic: name the state database: -x database=sqlite:///state/gazette.db "
            "(a SQLAlchemy URL, e.g. postgresql+psycopg://user@host/dbname)"
        )
    return database


run()
