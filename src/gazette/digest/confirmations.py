"""The rules of the subscriber pages, without HTTP: who a token names, unsubscribing by
token, and (below) subscribing with a confirmation.

A token is checked before anything is read or written: a tampered, foreign (signed with
another key) or malformed token is a TokenError and changes nothing. Unsubscribing is
idempotent, so a mailbox provider's one-click POST may come twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, update

from gazette.digest.subscribers import Subscriber, find_subscriber
from gazette.digest.tables import subscribers
from gazette.digest.tokens import verify_token
from gazette.errors import SubscriberError

MASK = "•••"
# Statuses an unsubscribe leaves as they are: a bounced address stays bounced (it is no
# more mailed than an unsubscribed one, and the bounce is what the ledger must remember).
_NOT_MAILED = frozenset({"unsubscribed", "bounced"})


class TokenError(SubscriberError):
    """A link's token is not one this list made, or names nobody on it."""


@dataclass(frozen=True, slots=True)
class Unsubscribed:
    """What an unsubscribe did: whose, and whether this request changed the status."""

    subscriber: Subscriber
    changed: bool


def mask_address(address: str) -> str:
    """``reader@example.org`` as ``r•••@example.org``: enough to recognize, not to harvest."""
    local, at, domain = address.rpartition("@")
    if not at:
        return MASK
    return f"{local[:1]}{MASK}@{domain}"


def subscriber_of_token(connection: Connection, key: bytes, token: str) -> Subscriber:
    """The subscriber an unsubscribe token names (a GET shows it; nothing changes)."""
    address = verify_token(key, token)
    if address is None:
        raise TokenError(
            "this unsubscribe link is not valid: it was changed or cut short, or comes from "
            "another list; open the link from the mail again, whole"
        )
    found = find_subscriber(connection, address)
    if found is None:
        raise TokenError("this unsubscribe link names an address that is not on this list")
    return found


def unsubscribe_by_token(
    connection: Connection, key: bytes, token: str, now: datetime
) -> Unsubscribed:
    """Sets the subscriber the token names to unsubscribed (a bounced one stays bounced)."""
    found = subscriber_of_token(connection, key, token)
    if found.status in _NOT_MAILED:
        return Unsubscribed(found, changed=False)
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == found.id)
        .values(status="unsubscribed", changed=now.isoformat())
    )
    return Unsubscribed(found, changed=True)
