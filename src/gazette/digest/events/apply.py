"""What a provider's events do to the list and the ledger, applied in one transaction.

A hard bounce makes its subscriber bounced; soft bounces are counted, and
``soft_bounce_limit`` of them within ``soft_bounce_days`` make it bounced; a complaint
unsubscribes it (and stays recorded as a complaint); a provider's unsubscribe
unsubscribes. Deliveries, opens and clicks change no subscriber. Each event counts once
(keyed by provider and event id), an unknown address is recorded and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import Connection, func, or_, select, update

from gazette.config import MailSettings
from gazette.digest.message import issue_of_message_id
from gazette.digest.subscribers import Subscriber, find_subscriber
from gazette.digest.tables import deliveries, provider_events, subscribers, webhook_nonces

Kind = Literal["hard_bounce", "soft_bounce", "complaint", "unsubscribe", "delivered", "other"]
KINDS: tuple[str, ...] = get_args(Kind)
# What a delivery became, by kind; a later event only raises it (events come in any
# order: a "delivered" after the bounce of the same message does not hide the bounce).
_OUTCOMES: dict[str, str] = {
    "delivered": "delivered", "soft_bounce": "soft_bounce", "hard_bounce": "bounced",
    "unsubscribe": "unsubscribed", "complaint": "complained",
}  # fmt: skip
_RANK = {"": 0, "delivered": 1, "soft_bounce": 2, "bounced": 3, "unsubscribed": 3,
         "complained": 4}  # fmt: skip
_LEAVING = frozenset({"unsubscribed", "bounced"})
_CHUNK = 500  # event ids looked up per query


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a provider says happened to one message to one address."""

    provider: str
    event_id: str
    kind: Kind
    address: str
    message_id: str
    when: datetime  # tz-aware


@dataclass(frozen=True, slots=True)
class Applied:
    """What a batch did: new events applied, repeats skipped, events for no subscriber,
    subscribers whose status changed and deliveries that recorded an outcome."""

    applied: int = 0
    repeated: int = 0
    unknown: int = 0
    changed: int = 0
    deliveries: int = 0


def apply_events(
    connection: Connection, events: Iterable[Event], settings: MailSettings, now: datetime
) -> Applied:
    """Applies the events not seen before, in the caller's transaction."""
    batch = _first_of_each(events)
    seen = _seen_ids(connection, batch)
    counts = {"applied": 0, "repeated": 0, "unknown": 0, "changed": 0, "deliveries": 0}
    for event in batch:
        if (event.provider, event.event_id) in seen:
            counts["repeated"] += 1
            continue
        seen.add((event.provider, event.event_id))
        _record(connection, event, now)
        counts["applied"] += 1
        counts["deliveries"] += _record_outcome(connection, event)
        found = find_subscriber(connection, event.address)
        if found is None:
            counts["unknown"] += 1
        elif _change_subscriber(connection, found, event, settings, now):
            counts["changed"] += 1
    return Applied(**counts)


def claim_nonce(connection: Connection, provider: str, nonce: str, now: datetime,
                keep: float) -> bool:  # fmt: skip
    """Records a webhook token; False when it was seen before (a replayed request).
    Tokens older than ``keep`` seconds are forgotten: requests that old are refused by
    their timestamp anyway."""
    moment = now.timestamp()
    connection.execute(webhook_nonces.delete().where(webhook_nonces.c.seen < moment - keep))
    found = connection.execute(
        select(webhook_nonces.c.nonce).where(
            webhook_nonces.c.provider == provider, webhook_nonces.c.nonce == nonce
        )
    ).first()
    if found is not None:
        return False
    connection.execute(webhook_nonces.insert().values(provider=provider, nonce=nonce, seen=moment))
    return True


def complaints(connection: Connection, address: str) -> int:
    """How many complaints were recorded for ``address``."""
    query = select(func.count()).where(
        provider_events.c.address_key == address.lower(), provider_events.c.kind == "complaint"
    )
    return int(connection.execute(query).scalar_one())


def _first_of_each(events: Iterable[Event]) -> list[Event]:
    batch: dict[tuple[str, str], Event] = {}
    for event in events:
        batch.setdefault((event.provider, event.event_id), event)
    return list(batch.values())


def _seen_ids(connection: Connection, batch: list[Event]) -> set[tuple[str, str]]:
    seen: set[tuple[str, str]] = set()
    for start in range(0, len(batch), _CHUNK):
        chunk = batch[start : start + _CHUNK]
        table = provider_events.c
        pairs = ((table.provider == e.provider) & (table.event_id == e.event_id) for e in chunk)
        query = select(table.provider, table.event_id).where(or_(*pairs))
        seen.update((row.provider, row.event_id) for row in connection.execute(query))
    return seen


def _record(connection: Connection, event: Event, now: datetime) -> None:
    connection.execute(
        provider_events.insert().values(
            provider=event.provider,
            event_id=event.event_id,
            kind=event.kind,
            address_key=event.address.lower(),
            message_id=event.message_id,
            occurred=event.when.astimezone(UTC).isoformat(),
            received=now.isoformat(),
        )
    )


def _record_outcome(connection: Connection, event: Event) -> int:
    """The delivery this event's message id names records the outcome; 1 if it did."""
    outcome = _OUTCOMES.get(event.kind)
    if not outcome or not event.message_id:
        return 0
    # Mailgun answers a send with "<id@domain>" and names the message "id@domain" later.
    names = {event.message_id, event.message_id.strip("<>"), f"<{event.message_id.strip('<>')}>"}
    lower = [o for o, rank in _RANK.items() if rank < _RANK[outcome]]
    done = connection.execute(
        update(deliveries)
        .where(deliveries.c.provider_id.in_(names), deliveries.c.outcome.in_(lower))
        .values(outcome=outcome)
    )
    if done.rowcount:
        return 1
    # A bounce returned by mail names the digest's own Message-ID, not the relay's id.
    issue = issue_of_message_id(event.message_id)
    if issue is None:
        return 0
    done = connection.execute(
        update(deliveries)
        .where(deliveries.c.issue == issue,
               func.lower(deliveries.c.recipient) == event.address.lower(),
               deliveries.c.outcome.in_(lower))
        .values(outcome=outcome)
    )  # fmt: skip
    return 1 if done.rowcount else 0


def _change_subscriber(
    connection: Connection, found: Subscriber, event: Event, settings: MailSettings,
    now: datetime,
) -> bool:  # fmt: skip
    """Sets the status the event calls for; False when it leaves the subscriber as it was.

    An event from before the subscriber's last change (a bounce delayed past a new
    confirmation) changes nothing: the address confirmed anew since.
    """
    since = datetime.fromisoformat(found.changed)
    if event.when < since:
        return False
    status = _new_status(connection, found, event, settings, max(since, now - _days(settings)))
    if status is None or status == found.status:
        return False
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == found.id)
        .values(status=status, changed=now.isoformat())
    )
    return True


def _new_status(
    connection: Connection, found: Subscriber, event: Event, settings: MailSettings,
    window_start: datetime,
) -> str | None:  # fmt: skip
    if event.kind == "complaint":
        return "unsubscribed"
    if found.status in _LEAVING:
        return None  # an unsubscribed address stays so; a bounced one keeps its bounce
    if event.kind == "unsubscribe":
        return "unsubscribed"
    if event.kind == "hard_bounce":
        return "bounced"
    if event.kind == "soft_bounce":
        counted = _soft_bounces(connection, found.address, window_start)
        return "bounced" if counted >= settings.soft_bounce_limit else None
    return None


def _soft_bounces(connection: Connection, address: str, start: datetime) -> int:
    query = select(func.count()).where(
        provider_events.c.address_key == address.lower(),
        provider_events.c.kind == "soft_bounce",
        provider_events.c.occurred >= start.astimezone(UTC).isoformat(),
    )
    return int(connection.execute(query).scalar_one())


def _days(settings: MailSettings) -> timedelta:
    return timedelta(days=settings.soft_bounce_days)
