"""Migrations: a database made by an older gazette is brought up to date keeping every
record, a new one is made by the revisions, a newer one is refused."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from gazette.errors import StateError
from gazette.migrations import HEAD, bring_up_to_date
from gazette.migrations.schema import declared_for, metadata
from gazette.migrations.upgrade import alembic_config
from gazette.store import Store, shown_url

from .conftest import ROOT

# The last commit before migrations: its gazette makes the databases to upgrade.
BEFORE_MIGRATIONS = "c17f305"
# What of that commit runs its example: templates/ is where src/gazette/templates links.
OLD_FOLDERS = ("src", "templates", "config", "example")
# What each kept table is compared on: every column, but those a later sync rewrites.
KEPT: dict[str, str] = {
    "posts": "id, slug, title, published, updated, first_seen",
    "subscribers": "*",
    "digest_issues": "*",
    "digest_issue_posts": "*",
    # Revision 0003 added "outcome" (empty for every delivery made before it).
    "digest_deliveries": "id, issue, subscriber, recipient, status, attempts, provider_id, "
    "last_error, changed",
}


@pytest.fixture(scope="session")
def old_gazette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gazette of the last commit before migrations (src, templates, config, example), unpacked
    from git into a folder; skips where git or that commit is not at hand."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: cannot check out the gazette before migrations")
    found = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{BEFORE_MIGRATIONS}^{{commit}}"],
        capture_output=True,
    )
    if found.returncode != 0:
        pytest.skip(f"commit {BEFORE_MIGRATIONS} is not in this clone (a shallow clone?)")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE_MIGRATIONS, *OLD_FOLDERS],
        capture_output=True,
        check=True,
    ).stdout
    folder = tmp_path_factory.mktemp("before-migrations")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def gazette(source: Path, checkout: Path, url: str, *arguments: str) -> str:
    """Runs ``python -m gazette`` of the code in ``source`` on the example of
    ``checkout`` with its state in ``url``; returns stdout, failing on a non-zero exit."""
    result = _run_gazette(source, checkout, url, *arguments)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _run_gazette(
    source: Path, checkout: Path, url: str, *arguments: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    environ |= {"PYTHONPATH": str(source), "GAZETTE_STATE_DATABASE": url}
    config = checkout / "config" / "gazette.toml"
    return subprocess.run(
        [sys.executable, "-m", "gazette", "--config", str(config), *arguments],
        cwd=checkout, env=environ, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def engine(state_url: str) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on the state database, for looking without gazette."""
    found = create_engine(make_url(state_url).set(drivername=_driver(state_url)))
    yield found
    found.dispose()


def _driver(url: str) -> str:
    name = make_url(url).drivername
    return "postgresql+psycopg" if name == "postgresql" else name


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The kept tables' rows, in a fixed order."""
    with engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(
                text(f"SELECT {columns} FROM {table} ORDER BY 1, 2")  # noqa: S608 - our names
            )]
            for table, columns in KEPT.items()
        }  # fmt: skip


def revisions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def differences(engine: Engine) -> list[Any]:
    """How the database's schema differs from the tables the code declares for it."""
    with engine.connect() as connection:
        opts = {"compare_type": True, "include_object": declared_for(engine.dialect.name)}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, metadata))


@pytest.mark.slow
def test_database_before_migrations_is_upgraded_keeping_everything(
    old_gazette: Path, state_url: str, engine: Engine
) -> None:
    """The previous gazette's posts, subscribers, issue and deliveries survive the upgrade
    that `status` does, and `build` works on the result, which is the schema at HEAD."""
    old = old_gazette / "src"
    gazette(old, old_gazette, state_url, "subscribers", "import", "example/subscribers.csv")
    gazette(old, old_gazette, state_url, "publish")
    before = snapshot(engine)
    assert len(before["subscribers"]) == 3
    assert len(before["digest_issues"]) == 1
    assert [row[4] for row in before["digest_deliveries"]] == ["sent"] * 3
    assert before["posts"]
    with engine.connect() as connection:
        assert "alembic_version" not in engine.dialect.get_table_names(connection)

    new = ROOT / "src"
    assert "3 sent, 0 failed" in gazette(new, old_gazette, state_url, "status")
    gazette(new, old_gazette, state_url, "build")
    assert snapshot(engine) == before
    assert revisions(engine) == [HEAD]
    assert differences(engine) == []


def test_new_database_is_made_by_the_revisions(state_url: str, engine: Engine) -> None:
    """A new database is upgraded from nothing to HEAD: the schema the code declares,
    with the schema_version older gazettes check."""
    Store(state_url).close()
    assert revisions(engine) == [HEAD]
    assert differences(engine) == []
    with engine.connect() as connection:
        query = text("SELECT value FROM gazette_meta WHERE key = 'schema_version'")
        assert connection.execute(query).scalar() == "2"


def test_a_title_is_looked_up_in_an_index(state_url: str, engine: Engine) -> None:
    """The titles a sync of a few changed files looks up are read from an index, not from
    every post's row (a hash index on PostgreSQL, where a btree entry's size is capped)."""
    Store(state_url).close()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_posts_title'")
            assert "USING hash (title)" in str(connection.execute(query).scalar())
            return
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM posts WHERE title IN ('a', 'b')"
        ).fetchall()
    assert any("USING INDEX ix_posts_title" in str(row[-1]) for row in plan)


def test_database_at_head_costs_one_query(state_url: str) -> None:
    """Bringing a database at HEAD up to date runs one statement, a cheap read."""
    store = Store(state_url)
    statements: list[str] = []

    def record(*arguments: Any) -> None:
        statements.append(arguments[2])

    event.listen(store.engine, "before_cursor_execute", record)
    bring_up_to_date(store.engine, store.shown_url)
    event.remove(store.engine, "before_cursor_execute", record)
    assert statements == ["SELECT version_num FROM alembic_version"]
    store.close()


def test_upgrading_twice_is_a_no_op(state_url: str, engine: Engine) -> None:
    """A second upgrade of a database at HEAD (as a process that waited on the lock
    makes) finds it done: same revision, same tables, no error."""
    from gazette.migrations.upgrade import upgrade  # noqa: PLC0415 - the slow path itself

    Store(state_url).close()
    with engine.connect() as connection:
        tables = sorted(engine.dialect.get_table_names(connection))
    upgrade(engine, shown_url(state_url))
    with engine.connect() as connection:
        assert sorted(engine.dialect.get_table_names(connection)) == tables
    assert revisions(engine) == [HEAD]


@pytest.mark.slow
def test_processes_upgrading_at_once_do_not_collide(state_url: str, engine: Engine) -> None:
    """Four processes opening one new database at the same moment all succeed, and the
    database ends at HEAD once."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    script = "import sys; from gazette.store import Store; Store(sys.argv[1]).close()"
    started = [
        subprocess.Popen(
            [sys.executable, "-c", script, state_url], env=environ, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=120)[1].decode() for process in started]
    failures = [e for e, process in zip(errors, started, strict=True) if process.returncode]
    assert failures == []
    assert revisions(engine) == [HEAD]
    assert differences(engine) == []


def test_newer_database_is_refused(tmp_path: Path, state_url: str, engine: Engine) -> None:
    """A revision this gazette does not know stops every command with one line that names
    the database (password hidden) and says to upgrade gazette; exit code 1."""
    Store(state_url).close()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "gazette.toml").write_text(
        '[site]\ntitle = "T"\nurl = "https://t.example.org/"\n'
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n',
        encoding="utf-8",
    )
    result = _run_gazette(ROOT / "src", tmp_path, state_url, "status")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"gazette: error: {shown_url(state_url)}: ")
    assert "schema revision 9999" in result.stderr
    assert "upgrade gazette" in result.stderr
    password = make_url(state_url).password
    assert not password or str(password) not in result.stderr


def test_older_schema_before_migrations_is_refused(tmp_path: Path) -> None:
    """A database of schema 1 (older than the baseline) is refused as before, unchanged."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as connection:
        connection.execute(text("CREATE TABLE gazette_meta (key VARCHAR PRIMARY KEY, value TEXT)"))
        connection.execute(text("INSERT INTO gazette_meta VALUES ('schema_version', '1')"))
    with pytest.raises(StateError, match=r"old\.db: state schema 1 is not 2"):
        Store(url)
    with old.connect() as connection:
        assert old.dialect.get_table_names(connection) == ["gazette_meta"]
    old.dispose()


def test_head_names_the_newest_revision() -> None:
    """gazette.migrations.HEAD is the only head of versions/ (a new revision updates it)."""
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [HEAD]


@pytest.mark.parametrize(
    "module",
    ["gazette.catalog.tables", "gazette.feeds.tables", "gazette.digest.tables",
     "gazette.scheduler.tables", "gazette.lease", "gazette.migrations.schema"],
)  # fmt: skip
def test_each_stage_tables_import_alone(module: str) -> None:
    """Each module of tables imports in a fresh interpreter (no circular import)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], env=environ, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_declared_title_index_is_a_hash_index_on_postgresql_alone() -> None:
    """The schema that revisions are compared with declares revision 0007's title index as
    a hash index on PostgreSQL and as a plain one elsewhere."""
    index = next(i for i in metadata.tables["posts"].indexes if i.name == "ix_posts_title")
    assert "USING hash" in str(CreateIndex(index).compile(dialect=postgresql.dialect()))
    assert "USING" not in str(CreateIndex(index).compile(dialect=sqlite.dialect()))
