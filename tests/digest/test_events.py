"""Provider events applied to the list and the ledger, without HTTP: bounces, soft-bounce
counting, complaints, exactly once, in any order, unknown addresses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gazette.config import MailSettings
from gazette.digest import ledger
from gazette.digest.confirmations import confirm_by_token
from gazette.digest.events import Event, Kind, apply_events
from gazette.digest.events.apply import complaints
from gazette.digest.subscribers import add_subscriber, find_subscriber
from gazette.digest.tables import deliveries
from gazette.digest.tokens import make_confirm_token
from gazette.mail.base import SendResult
from gazette.store import Store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RULES = MailSettings(soft_bounce_limit=3, soft_bounce_days=7)
READERS = ("ada@example.org", "li@example.com", "sam@example.net")


@pytest.fixture
def store(state_url: str) -> Iterator[Store]:
    """A state database (SQLite, then PostgreSQL) with three active subscribers and one
    sent issue to them, each delivery with the provider message id ``msg-<address>``."""
    made = Store(state_url)
    with made.transaction() as connection:
        for address in READERS:
            add_subscriber(connection, address, "", NOW - timedelta(days=30))
        issue = ledger.create_issue(connection, "2026-11-30T08", "News", ["p1"], NOW)
        claimed = ledger.claim_batch(connection, issue.number, 10, NOW)
        results = [SendResult(c.recipient, "sent", provider_id=f"msg-{c.recipient}")
                   for c in claimed]  # fmt: skip
        ledger.record_results(connection, claimed, results, NOW)
    yield made
    made.close()


def event(kind: Kind, address: str = "ada@example.org", number: int = 1,
          when: datetime = NOW, provider: str = "sendgrid") -> Event:  # fmt: skip
    return Event(provider, f"ev-{kind}-{number}", kind, address, f"msg-{address}", when)


def apply(store: Store, *events: Event, now: datetime = NOW) -> None:
    with store.transaction() as connection:
        apply_events(connection, events, RULES, now)


def status(store: Store, address: str = "ada@example.org") -> str:
    with store.transaction() as connection:
        found = find_subscriber(connection, address)
    assert found is not None
    return found.status


def outcome(store: Store, address: str = "ada@example.org") -> str:
    with store.transaction() as connection:
        query = select(deliveries.c.outcome).where(deliveries.c.recipient == address)
        return str(connection.execute(query).scalar_one())


def test_hard_bounce_makes_the_subscriber_bounced_and_the_delivery_records_it(
    store: Store,
) -> None:
    """A hard bounce sets the subscriber bounced and its delivery's outcome bounced."""
    apply(store, event("hard_bounce"))
    assert (status(store), outcome(store)) == ("bounced", "bounced")
    assert status(store, "li@example.com") == "active"


def test_soft_bounces_count_up_to_the_limit_within_the_window(store: Store) -> None:
    """Two soft bounces leave the subscriber active; the third within 7 days bounces it."""
    apply(store, event("soft_bounce", number=1, when=NOW - timedelta(days=2)),
          event("soft_bounce", number=2, when=NOW - timedelta(days=1)))  # fmt: skip
    assert (status(store), outcome(store)) == ("active", "soft_bounce")
    apply(store, event("soft_bounce", number=3))
    assert status(store) == "bounced"


def test_soft_bounces_older_than_the_window_do_not_count(store: Store) -> None:
    """Soft bounces from more than soft_bounce_days ago do not add up to a bounce."""
    old = NOW - timedelta(days=10)
    apply(store, event("soft_bounce", number=1, when=old),
          event("soft_bounce", number=2, when=old), event("soft_bounce", number=3))  # fmt: skip
    assert status(store) == "active"


def test_the_same_event_twice_counts_once(store: Store) -> None:
    """A soft bounce delivered three times (a provider's retries) is one soft bounce."""
    for _ in range(3):
        apply(store, event("soft_bounce", number=7))
    apply(store, event("soft_bounce", number=7), event("soft_bounce", number=7))
    assert status(store) == "active"


def test_complaint_unsubscribes_and_is_recorded(store: Store) -> None:
    """A complaint sets the subscriber unsubscribed and is kept as a complaint."""
    apply(store, event("complaint"))
    with store.transaction() as connection:
        assert complaints(connection, "ada@example.org") == 1
    assert (status(store), outcome(store)) == ("unsubscribed", "complained")


def test_provider_unsubscribe_unsubscribes(store: Store) -> None:
    """A provider's own unsubscribe event unsubscribes."""
    apply(store, event("unsubscribe"))
    assert (status(store), outcome(store)) == ("unsubscribed", "unsubscribed")


def test_delivered_and_other_events_change_no_subscriber(store: Store) -> None:
    """Delivered and other (open, click) events are no bounce: only the ledger learns."""
    apply(store, event("delivered"), event("other"), event("other", number=2))
    assert (status(store), outcome(store)) == ("active", "delivered")


def test_delivered_after_a_bounce_does_not_hide_it(store: Store) -> None:
    """Events in reverse order: the bounce stays the delivery's outcome."""
    apply(store, event("hard_bounce", when=NOW))
    apply(store, event("delivered", when=NOW - timedelta(minutes=5)))
    assert outcome(store) == "bounced"


def test_unknown_address_is_ignored(store: Store) -> None:
    """An event for an address not on the list changes no subscriber."""
    apply(store, event("hard_bounce", address="nobody@example.org"))
    assert [status(store, a) for a in READERS] == ["active"] * 3


def test_bounced_address_returns_only_by_confirming_anew(store: Store) -> None:
    """A bounced address is activated again by a confirmation asked after the bounce, and
    a bounce delayed from before that confirmation does not bounce it again."""
    apply(store, event("hard_bounce", when=NOW))
    key = b"k" * 32
    later = NOW + timedelta(days=1)
    token = make_confirm_token(key, "ada@example.org", later.timestamp(), later.timestamp() + 3600)
    with store.transaction() as connection:
        confirm_by_token(connection, key, token, later + timedelta(minutes=1))
    assert status(store) == "active"
    apply(store, event("hard_bounce", number=2, when=NOW + timedelta(hours=1)), now=later)
    assert status(store) == "active"


def test_events_of_one_batch_are_decided_in_order(store: Store) -> None:
    """In one batch: three soft bounces of one reader bounce it (the limit, counted in
    the batch itself); a hard bounce then a complaint of another end unsubscribed with
    the complaint kept; a complaint then a hard bounce of the third leave it
    unsubscribed (a bounce does not overwrite it); the answer counts each change."""
    with store.transaction() as connection:
        applied = apply_events(connection, [
            event("soft_bounce", number=1), event("soft_bounce", number=2),
            event("soft_bounce", number=3),
            event("hard_bounce", "li@example.com"), event("complaint", "li@example.com"),
            event("complaint", "sam@example.net", 2), event("hard_bounce", "sam@example.net", 2),
        ], RULES, NOW)  # fmt: skip
    assert [status(store, a) for a in READERS] == ["bounced", "unsubscribed", "unsubscribed"]
    assert [outcome(store, a) for a in READERS] == ["soft_bounce", "complained", "complained"]
    assert (applied.applied, applied.changed, applied.unknown) == (7, 4, 0)


def test_a_batch_larger_than_one_query_is_applied_whole(store: Store) -> None:
    """2,500 events (past the values one IN list takes), two providers, repeats and
    strangers among them: each counted once, the known readers' events applied."""
    strangers = [event("delivered", f"x{n}@example.org", number=n) for n in range(2000)]
    mailgun = [event("other", number=n, provider="mailgun") for n in range(497)]
    batch = [*strangers, *mailgun, event("hard_bounce", "li@example.com"),
             event("delivered", "sam@example.net", 9999), strangers[5]]  # fmt: skip
    with store.transaction() as connection:
        first = apply_events(connection, batch, RULES, NOW)
        again = apply_events(connection, batch, RULES, NOW)
    assert (first.applied, first.repeated, first.unknown, first.changed) == (2499, 1, 2000, 1)
    assert (again.applied, again.repeated, again.changed) == (0, 2500, 0)
    assert [status(store, a) for a in READERS] == ["active", "bounced", "active"]
    assert [outcome(store, a) for a in READERS] == ["", "bounced", "delivered"]
