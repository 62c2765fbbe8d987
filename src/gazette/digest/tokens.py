"""Signed tokens: unsubscribe tokens and confirmation tokens (the address, when it was
asked and until when the link holds, signed with the same key for another purpose).

An unsubscribe token is ``2.<subscriber id>.<signature>``, the signature an HMAC-SHA256
over the id and the address: whoever sees the link (a proxy's log, a forwarded mail)
learns no address, and a changed id or signature fails verification. Mail sent before
this format carries ``<address>.<signature>`` (both base64url); those links keep working.
The key comes from ``GAZETTE_SECRET_KEY`` (at least 32 characters); without it, a random
key is made once and kept in the state database, so links in mail already sent stay valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from gazette.errors import ConfigError
from gazette.store import read_meta, settings_table

SECRET_VARIABLE = "GAZETTE_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
_STORED_KEY = "secret_key"
# A short key falls to a dictionary search against a single token: the token is public.
MIN_KEY_LENGTH = 32
_PURPOSE = b"gazette-unsubscribe\0"
_CONFIRM_PURPOSE = b"gazette-confirm\0"
_SUBSCRIBER_PURPOSE = b"gazette-unsubscribe-2\0"
_VERSION = "2"
_MAX_ID_DIGITS = 18  # ids are 64-bit integers at most


def secret_key(connection: Connection, environ: Mapping[str, str]) -> bytes:
    """The signing key: the environment's, else the stored one, made on first use."""
    given = check_secret_key(environ)
    if given:
        return given.encode("utf-8")
    stored = read_meta(connection, _STORED_KEY)
    if stored is None:
        try:
            with connection.begin_nested():
                connection.execute(
                    settings_table.insert().values(key=_STORED_KEY, value=secrets.token_hex(32))
                )
        except IntegrityError:  # another run stored one first
            pass
        stored = read_meta(connection, _STORED_KEY)
    assert stored is not None
    return bytes.fromhex(stored)


def check_secret_key(environ: Mapping[str, str]) -> str:
    """The key in GAZETTE_SECRET_KEY ("" when unset); a ConfigError when it is too short."""
    given = environ.get(SECRET_VARIABLE, "")
    if given and len(given) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{SECRET_VARIABLE} is {len(given)} characters; a signing key needs at least "
            f"{MIN_KEY_LENGTH}, or it can be guessed from one unsubscribe link. Make one with "
            '`python3 -c "import secrets; print(secrets.token_urlsafe(32))"`, or unset the '
            "variable to use the key kept in the state database"
        )
    return given


def make_token(key: bytes, subscriber: int, address: str) -> str:
    """The unsubscribe token of the subscriber with this id and address."""
    signature = _signature(key, _subscriber_payload(subscriber, address), _SUBSCRIBER_PURPOSE)
    return f"{_VERSION}.{subscriber}.{_b64(signature)}"


def token_subscriber(token: str) -> int | None:
    """The subscriber id an unsubscribe token names, not yet verified (None for a token of
    the older format, which names its address instead)."""
    version, _, rest = token.strip().partition(".")
    number, dot, _signature_part = rest.partition(".")
    if version != _VERSION or not dot or not number.isascii() or not number.isdigit():
        return None
    return int(number) if len(number) <= _MAX_ID_DIGITS else None


def verify_subscriber_token(key: bytes, token: str, subscriber: int, address: str) -> bool:
    """Whether ``token`` is the unsubscribe token made for this subscriber and address."""
    given = token.strip().rpartition(".")[2]
    try:
        signature = _unb64(given)
    except (binascii.Error, ValueError):
        return False
    expected = _signature(key, _subscriber_payload(subscriber, address), _SUBSCRIBER_PURPOSE)
    return token.strip() == f"{_VERSION}.{subscriber}.{given}" and hmac.compare_digest(
        signature, expected
    )


def _subscriber_payload(subscriber: int, address: str) -> bytes:
    return f"{subscriber}\0{address.lower()}".encode()


def verify_token(key: bytes, token: str) -> str | None:
    """The address a token of the older format was made for, or None when it was not made
    with ``key``."""
    payload = _verified_payload(key, token, _PURPOSE)
    if payload is None:
        return None
    try:
        return payload.decode("utf-8")
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ConfirmationClaim:
    """What a verified confirmation token says: whose, asked when, valid until when
    (seconds since the epoch)."""

    address: str
    issued: float
    expires: float


def make_confirm_token(key: bytes, address: str, issued: float, expires: float) -> str:
    """The confirmation token of ``address``, asked at ``issued``, valid until ``expires``."""
    payload = f"{address}\0{issued:.3f}\0{expires:.3f}".encode()
    return f"{_b64(payload)}.{_b64(_signature(key, payload, _CONFIRM_PURPOSE))}"


def verify_confirm_token(key: bytes, token: str) -> ConfirmationClaim | None:
    """What a confirmation token made with ``key`` says (expired or not); None otherwise."""
    payload = _verified_payload(key, token, _CONFIRM_PURPOSE)
    if payload is None:
        return None
    try:
        address, issued, expires = payload.decode("utf-8").split("\0")
        return ConfirmationClaim(address, float(issued), float(expires))
    except ValueError:
        return None


def _verified_payload(key: bytes, token: str, purpose: bytes) -> bytes | None:
    """The payload of ``<payload>.<signature>`` when ``key`` signed it for ``purpose``."""
    encoded, dot, signature = token.strip().partition(".")
    if not dot:
        return None
    try:
        payload = _unb64(encoded)
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    return payload if hmac.compare_digest(given, _signature(key, payload, purpose)) else None


def _signature(key: bytes, payload: bytes, purpose: bytes = _PURPOSE) -> bytes:
    return hmac.new(key, purpose + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict: only the one spelling ``_b64`` writes decodes (no stray characters)."""
    if not text.isascii():
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if not text or _b64(data) != text:
        raise ValueError("not base64url")
    return data
