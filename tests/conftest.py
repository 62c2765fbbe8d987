"""Shared fixtures: a site folder in tmp_path with its own config and state database,
and state databases on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from gazette.catalog import update_catalog
from gazette.config import Settings, load_settings
from gazette.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# A PostgreSQL URL whose role may create databases; .ci/run starts a server and sets it.
POSTGRES_VARIABLE = "TEST_POSTGRES_URL"

SITE = """\
[site]
title = "Test Site"
url = "https://test.example.org/"
language = "zh-CN"
timezone = "Asia/Shanghai"

[state]
database = "sqlite:///state/gazette.db"
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GAZETTE_* variable of the caller leaks into a test."""
    for name in list(os.environ):
        if name.startswith("GAZETTE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def site(tmp_path: Path) -> Callable[..., Settings]:
    """Writes a config with the given [[sources]] TOML (and extra TOML) and loads it."""

    def make(sources: str, extra: str = "") -> Settings:
        config = tmp_path / "gazette.toml"
        config.write_text(
            SITE + textwrap.dedent(sources) + textwrap.dedent(extra), encoding="utf-8"
        )
        return load_settings(config)

    return make


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Writes a file under the site folder, creating folders as needed."""

    def make(relative: str, content: str | bytes) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    return make


def sync(settings: Settings, now: datetime = NOW) -> Store:
    """Syncs the catalog of ``settings`` and returns its store."""
    store = Store(settings.database_url)
    update_catalog(settings, store, now)
    return store


# --- state databases -----------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on $TEST_POSTGRES_URL (skips without it, fails when CI=true)."""
    url = os.environ.get(POSTGRES_VARIABLE, "")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_VARIABLE} is not set; .ci/run starts PostgreSQL and sets it")
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_VARIABLE} (see .ci/run)")
    driver = make_url(url).set(drivername="postgresql+psycopg")
    engine = create_engine(driver, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


_END_CONNECTIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = :name AND usename = current_user"
)


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test (dropped after it), as a URL."""
    with new_database(postgres_admin) as url:
        yield url


@contextmanager
def new_database(postgres_admin: Engine) -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped on leaving), as a URL.

    It sorts text as an English-language server does (ICU en-US: "a" before "B"), so a
    query whose order depends on the server's collation shows up here, not in production.
    """
    name = f"gazette_test_{uuid.uuid4().hex[:16]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        ))  # fmt: skip
    try:
        url = postgres_admin.url.set(drivername="postgresql", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as connection:
            # Connections the test left open are ended first. (DROP … WITH (FORCE) would
            # also end autovacuum's, which this role may not; a plain DROP waits for it.)
            connection.execute(_END_CONNECTIONS, {"name": name})
            connection.execute(text(f"DROP DATABASE {name}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A state database URL: once an SQLite file in tmp_path, once a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    return str(request.getfixturevalue("postgres_url"))
