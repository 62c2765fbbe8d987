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

from gazette.digest import ratelimits
from gazette.digest.subscribers import (
    Subscriber,
    control_character,
    find_subscriber,
    find_subscriber_by_id,
    insert_subscriber,
    normalize_address,
)
from gazette.digest.tables import confirmation_mails, subscribers
from gazette.digest.tokens import (
    ConfirmationClaim,
    token_subscriber,
    verify_confirm_token,
    verify_subscriber_token,
    verify_token,
)
from gazette.errors import SubscriberError

MASK = "•••"
# Statuses an unsubscribe leaves as they are: a bounced address stays bounced (it is no
# more mailed than an unsubscribed one, and the bounce is what the ledger must remember).
_NOT_MAILED = frozenset({"unsubscribed", "bounced"})


_INVALID_UNSUBSCRIBE = (
    "this unsubscribe link is not valid: it was changed or cut short, or comes from another "
    "list; open the link from the mail again, whole"
)


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
    number = token_subscriber(token)
    if number is not None:
        found = find_subscriber_by_id(connection, number)
        if found is None or not verify_subscriber_token(key, token, found.id, found.address):
            raise TokenError(_INVALID_UNSUBSCRIBE)
        return found
    address = verify_token(key, token)
    if address is None:
        raise TokenError(_INVALID_UNSUBSCRIBE)
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


# --- subscribing: double opt-in ---------------------------------------------------------


class ExpiredToken(TokenError):
    """A confirmation link made by this list, older than serve.confirm_ttl."""

    def __init__(self, message: str, address: str, superseded: bool = False) -> None:
        super().__init__(message)
        self.address = address
        self.superseded = superseded  # asked for before the address left the list


@dataclass(frozen=True, slots=True)
class Limits:
    """serve's limits on subscribe requests."""

    confirm_ttl: float  # seconds a confirmation link holds
    confirm_interval: float  # seconds between two requests for one address
    per_minute: int  # requests from one client address per minute


@dataclass(frozen=True, slots=True)
class Requested:
    """What a subscribe request did. ``retry_after`` > 0: refused by a rate limit, nothing
    recorded for the address. ``mail``: the confirmation mail queued, if one was."""

    retry_after: float = 0.0
    mail: int | None = None


class FieldError(SubscriberError):
    """A subscribe form's field that cannot be taken: ``field`` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def checked_request(address: str, name: str) -> tuple[str, str]:
    """The address as stored and the name, or a FieldError saying what is wrong."""
    try:
        normalized = normalize_address(address)
    except SubscriberError as error:
        raise FieldError(str(error), "email") from None
    name = name.strip()
    if control_character(name) or len(name) > 200:
        raise FieldError("the name must be one line of at most 200 characters", "name")
    return normalized, name


def request_subscription(
    connection: Connection, address: str, name: str, client: str, limits: Limits,
    now: datetime,
) -> Requested:  # fmt: skip
    """Records a subscribe request: a new address as pending, and a confirmation mail
    queued for any address not active (an unsubscribed or bounced one keeps its status
    until confirmed). The answer is the same whatever the address's state; only the rate
    limits (per client, per address) refuse. Raises SubscriberError for a bad address."""
    normalized, name = checked_request(address, name)
    moment = now.timestamp()
    ratelimits.serialize(connection)
    hit = ratelimits.hit_window(connection, f"client:{client}", limits.per_minute, 60, moment)
    if hit.wait:
        return Requested(retry_after=hit.wait)
    key = f"address:{normalized.lower()}"
    wait = ratelimits.hit_interval(connection, key, limits.confirm_interval, moment)
    if wait:
        return Requested(retry_after=wait)
    if hit.new_window:  # once a minute per client is often enough to tidy up
        ratelimits.forget_before(connection, moment - max(limits.confirm_interval, 60) - 60)
    found = find_subscriber(connection, normalized)
    if found is None:
        found = insert_subscriber(connection, normalized, name, now, "pending")
    if found.status == "active":
        return Requested()
    row = {"subscriber": found.id, "recipient": found.address, "issued": moment,
           "expires": moment + limits.confirm_ttl, "status": "queued", "attempts": 0,
           "provider_id": "", "last_error": "", "changed": now.isoformat()}  # fmt: skip
    mail = connection.execute(confirmation_mails.insert().values(**row)).inserted_primary_key
    return Requested(mail=int(mail[0]) if mail else None)


def address_of_link(connection: Connection, key: bytes, token: str) -> str:
    """The address a link's token names, for a new confirmation link asked from the page
    it opened: an unsubscribe token (the page after unsubscribing offers to come back) or
    a confirmation token, expired or not. The pages carry the token, never the address.
    A TokenError for any other token."""
    claim = verify_confirm_token(key, token)
    if claim is not None:
        return claim.address
    return subscriber_of_token(connection, key, token).address


def claim_of_token(key: bytes, token: str, now: datetime) -> ConfirmationClaim:
    """What a confirmation token says (a GET shows it; nothing changes): TokenError when
    this list did not make it, ExpiredToken when it is too old."""
    claim = verify_confirm_token(key, token)
    if claim is None:
        raise TokenError(
            "this confirmation link is not valid: it was changed or cut short, or comes "
            "from another list; open the link from the mail again, whole"
        )
    if now.timestamp() > claim.expires:
        raise ExpiredToken("this confirmation link has expired", claim.address)
    return claim


def confirm_by_token(connection: Connection, key: bytes, token: str, now: datetime) -> Subscriber:
    """Makes the address a confirmation token names active. A link asked before the
    address unsubscribed or bounced does not bring it back: only a newer one does."""
    claim = claim_of_token(key, token, now)
    found = find_subscriber(connection, claim.address)
    if found is None:
        raise TokenError("this confirmation link names an address that is not on this list")
    if found.status == "active":
        return found
    if found.status in _NOT_MAILED and datetime.fromisoformat(found.changed).timestamp() > (
        claim.issued
    ):
        raise ExpiredToken(
            f"this link was asked for before the address {found.status}", claim.address,
            superseded=True,
        )
    connection.execute(
        update(subscribers)
        .where(subscribers.c.id == found.id)
        .values(status="active", changed=now.isoformat())
    )
    return found
