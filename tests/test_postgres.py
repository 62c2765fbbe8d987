"""PostgreSQL as the state database: what SQLite gives, a real PostgreSQL server gives too."""

from __future__ import annotations

import sys

import pytest

from gazette.errors import StateError
from gazette.store import Store

# Nothing listens on port 1 of loopback: opening the store fails after the driver loaded.
UNREACHABLE = "postgresql://gazette:hunter2@127.0.0.1:1/gazette"


# --- the URL and its driver (no server needed) ---------------------------------------


def test_bare_postgresql_url_uses_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    """postgresql:// means psycopg, not SQLAlchemy's psycopg2; the password is not shown."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # as on a machine without it
    with pytest.raises(StateError) as raised:
        Store(UNREACHABLE)
    message = str(raised.value)
    assert message.startswith("postgresql://gazette:***@127.0.0.1:1/gazette: cannot open")
    assert "hunter2" not in message


def test_explicit_driver_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """postgresql+psycopg2:// asks for psycopg2, and gets it or an error naming it."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(StateError, match=r"driver is not installed .*psycopg2"):
        Store(UNREACHABLE.replace("postgresql:", "postgresql+psycopg2:"))


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg the error says which extra installs it."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StateError, match=r"pip install 'gazette\[postgres\]'"):
        Store(UNREACHABLE)
