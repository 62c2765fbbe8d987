"""Each provider's webhook: its secret's variable, its check, and its documented body
read into Events. ``receive`` verifies before it trusts a byte of the body.

Event names are the providers' own: Postmark's RecordType (Bounce with its Type,
SpamComplaint, SubscriptionChange, Delivery), SendGrid's ``event`` (bounce with type
bounce or blocked, dropped, spamreport, unsubscribe, delivered …), Mailgun's ``event``
(failed with severity permanent or temporary, complained, unsubscribed, delivered) and
Resend's ``type`` (email.bounced, email.complained, email.delivered …). Anything else is
"other": it changes no subscriber (an open is not a bounce).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gazette.digest.events import signatures as sig
from gazette.digest.events.apply import KINDS, Event, Kind
from gazette.digest.events.signatures import Malformed

Headers = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Received:
    """A verified request's events, the one-time token to claim (Mailgun's), and the
    SNS topic whose subscription it confirmed (SES's)."""

    events: list[Event]
    nonce: str = ""
    confirmed: str = ""


@dataclass(frozen=True, slots=True)
class Provider:
    variable: str  # the environment variable holding the secret
    receive: Callable[[str, Headers, bytes, datetime], Received]


def receive(name: str, headers: Headers, body: bytes, environ: Mapping[str, str],
            now: datetime) -> Received:  # fmt: skip
    """The events of a request to /webhooks/<name>, once its sender is verified."""
    provider = PROVIDERS[name]
    secret = environ.get(provider.variable, "")
    if not secret:
        raise sig.NotConfigured(f"{provider.variable} is not set: /webhooks/{name} refuses "
                                "every request until it is")  # fmt: skip
    return provider.receive(secret, headers, body, now)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Malformed(f"the body is not JSON: {error}") from None


def json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not a JSON object")
    return value


def text_field(data: dict[str, Any], key: str, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str | int) or isinstance(value, bool) or (required and not value):
        raise Malformed(f"{key!r} is missing or not a string")
    return str(value)


def moment(value: Any, now: datetime) -> datetime:
    """An RFC 3339 date or seconds since the epoch; ``now`` when absent."""
    if value in (None, ""):
        return now
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise Malformed(f"{str(value)[:40]!r} is not a date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _digest(body: bytes) -> str:
    """An event id for a provider that gives none: the hash of the event's bytes."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


# --- Mailgun ----------------------------------------------------------------------------


_MAILGUN: dict[str, Kind] = {"complained": "complaint", "unsubscribed": "unsubscribe",
                             "delivered": "delivered"}  # fmt: skip


def _mailgun(key: str, headers: Headers, body: bytes, now: datetime) -> Received:
    data = json_object(_json(body), "the body")
    signature = json_object(data.get("signature", {}), "'signature'")
    sig.verify_mailgun(key, str(signature.get("timestamp", "")), str(signature.get("token", "")),
                       str(signature.get("signature", "")), now)  # fmt: skip
    item = json_object(data.get("event-data"), "'event-data'")
    name, severity = item.get("event"), item.get("severity")
    kind: Kind = "other"
    if name == "failed":
        kind = "hard_bounce" if severity == "permanent" else "soft_bounce"
    else:
        kind = _MAILGUN.get(str(name), "other")
    message = item.get("message", {})
    headers_of = message.get("headers", {}) if isinstance(message, dict) else {}
    message_id = headers_of.get("message-id", "") if isinstance(headers_of, dict) else ""
    event = Event("mailgun", text_field(item, "id"), kind, text_field(item, "recipient"),
                  str(message_id), moment(item.get("timestamp"), now))  # fmt: skip
    return Received([event], nonce=str(signature["token"]))


# --- Resend (Svix) ----------------------------------------------------------------------

_RESEND: dict[str, Kind] = {"email.bounced": "hard_bounce", "email.complained": "complaint",
                            "email.delivered": "delivered"}  # fmt: skip


def _resend(secret: str, headers: Headers, body: bytes, now: datetime) -> Received:
    svix_id = headers.get("svix-id", "")
    sig.verify_svix(secret, svix_id, headers.get("svix-timestamp", ""),
                    headers.get("svix-signature", ""), body, now)  # fmt: skip
    data = json_object(_json(body), "the body")
    item = json_object(data.get("data"), "'data'")
    kind = _RESEND.get(str(data.get("type")), "other")
    bounce = item.get("bounce")
    if kind == "hard_bounce" and isinstance(bounce, dict) and bounce.get("type") == "Transient":
        kind = "soft_bounce"
    recipients = item.get("to")
    if isinstance(recipients, str):
        recipients = [recipients]
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise Malformed("'data.to' is not a list of addresses")
    when = moment(data.get("created_at"), now)
    message_id = text_field(item, "email_id", required=False)
    one = len(recipients) == 1
    return Received([
        Event("resend", svix_id if one else f"{svix_id}/{to}", kind, to, message_id, when)
        for to in recipients
    ])  # fmt: skip


# --- SendGrid ---------------------------------------------------------------------------

_SENDGRID: dict[str, Kind] = {
    "spamreport": "complaint", "unsubscribe": "unsubscribe",
    "group_unsubscribe": "unsubscribe", "delivered": "delivered",
}  # fmt: skip
# A "dropped" event: SendGrid did not send, because of what its suppression lists hold.
_DROPPED: dict[str, Kind] = {"Bounced Address": "hard_bounce", "Invalid": "hard_bounce",
                             "Unsubscribed Address": "unsubscribe",
                             "Spam Reporting Address": "unsubscribe"}  # fmt: skip


def _sendgrid(key: str, headers: Headers, body: bytes, now: datetime) -> Received:
    stamp = headers.get("x-twilio-email-event-webhook-timestamp", "")
    signature = headers.get("x-twilio-email-event-webhook-signature", "")
    sig.verify_sendgrid(key, stamp, signature, body)
    items = _json(body)
    if not isinstance(items, list):
        raise Malformed("the body is not a JSON array of events")
    return Received([_sendgrid_event(json_object(item, "an event"), now) for item in items])


def _sendgrid_event(item: dict[str, Any], now: datetime) -> Event:
    name = str(item.get("event", ""))
    kind: Kind = _SENDGRID.get(name, "other")
    if name == "bounce":
        kind = "soft_bounce" if item.get("type") == "blocked" else "hard_bounce"
    elif name == "dropped":
        kind = _DROPPED.get(str(item.get("reason", "")), "other")
    # sg_message_id is the X-Message-Id of the send, then ".filter…".
    message_id = text_field(item, "sg_message_id", required=False).partition(".")[0]
    return Event("sendgrid", text_field(item, "sg_event_id"), kind, text_field(item, "email"),
                 message_id, moment(item.get("timestamp"), now))  # fmt: skip


# --- Postmark ---------------------------------------------------------------------------

_POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})
_POSTMARK_SOFT = frozenset({"SoftBounce", "Transient", "DnsError", "Blocked", "DMARCPolicy"})
_SUPPRESSION: dict[str, Kind] = {"HardBounce": "hard_bounce", "SpamComplaint": "complaint",
                                 "ManualSuppression": "unsubscribe"}  # fmt: skip


def _postmark(credentials: str, headers: Headers, body: bytes, now: datetime) -> Received:
    sig.verify_basic(credentials, headers.get("authorization", ""))
    item = json_object(_json(body), "the body")
    record = item.get("RecordType")
    if record in ("Bounce", "SpamComplaint"):
        kind = _postmark_bounce(str(item.get("Type", "")))
        return Received([Event("postmark", text_field(item, "ID"), kind, text_field(item, "Email"),
                               text_field(item, "MessageID", required=False),
                               moment(item.get("BouncedAt"), now))])  # fmt: skip
    kind = "other"
    if record == "SubscriptionChange" and item.get("SuppressSending") is True:
        kind = _SUPPRESSION.get(str(item.get("SuppressionReason")), "unsubscribe")
    elif record == "Delivery":
        kind = "delivered"
    stamp = item.get("ChangedAt") or item.get("DeliveredAt") or item.get("ReceivedAt")
    message_id = text_field(item, "MessageID", required=False)
    event = Event("postmark", _digest(body), kind, text_field(item, "Recipient"), message_id,
                  moment(stamp, now))  # fmt: skip
    return Received([event])


def _postmark_bounce(bounce_type: str) -> Kind:
    if bounce_type == "SpamComplaint":
        return "complaint"
    if bounce_type == "Unsubscribe":
        return "unsubscribe"
    if bounce_type in _POSTMARK_HARD:
        return "hard_bounce"
    return "soft_bounce" if bounce_type in _POSTMARK_SOFT else "other"


# --- the generic endpoint ---------------------------------------------------------------


def _generic(token: str, headers: Headers, body: bytes, now: datetime) -> Received:
    """``POST /webhooks/bounce``: one event object or a list of them, each with
    ``address`` and ``kind`` (one of KINDS), and optionally ``id``, ``message_id``,
    ``when`` (RFC 3339); an event without an id is keyed by the hash of its fields."""
    sig.verify_bearer(token, headers.get("authorization", ""))
    data = _json(body)
    items = data if isinstance(data, list) else [data]
    return Received([_generic_event(json_object(item, "an event"), now) for item in items])


def _generic_event(item: dict[str, Any], now: datetime) -> Event:
    kind = text_field(item, "kind")
    if kind not in KINDS:
        raise Malformed(f"'kind' is {kind[:40]!r}; use one of {', '.join(KINDS)}")
    event_id = text_field(item, "id", required=False) or _digest(
        json.dumps(item, sort_keys=True).encode()
    )
    message_id = text_field(item, "message_id", required=False)
    return Event("bounce", event_id, kind, text_field(item, "address"),  # type: ignore[arg-type]
                 message_id, moment(item.get("when"), now))  # fmt: skip


PROVIDERS: dict[str, Provider] = {
    "mailgun": Provider("GAZETTE_MAILGUN_SIGNING_KEY", _mailgun),
    "resend": Provider("GAZETTE_RESEND_WEBHOOK_SECRET", _resend),
    "sendgrid": Provider("GAZETTE_SENDGRID_WEBHOOK_KEY", _sendgrid),
    "postmark": Provider("GAZETTE_POSTMARK_WEBHOOK_AUTH", _postmark),
    "bounce": Provider("GAZETTE_WEBHOOK_TOKEN", _generic),
}
