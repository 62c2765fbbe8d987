"""What a provider's events do to the list and the ledger, applied in one transaction.

A hard bounce makes its subscriber bounced; soft bounces are counted, and
``soft_bounce_limit`` of them within ``soft_bounce_days`` make it bounced; a complaint
unsubscribes it (and stays recorded as a complaint); a provider's unsubscribe
unsubscribes. Deliveries, opens and clicks change no subscriber. Each event counts once
(keyed by provider and event id), an unknown address is recorded and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import BindParameter, ColumnElement, Connection, bindparam, func, select, update

from gazette.config import MailSettings
from gazette.digest.message import issue_of_message_id
from gazette.digest.subscribers import Subscriber, subscriber_of_row
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
_CHANGING = frozenset({"hard_bounce", "soft_bounce", "complaint", "unsubscribe"})
_CHUNK = 900  # values per IN list (SQLite's old limit of parameters is 999)
# An IN list whose values come at execution, so its statement is compiled once.
_LIST: BindParameter[list[str]] = bindparam("values", expanding=True)


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
    """Applies the events not seen before, in the caller's transaction.

    Set-based, since a batch holds up to a thousand events, nearly all deliveries, opens
    and clicks: one lookup of the ids seen, one insert of the new events, one lookup of
    the addresses, one update per outcome; the few events that change a subscriber are
    then decided in order, and written in one statement.
    """
    given = list(events)
    batch = _first_of_each(given)
    seen = _seen_ids(connection, batch)
    new = [event for event in batch if (event.provider, event.event_id) not in seen]
    _record(connection, new, now)
    known = _known_addresses(connection, {event.address.lower() for event in new})
    changing = [e for e in new if e.kind in _CHANGING and e.address.lower() in known]
    return Applied(
        applied=len(new),
        repeated=len(given) - len(new),
        unknown=sum(1 for event in new if event.address.lower() not in known),
        changed=_change_subscribers(connection, changing, settings, now),
        deliveries=_record_outcomes(connection, new),
    )


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
    table = provider_events.c
    for provider in {event.provider for event in batch}:
        ids = [event.event_id for event in batch if event.provider == provider]
        query = select(table.event_id).where(table.provider == provider,
                                             table.event_id.in_(_LIST))  # fmt: skip
        for chunk in _chunks(ids):
            found = connection.scalars(query, {"values": chunk})
            seen.update((provider, event_id) for event_id in found)
    return seen


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _record(connection: Connection, events: list[Event], now: datetime) -> None:
    if not events:
        return
    received = now.isoformat()
    connection.execute(provider_events.insert(), [
        {"provider": event.provider, "event_id": event.event_id, "kind": event.kind,
         "address_key": event.address.lower(), "message_id": event.message_id,
         "occurred": _stamp(event.when), "received": received}
        for event in events
    ])  # fmt: skip


def _known_addresses(connection: Connection, keys: set[str]) -> set[str]:
    """Which of the address keys are on the list."""
    found: set[str] = set()
    query = select(subscribers.c.address_key).where(subscribers.c.address_key.in_(_LIST))
    for chunk in _chunks(keys):
        found.update(connection.scalars(query, {"values": chunk}))
    return found


# --- outcomes of deliveries ---------------------------------------------------------------


def _record_outcomes(connection: Connection, events: list[Event]) -> int:
    """The deliveries the events' message ids name record the outcomes, lowest rank
    first, so each ends at the highest its events call for; how many were raised."""
    names: dict[str, set[str]] = {}
    returned: list[tuple[Event, str, int]] = []
    for event in events:
        outcome = _OUTCOMES.get(event.kind)
        if not outcome or not event.message_id:
            continue
        issue = issue_of_message_id(event.message_id)
        if issue is not None:  # a bounce returned by mail: the digest's own Message-ID
            returned.append((event, outcome, issue))
        else:
            names.setdefault(outcome, set()).update(_spellings(event.message_id))
    raised = 0
    for outcome in sorted(names, key=_RANK.__getitem__):
        for chunk in _chunks(names[outcome]):
            raised += _raise_outcome(connection, outcome, deliveries.c.provider_id.in_(_LIST),
                                     {"values": chunk})  # fmt: skip
    for event, outcome, issue in returned:
        raised += _raise_outcome(connection, outcome, (deliveries.c.issue == issue) & (
            func.lower(deliveries.c.recipient) == event.address.lower()))  # fmt: skip
    return raised


def _spellings(message_id: str) -> set[str]:
    """How the ledger may hold the id: Mailgun answers a send with "<id@domain>" and
    names the message "id@domain" in its events."""
    if "@" not in message_id:
        return {message_id}
    bare = message_id.strip("<>")
    return {message_id, bare, f"<{bare}>"}


def _raise_outcome(connection: Connection, outcome: str, which: ColumnElement[bool],
                   values: dict[str, list[str]] | None = None) -> int:  # fmt: skip
    lower = [name for name, rank in _RANK.items() if rank < _RANK[outcome]]
    done = connection.execute(
        update(deliveries).where(which, deliveries.c.outcome.in_(lower)).values(outcome=outcome),
        values,
    )
    return int(done.rowcount)


# --- subscribers --------------------------------------------------------------------------


def _change_subscribers(
    connection: Connection, events: list[Event], settings: MailSettings, now: datetime
) -> int:
    """Sets the statuses the events call for, deciding them in order; how many events
    changed a subscriber's status."""
    if not events:
        return 0
    found = _subscribers_by_key(connection, {event.address.lower() for event in events})
    window = now - timedelta(days=settings.soft_bounce_days)
    soft = _soft_bounce_times(connection, [e for e in events if e.kind == "soft_bounce"], window)
    changed = 0
    written: dict[int, Subscriber] = {}
    for event in events:
        key = event.address.lower()
        status = _new_status(found[key], event, settings, soft.get(key, []), window)
        if status is not None:
            found[key] = written[found[key].id] = replace(found[key], status=status,
                                                          changed=now.isoformat())  # fmt: skip
            changed += 1
    if written:
        connection.execute(
            update(subscribers).where(subscribers.c.id == bindparam("number"))
            .values(status=bindparam("new_status"), changed=bindparam("new_changed")),
            [{"number": s.id, "new_status": s.status, "new_changed": s.changed}
             for s in written.values()],
        )  # fmt: skip
    return changed


def _subscribers_by_key(connection: Connection, keys: set[str]) -> dict[str, Subscriber]:
    found: dict[str, Subscriber] = {}
    for chunk in _chunks(keys):
        rows = connection.execute(select(subscribers).where(subscribers.c.address_key.in_(chunk)))
        found.update((row.address_key, subscriber_of_row(row._mapping)) for row in rows)
    return found


def _soft_bounce_times(
    connection: Connection, events: list[Event], window: datetime
) -> dict[str, list[str]]:
    """When each address's soft bounces since ``window`` happened (this batch's
    included, as they are recorded first)."""
    found: dict[str, list[str]] = {}
    table = provider_events.c
    for chunk in _chunks({event.address.lower() for event in events}):
        query = select(table.address_key, table.occurred).where(
            table.address_key.in_(chunk), table.kind == "soft_bounce",
            table.occurred >= _stamp(window),
        )  # fmt: skip
        for key, occurred in connection.execute(query):
            found.setdefault(key, []).append(occurred)
    return found


def _new_status(
    found: Subscriber, event: Event, settings: MailSettings, soft_bounces: list[str],
    window: datetime,
) -> str | None:  # fmt: skip
    """The status the event calls for, None when it leaves the subscriber as it is.

    An event from before the subscriber's last change (a bounce delayed past a new
    confirmation) changes nothing: the address confirmed anew since.
    """
    since = datetime.fromisoformat(found.changed)
    if event.when < since:
        return None
    status = _status_for(found, event, settings, soft_bounces, _stamp(max(since, window)))
    return None if status == found.status else status


def _status_for(
    found: Subscriber, event: Event, settings: MailSettings, soft_bounces: list[str],
    start: str,
) -> str | None:  # fmt: skip
    if event.kind == "complaint":
        return "unsubscribed"
    if found.status in _LEAVING:
        return None  # an unsubscribed address stays so; a bounced one keeps its bounce
    if event.kind == "unsubscribe":
        return "unsubscribed"
    if event.kind == "hard_bounce":
        return "bounced"
    counted = sum(1 for occurred in soft_bounces if occurred >= start)
    return "bounced" if counted >= settings.soft_bounce_limit else None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
