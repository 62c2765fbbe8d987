"""Subscribers mailed an issue, for the webhooks to report on, and what became of them."""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gazette.digest import ledger
from gazette.digest.subscribers import add_subscriber
from gazette.mail.base import SendResult
from gazette.store import Store

NUMBERS = itertools.count(1)


def mailed_reader(site: Path) -> str:
    """A new active subscriber of the state in ``site``, mailed one issue under
    ``message_id(address)``."""
    address = f"reader{next(NUMBERS)}@example.org"
    now = datetime.now(UTC)
    store = Store(f"sqlite:///{site / 'state.db'}")
    try:
        with store.transaction() as connection:
            add_subscriber(connection, address, "", now - timedelta(days=1))
            issue = ledger.create_issue(connection, f"test-{address}", "News", ["p"], now)
            claimed = [c for c in ledger.claim_batch(connection, issue.number, 1000, now)
                       if c.recipient == address]  # fmt: skip
            ledger.record_results(connection, claimed, [
                SendResult(address, "sent", provider_id=message_id(address))
            ], now)  # fmt: skip
    finally:
        store.close()
    return address


def message_id(address: str) -> str:
    """The provider message id of the issue sent to ``address`` (no dots, as SendGrid's)."""
    return "msg-" + hashlib.sha256(address.encode()).hexdigest()[:20]


def row(site: Path, address: str) -> tuple[str, str]:
    """(subscriber status, the outcome of the delivery sent to it)."""
    with sqlite3.connect(site / "state.db") as connection:
        found = connection.execute(
            "SELECT s.status, d.outcome FROM subscribers s JOIN digest_deliveries d "
            "ON d.subscriber = s.id WHERE s.address_key = ? AND d.provider_id = ?",
            (address.lower(), message_id(address)),
        ).fetchone()  # fmt: skip
    return (str(found[0]), str(found[1]))


def event_count(site: Path) -> int:
    with sqlite3.connect(site / "state.db") as connection:
        return int(connection.execute("SELECT count(*) FROM provider_events").fetchone()[0])
