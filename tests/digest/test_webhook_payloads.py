"""Each provider's documented event names read into the right kind, and its signature
checked as documented, as pure functions (no HTTP, no database)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from gazette.digest.events import BadSignature, Malformed, NotConfigured, Unsigned, receive

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))
POSTMARK = {"GAZETTE_POSTMARK_WEBHOOK_AUTH": "hook:secret"}
BASIC = {"authorization": "Basic " + base64.b64encode(b"hook:secret").decode()}
RESEND_SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def postmark(record: dict[str, object]) -> list[tuple[str, str]]:
    received = receive("postmark", BASIC, json.dumps(record).encode(), POSTMARK, NOW)
    return [(e.kind, e.address) for e in received.events]


@pytest.mark.parametrize(("bounce_type", "kind"), [
    ("HardBounce", "hard_bounce"), ("BadEmailAddress", "hard_bounce"),
    ("SoftBounce", "soft_bounce"), ("Transient", "soft_bounce"), ("DnsError", "soft_bounce"),
    ("SpamComplaint", "complaint"), ("AutoResponder", "other"), ("OpenRelayTest", "other"),
])  # fmt: skip
def test_postmark_bounce_types(bounce_type: str, kind: str) -> None:
    """Postmark's Bounce Type names map to hard, soft, complaint, or no bounce at all."""
    record = {"RecordType": "Bounce", "ID": 42, "Type": bounce_type, "Email": "a@example.org",
              "MessageID": "m", "BouncedAt": "2026-12-01T07:00:00-05:00"}  # fmt: skip
    assert postmark(record) == [(kind, "a@example.org")]


def test_postmark_subscription_change_and_reactivation() -> None:
    """A SubscriptionChange that suppresses sending unsubscribes; one that lifts the
    suppression is no event for the list (it does not resubscribe anybody)."""
    change = {"RecordType": "SubscriptionChange", "Recipient": "a@example.org",
              "SuppressSending": True, "SuppressionReason": "ManualSuppression",
              "ChangedAt": "2026-12-01T11:00:00Z", "MessageID": "m"}  # fmt: skip
    assert postmark(change) == [("unsubscribe", "a@example.org")]
    assert postmark({**change, "SuppressSending": False}) == [("other", "a@example.org")]


def test_sendgrid_key_that_is_not_ecdsa_is_a_configuration_problem() -> None:
    """A GAZETTE_SENDGRID_WEBHOOK_KEY that is no base64 DER EC key stops every request,
    naming the variable, rather than accepting any."""
    headers = {"x-twilio-email-event-webhook-signature": "AAAA",
               "x-twilio-email-event-webhook-timestamp": STAMP}  # fmt: skip
    with pytest.raises(NotConfigured, match="GAZETTE_SENDGRID_WEBHOOK_KEY"):
        receive("sendgrid", headers, b"[]", {"GAZETTE_SENDGRID_WEBHOOK_KEY": "bm9wZQ=="}, NOW)


def svix(body: bytes, stamp: str = STAMP) -> dict[str, str]:
    key = base64.b64decode(RESEND_SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"msg_1.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {"svix-id": "msg_1", "svix-timestamp": stamp,
            "svix-signature": "v1," + base64.b64encode(digest).decode()}  # fmt: skip


def test_resend_transient_bounce_is_soft_and_each_recipient_is_an_event() -> None:
    """Resend's email.bounced with bounce type Transient is a soft bounce, one event per
    recipient, each with its own id."""
    body = json.dumps({"type": "email.bounced", "created_at": "2026-12-01T11:59:00Z",
                       "data": {"email_id": "e1", "to": ["a@example.org", "b@example.org"],
                                "bounce": {"type": "Transient"}}}).encode()  # fmt: skip
    environ = {"GAZETTE_RESEND_WEBHOOK_SECRET": RESEND_SECRET}
    events = receive("resend", svix(body), body, environ, NOW).events
    assert [(e.kind, e.event_id) for e in events] == [
        ("soft_bounce", "msg_1/a@example.org"), ("soft_bounce", "msg_1/b@example.org")
    ]  # fmt: skip


def test_resend_signature_from_the_future_is_refused() -> None:
    """A Svix timestamp more than 5 minutes ahead is refused like a stale one."""
    body = b'{"type": "email.delivered", "data": {"to": ["a@example.org"]}}'
    environ = {"GAZETTE_RESEND_WEBHOOK_SECRET": RESEND_SECRET}
    ahead = str(int(NOW.timestamp()) + 400)
    with pytest.raises(BadSignature, match="timestamp"):
        receive("resend", svix(body, ahead), body, environ, NOW)


def test_mailgun_body_without_signature_is_unsigned_and_non_json_is_malformed() -> None:
    """A Mailgun body with no signature block is Unsigned; a body that is no JSON is
    Malformed (its signature lives inside the body)."""
    environ = {"GAZETTE_MAILGUN_SIGNING_KEY": "k"}
    with pytest.raises(Unsigned):
        receive("mailgun", {}, b'{"event-data": {}}', environ, NOW)
    with pytest.raises(Malformed):
        receive("mailgun", {}, b"event=failed", environ, NOW)


def test_public_surface_is_deliberate() -> None:
    """gazette.digest.events exports exactly what the web and the CLI may use."""
    from gazette.digest import events  # noqa: PLC0415 - the module under test

    assert events.__all__ == [
        "KINDS", "PROVIDERS", "TOLERANCE", "Applied", "BadSignature", "Event", "Kind",
        "Malformed", "NotConfigured", "Received", "Unsigned", "WebhookError", "apply_events",
        "claim_nonce", "receive",
    ]  # fmt: skip
