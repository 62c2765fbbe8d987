"""Each provider's proof that a webhook request comes from it, checked as it documents.

Pure functions: each raises Unsigned (no credentials at all), BadSignature (credentials
that do not check out, or a stale timestamp) or returns None. Every comparison of a
secret runs in constant time. There is no switch that skips a check.

    WebhookError
    ├── NotConfigured  the provider's secret is not in the environment
    ├── Unsigned       the request carries no credentials
    ├── BadSignature   credentials that do not check out
    └── Malformed      a body that is not the provider's documented shape
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

from gazette.errors import GazetteError

TOLERANCE = 300.0  # seconds a signed timestamp may be off (Mailgun's and Svix's advice)


class WebhookError(GazetteError):
    """A webhook request that is not applied."""


class NotConfigured(WebhookError):
    """The secret that verifies this provider's requests is not set."""


class Unsigned(WebhookError):
    """The request carries no credentials."""


class BadSignature(WebhookError):
    """The request's credentials do not check out."""


class Malformed(WebhookError):
    """The body is not what the provider documents."""


def check_timestamp(stamp: str, now: datetime, tolerance: float = TOLERANCE) -> float:
    """The timestamp (seconds since the epoch) when within ``tolerance`` of ``now``."""
    try:
        moment = float(stamp)
    except ValueError:
        raise BadSignature(f"the timestamp {stamp[:40]!r} is not a number") from None
    if abs(now.timestamp() - moment) > tolerance:
        raise BadSignature(f"the timestamp is more than {tolerance:.0f} s from now")
    return moment


def verify_mailgun(key: str, timestamp: str, token: str, signature: str, now: datetime) -> None:
    """Mailgun: the hex HMAC-SHA256 of timestamp + token, keyed with the signing key."""
    if not (timestamp and token and signature):
        raise Unsigned("the body has no signature (timestamp, token, signature)")
    check_timestamp(timestamp, now)
    expected = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise BadSignature("the Mailgun signature does not match the signing key")


def svix_key(secret: str) -> bytes:
    """The key of a ``whsec_…`` secret (base64 after the prefix)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise NotConfigured(
            "GAZETTE_RESEND_WEBHOOK_SECRET is not a whsec_… secret: copy it whole from "
            "Resend's webhook page"
        ) from None


def verify_svix(
    secret: str, message_id: str, timestamp: str, signatures: str, body: bytes, now: datetime
) -> None:
    """Svix (Resend): base64 HMAC-SHA256 of ``id.timestamp.body``; the header lists
    ``v1,<signature>`` entries separated by spaces, any one of which may match."""
    if not (message_id and timestamp and signatures):
        raise Unsigned("the svix-id, svix-timestamp and svix-signature headers are missing")
    check_timestamp(timestamp, now)
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(svix_key(secret), signed, hashlib.sha256).digest())
    for entry in signatures.split():
        version, _, given = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected, given.encode()):
            return
    raise BadSignature("no svix-signature matches the webhook secret")


def verify_sendgrid(public_key: str, timestamp: str, signature: str, body: bytes) -> None:
    """SendGrid's signed Event Webhook: ECDSA P-256 with SHA-256 over timestamp + body,
    the signature base64 DER, the key the base64 DER SendGrid shows."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415 - slow to import
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import (  # noqa: PLC0415
        load_der_public_key,
    )

    if not (timestamp and signature):
        raise Unsigned("the X-Twilio-Email-Event-Webhook-Signature and -Timestamp headers "
                       "are missing")  # fmt: skip
    try:
        key = load_der_public_key(base64.b64decode(public_key, validate=True))
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise NotConfigured(
            "GAZETTE_SENDGRID_WEBHOOK_KEY is not an ECDSA public key in base64 DER: copy "
            "the verification key from SendGrid's Event Webhook settings"
        )
    try:
        key.verify(base64.b64decode(signature), timestamp.encode() + body,
                   ec.ECDSA(hashes.SHA256()))  # fmt: skip
    except (InvalidSignature, binascii.Error, ValueError):
        raise BadSignature("the SendGrid signature does not match the verification key") from None


def verify_basic(expected: str, authorization: str) -> None:
    """HTTP basic auth against ``user:password`` (Postmark puts it in the webhook URL)."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "basic" or not given:
        raise Unsigned("no basic auth credentials")
    wanted = base64.b64encode(expected.encode()).decode("ascii")
    if not hmac.compare_digest(wanted.encode(), given.strip().encode()):
        raise BadSignature("the basic auth credentials are not the configured ones")


def verify_bearer(expected: str, authorization: str) -> None:
    """``Authorization: Bearer <token>`` against the configured token."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unsigned("no bearer token")
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise BadSignature("the bearer token is not the configured one")
