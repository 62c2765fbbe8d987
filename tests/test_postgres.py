"""PostgreSQL as the state database: what SQLite gives, a real PostgreSQL server gives too."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from gazette.config import Settings, load_settings
from gazette.digest import ledger
from gazette.digest.subscribers import add_subscriber, import_csv, list_subscribers
from gazette.digest.tables import deliveries
from gazette.errors import StateError
from gazette.feeds import workers as feeds_workers
from gazette.store import Store

from .conftest import NOW, ROOT
from .digest.conftest import run_cli
from .feedkit import build, catalog_json, snapshot, watch_workers

# Nothing listens on port 1 of loopback: opening the store fails after the driver loaded.
UNREACHABLE = "postgresql://gazette:hunter2@127.0.0.1:1/gazette"


def example_settings(tmp_path: Path, database: str, **feeds: str) -> Settings:
    """The bundled example on ``database``, its feeds and outbox in ``tmp_path``; ``feeds``:
    [feeds] settings to override."""
    environ = {
        "GAZETTE_STATE_DATABASE": database,
        "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public"),
        "GAZETTE_MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    environ.update({f"GAZETTE_FEEDS_{key.upper()}": value for key, value in feeds.items()})
    return load_settings(ROOT / "config" / "gazette.toml", environ=environ)


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


# --- on a real server ----------------------------------------------------------------


def test_example_feeds_are_the_bytes_sqlite_builds(postgres_url: str, tmp_path: Path) -> None:
    """The bundled example's feeds built on PostgreSQL equal SQLite's, byte for byte."""
    on_sqlite = example_settings(tmp_path / "sqlite", f"sqlite:///{tmp_path / 'state.db'}")
    on_postgres = example_settings(tmp_path / "postgres", postgres_url)
    build(on_sqlite)
    first = build(on_postgres)
    built = {name: data for name, (data, _) in snapshot(tmp_path / "postgres/public").items()}
    assert first.written
    assert not first.warnings
    assert built == {name: data for name, (data, _) in snapshot(tmp_path / "sqlite/public").items()}
    again = build(on_postgres)  # the stored file list (sizes, mtimes) reads back
    assert (again.written, again.kept) == ([], len(built))


def test_archive_pages_rendered_by_workers_read_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes that render archive pages read their posts from PostgreSQL: the
    bytes SQLite's build renders in its own process."""
    on_sqlite = example_settings(tmp_path / "sqlite", f"sqlite:///{tmp_path / 'state.db'}",
                                 archive_size="1")  # fmt: skip
    on_postgres = example_settings(tmp_path / "postgres", postgres_url, archive_size="1")
    monkeypatch.setattr(feeds_workers, "PARALLEL_PAGES", 10**6)
    build(on_sqlite)
    workers = watch_workers(monkeypatch)
    build(on_postgres)
    built = {name: data for name, (data, _) in snapshot(tmp_path / "postgres/public").items()}
    pages = [name for name in built if name.startswith("archive/")]
    assert workers.started == [len(pages)]
    assert workers.fell_back == []
    assert len(pages) > 2
    assert built == {name: data for name, (data, _) in snapshot(tmp_path / "sqlite/public").items()}


def test_digest_reaches_every_subscriber_once(
    postgres_url: str, tmp_path: Path, write: Callable[[str, str], Path]
) -> None:
    """Subscribers imported and the example digest sent through the CLI: one .eml each."""
    settings = example_settings(tmp_path, postgres_url)
    readers = ["ann@example.org", "bob@example.com", "carol@example.net", "dan@example.org"]
    env = {"GAZETTE_STATE_DATABASE": postgres_url, "GAZETTE_MAIL_OUTBOX": str(tmp_path / "outbox"),
           "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public")}  # the issue archive goes there
    imported = run_cli(
        settings.config_path, "subscribers", "import", str(write("list.csv", "\n".join(readers))),
        env=env,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    sent = run_cli(settings.config_path, "digest", "--send", env=env)
    assert sent.returncode == 0, sent.stderr
    assert "4 sent, 0 failed, 0 uncertain" in sent.stdout
    again = run_cli(settings.config_path, "digest", "--send", env=env)
    assert "went out already" in again.stdout, again.stderr
    outbox = sorted(path.name for path in (tmp_path / "outbox").rglob("*.eml"))
    assert outbox == sorted(f"{reader}.eml" for reader in readers)
    store = Store(postgres_url)
    with store.transaction() as connection:
        rows = connection.execute(select(deliveries.c.status, deliveries.c.attempts)).all()
    store.close()
    assert sorted(rows) == [("sent", 1)] * len(readers)


def test_concurrent_claims_never_share_a_delivery(postgres_url: str) -> None:
    """Two senders claiming from one issue at once get disjoint rows, and neither waits."""
    store = Store(postgres_url)
    with store.transaction() as connection:
        for number in range(6):
            add_subscriber(connection, f"reader{number}@example.org", "", NOW)
        issue = ledger.create_issue(connection, "P1", "Subject", ["post"], NOW)
    second: list[ledger.Claimed] = []

    def claim_in_another_transaction() -> None:
        with store.transaction() as other:
            second.extend(ledger.claim_batch(other, issue.number, 4, NOW))

    try:
        with store.transaction() as connection:
            first = ledger.claim_batch(connection, issue.number, 4, NOW)
            sender = threading.Thread(target=claim_in_another_transaction)
            sender.start()
            sender.join(timeout=5)
            held_up = sender.is_alive()  # still waiting for the first's uncommitted rows
        sender.join()
    finally:
        store.close()
    assert not {c.id for c in first} & {c.id for c in second}
    assert (len(first), len(second), held_up) == (4, 2, False)


# --- on both databases ---------------------------------------------------------------

SAME_DAY = """\
---
id: '{id}'
title: Post {id}
date: 2026-11-20T08:00:00+08:00
---

About {id}.
"""


def test_ties_sort_in_byte_order(
    state_url: str,
    site: Callable[..., Settings],
    write: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Posts of the same instant come in id order by bytes, whatever the server's locale."""
    ids = ["alpha", "a_b", "Zeta", "a-b"]
    for number, post_id in enumerate(ids):
        write(f"posts/{number}.md", SAME_DAY.format(id=post_id))
    monkeypatch.setenv("GAZETTE_STATE_DATABASE", state_url)
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    build(settings)
    assert [post["id"] for post in catalog_json(settings)] == ["Zeta", "a-b", "a_b", "alpha"]


def test_subscribers_sort_in_byte_order(state_url: str) -> None:
    """The subscriber list is in address order by bytes, whatever the server's locale."""
    store = Store(state_url)
    with store.transaction() as connection:
        for address in ["zed@example.org", "a_b@example.org", "ab@example.org", "a-b@example.org"]:
            add_subscriber(connection, address, "", NOW)
        listed = [s.address for s in list_subscribers(connection)]
    store.close()
    assert listed == ["a-b@example.org", "a_b@example.org", "ab@example.org", "zed@example.org"]


def test_a_long_language_tag_is_kept(
    state_url: str,
    site: Callable[..., Settings],
    write: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source's language is stored as written, however long (no column limit to hit)."""
    language = "en-US-x-" + "-".join(["private"] * 8)
    write("posts/one.md", f"---\ntitle: One\nlang: {language}\ndate: 2026-11-20\n---\n\nOne.\n")
    monkeypatch.setenv("GAZETTE_STATE_DATABASE", state_url)
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    build(settings)
    assert [post["lang"] for post in catalog_json(settings)] == [language]


def test_nul_in_a_subscriber_name_is_reported_by_line(
    state_url: str, write: Callable[[str, str], Path]
) -> None:
    """A name with a NUL (PostgreSQL cannot store one) leaves out its row, not the import."""
    csv_path = write("list.csv", "ann@example.org,Ann\0Lee\nbob@example.com,Bob\n")
    store = Store(state_url)
    with store.transaction() as connection:
        report = import_csv(connection, csv_path, NOW)
        listed = [s.address for s in list_subscribers(connection)]
    store.close()
    assert report.problems == [
        f"{csv_path}:1: the name of ann@example.org contains the control character U+0000; "
        "write the name on one line, without control characters"
    ]
    assert (report.added, listed) == (1, ["bob@example.com"])
