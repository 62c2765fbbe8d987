"""Provider webhooks against the real `gazette serve`: payloads in each provider's
documented shape, signed as it documents (and wrongly), then the subscribers and the
ledger read back; replayed, reordered, unknown-address, malformed and unsigned events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gazette.digest.subscribers import add_subscriber
from gazette.store import Store

from .conftest import CONFIG, Served, base_environment, build_site, start_serve
from .mailed import NUMBERS, event_count, mailed_reader, message_id, row

MAILGUN_KEY = "mailgun-signing-key-for-tests"
RESEND_SECRET = "whsec_" + base64.b64encode(b"resend-test-secret-32-bytes-long").decode()
POSTMARK_AUTH = "postmark:hook-password"
TOKEN = "generic-bearer-token-for-tests"  # noqa: S105 - made up for a loopback server
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()
SECRETS = {"mailgun_signing_key": MAILGUN_KEY, "resend_webhook_secret": RESEND_SECRET,
           "sendgrid_webhook_key": SENDGRID_PUBLIC, "postmark_webhook_auth": POSTMARK_AUTH,
           "webhook_token": TOKEN}  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("webhooks")
    build_site(folder)
    return folder


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[Served]:
    server = start_serve(site, **SECRETS)
    yield server
    server.stop()


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as session:
        yield session


@pytest.fixture
def reader(site: Path) -> str:
    """A new active subscriber, mailed one issue under ``message_id(address)``."""
    return mailed_reader(site)


# --- Mailgun ----------------------------------------------------------------------------


def mailgun_body(address: str, event: str, severity: str = "", key: str = MAILGUN_KEY,
                 stamp: float | None = None, token: str = "") -> bytes:  # fmt: skip
    stamp_text = str(int(stamp if stamp is not None else time.time()))
    token = token or f"token-{next(NUMBERS):046d}"
    signature = hmac.new(key.encode(), (stamp_text + token).encode(), hashlib.sha256)
    headers = {"message-id": message_id(address)}
    data = {"event": event, "id": f"mg-{next(NUMBERS)}", "timestamp": time.time(),
            "recipient": address, "message": {"headers": headers}}  # fmt: skip
    if severity:
        data["severity"] = severity
    return json.dumps({
        "signature": {"timestamp": stamp_text, "token": token,
                      "signature": signature.hexdigest()},
        "event-data": data,
    }).encode()  # fmt: skip


def test_mailgun_permanent_failure_bounces(client: httpx.Client, site: Path, reader: str) -> None:
    """Mailgun's failed/permanent, signed with the signing key, bounces the subscriber."""
    answer = client.post("/webhooks/mailgun", content=mailgun_body(reader, "failed", "permanent"))
    assert answer.status_code == 200, answer.text
    assert row(site, reader) == ("bounced", "bounced")


def test_mailgun_wrong_key_stale_timestamp_and_reused_token_are_refused(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """A signature made with another key, a timestamp 10 minutes old and a token used
    before are each refused with 403, and the subscriber stays active."""
    wrong = mailgun_body(reader, "failed", "permanent", key="another-key")
    stale = mailgun_body(reader, "failed", "permanent", stamp=time.time() - 600)
    assert client.post("/webhooks/mailgun", content=wrong).status_code == 403
    assert client.post("/webhooks/mailgun", content=stale).status_code == 403
    token = f"token-reused-{next(NUMBERS):040d}"
    first = mailgun_body(reader, "delivered", token=token)
    assert client.post("/webhooks/mailgun", content=first).status_code == 200
    again = mailgun_body(reader, "failed", "permanent", token=token)
    assert client.post("/webhooks/mailgun", content=again).status_code == 403
    assert row(site, reader) == ("active", "delivered")


def test_mailgun_temporary_failures_count_to_the_limit(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """Three temporary failures (the default soft_bounce_limit) bounce; two do not."""
    for _ in range(2):
        body = mailgun_body(reader, "failed", "temporary")
        assert client.post("/webhooks/mailgun", content=body).status_code == 200
    assert row(site, reader) == ("active", "soft_bounce")
    client.post("/webhooks/mailgun", content=mailgun_body(reader, "failed", "temporary"))
    assert row(site, reader)[0] == "bounced"


# --- Resend (Svix) ----------------------------------------------------------------------


def svix_headers(body: bytes, message_id: str, secret: str = RESEND_SECRET,
                 stamp: float | None = None) -> dict[str, str]:  # fmt: skip
    stamp_text = str(int(stamp if stamp is not None else time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{stamp_text}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {"svix-id": message_id, "svix-timestamp": stamp_text,
            "svix-signature": f"v1,{base64.b64encode(b'x' * 32).decode()} v1,{signature}",
            "content-type": "application/json"}  # fmt: skip


def resend_body(address: str, kind: str) -> bytes:
    return json.dumps({"type": kind, "created_at": datetime.now(UTC).isoformat(),
                       "data": {"email_id": message_id(address), "to": [address],
                                "subject": "News"}}).encode()  # fmt: skip


def test_resend_complaint_unsubscribes(client: httpx.Client, site: Path, reader: str) -> None:
    """Resend's email.complained with a good Svix signature unsubscribes and records it."""
    body = resend_body(reader, "email.complained")
    answer = client.post("/webhooks/resend", content=body, headers=svix_headers(body, "msg_1a"))
    assert answer.status_code == 200, answer.text
    assert row(site, reader) == ("unsubscribed", "complained")


def test_resend_bad_or_old_signature_is_refused(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """A Svix signature from another secret or 6 minutes old is refused (403), headers
    missing are 401, and the subscriber stays active."""
    body = resend_body(reader, "email.bounced")
    other = "whsec_" + base64.b64encode(b"another-secret-of-thirty-two-by.").decode()
    bad = svix_headers(body, "msg_2a", secret=other)
    old = svix_headers(body, "msg_2b", stamp=time.time() - 360)
    assert client.post("/webhooks/resend", content=body, headers=bad).status_code == 403
    assert client.post("/webhooks/resend", content=body, headers=old).status_code == 403
    assert client.post("/webhooks/resend", content=body).status_code == 401
    assert row(site, reader) == ("active", "")


# --- SendGrid ---------------------------------------------------------------------------


def sendgrid_headers(body: bytes, key: ec.EllipticCurvePrivateKey = SENDGRID_KEY) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
            "content-type": "application/json"}  # fmt: skip


def sendgrid_event(address: str, event: str, number: int, **extra: object) -> dict[str, object]:
    return {"email": address, "timestamp": int(time.time()) - 100 + number, "event": event,
            "sg_event_id": f"sg-{address}-{number}",
            "sg_message_id": f"{message_id(address)}.filter0001-1-2-3.0", **extra}  # fmt: skip


def test_sendgrid_batch_in_any_order_replayed_counts_once(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """A signed batch with a bounce before a delivery of the same message, a spam report
    for another subscriber, an open and an unknown address: applied once; posted again,
    nothing more happens."""
    other = f"reader{next(NUMBERS)}@example.org"
    reporter = f"reader{next(NUMBERS)}@example.org"
    store = Store(f"sqlite:///{site / 'state.db'}")
    with store.transaction() as connection:
        add_subscriber(connection, other, "", datetime.now(UTC) - timedelta(days=1))
        add_subscriber(connection, reporter, "", datetime.now(UTC) - timedelta(days=1))
    store.close()
    batch = [sendgrid_event(reader, "bounce", 2, type="bounce", reason="550 no such user"),
             sendgrid_event(reader, "delivered", 1),
             sendgrid_event(other, "open", 3), sendgrid_event(reporter, "spamreport", 4),
             sendgrid_event("stranger@example.org", "bounce", 5, type="bounce")]  # fmt: skip
    body = json.dumps(batch).encode()
    first = client.post("/webhooks/sendgrid", content=body, headers=sendgrid_headers(body))
    assert first.json() == {"applied": 5, "repeated": 0, "unknown": 1, "changed": 2}
    again = client.post("/webhooks/sendgrid", content=body, headers=sendgrid_headers(body))
    assert again.json() == {"applied": 0, "repeated": 5, "unknown": 0, "changed": 0}
    assert row(site, reader) == ("bounced", "bounced")
    with sqlite3.connect(site / "state.db") as connection:
        statuses = dict(connection.execute(
            "SELECT address, status FROM subscribers WHERE address IN (?, ?)", (other, reporter)
        ).fetchall())  # fmt: skip
    assert statuses == {other: "active", reporter: "unsubscribed"}


def test_sendgrid_signature_of_another_key_or_changed_body_is_refused(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """A batch signed with another key, or changed after signing, is refused (403) and
    nothing is recorded."""
    body = json.dumps([sendgrid_event(reader, "bounce", 1, type="bounce")]).encode()
    other = sendgrid_headers(body, ec.generate_private_key(ec.SECP256R1()))
    before = event_count(site)
    assert client.post("/webhooks/sendgrid", content=body, headers=other).status_code == 403
    changed = body.replace(b"bounce", b"blocks", 1)
    headers = sendgrid_headers(body)
    assert client.post("/webhooks/sendgrid", content=changed, headers=headers).status_code == 403
    assert (row(site, reader), event_count(site)) == (("active", ""), before)


def test_sendgrid_malformed_batch_is_400_and_changes_nothing(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """A signed body that is not a JSON array, or an event without sg_event_id, is 400
    and even the good events beside it are not applied."""
    good = sendgrid_event(reader, "bounce", 1, type="bounce")
    for body in (b'{"not": "a list"}', b"[{", json.dumps([good, {"email": reader}]).encode()):
        answer = client.post("/webhooks/sendgrid", content=body, headers=sendgrid_headers(body))
        assert answer.status_code == 400, body
    assert row(site, reader) == ("active", "")


# --- Postmark ---------------------------------------------------------------------------


def postmark_auth(credentials: str = POSTMARK_AUTH) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


def test_postmark_hard_bounce_and_bad_credentials(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """Postmark's Bounce/HardBounce is refused without (401) or with wrong (403) basic
    auth, and bounces the subscriber with the right one."""
    bounce = {"RecordType": "Bounce", "ID": next(NUMBERS), "Type": "HardBounce",
              "TypeCode": 1, "MessageID": message_id(reader), "Email": reader,
              "BouncedAt": datetime.now(UTC).isoformat()}  # fmt: skip
    assert client.post("/webhooks/postmark", json=bounce).status_code == 401
    wrong = postmark_auth("postmark:guess")
    assert client.post("/webhooks/postmark", json=bounce, headers=wrong).status_code == 403
    assert row(site, reader) == ("active", "")
    answer = client.post("/webhooks/postmark", json=bounce, headers=postmark_auth())
    assert answer.status_code == 200
    assert row(site, reader) == ("bounced", "bounced")


def test_postmark_delivery_is_not_a_bounce(client: httpx.Client, site: Path, reader: str) -> None:
    """Postmark's Delivery record changes no subscriber; the delivery records it."""
    delivery = {"RecordType": "Delivery", "MessageID": message_id(reader), "Recipient": reader,
                "DeliveredAt": datetime.now(UTC).isoformat(), "Details": "250 OK"}  # fmt: skip
    assert client.post("/webhooks/postmark", json=delivery, headers=postmark_auth()).is_success
    assert row(site, reader) == ("active", "delivered")


# --- the generic endpoint, and a webhook without its secret -----------------------------


def test_generic_endpoint_needs_the_bearer_token(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """POST /webhooks/bounce applies a hard bounce with the bearer token, refuses none
    (401) or another (403), and says 400 for an unknown kind."""
    event = {"address": reader, "kind": "hard_bounce", "id": f"script-{reader}",
             "message_id": message_id(reader), "when": datetime.now(UTC).isoformat()}  # fmt: skip
    assert client.post("/webhooks/bounce", json=event).status_code == 401
    other = {"authorization": "Bearer not-the-token"}
    assert client.post("/webhooks/bounce", json=event, headers=other).status_code == 403
    bearer = {"authorization": f"Bearer {TOKEN}"}
    odd = {**event, "kind": "opened"}
    assert client.post("/webhooks/bounce", json=odd, headers=bearer).status_code == 400
    assert row(site, reader) == ("active", "")
    assert client.post("/webhooks/bounce", json=event, headers=bearer).status_code == 200
    assert row(site, reader) == ("bounced", "bounced")


def test_webhook_without_its_secret_refuses_everything(site: Path, reader: str) -> None:
    """With no secrets in the environment, every webhook answers 503 and applies nothing,
    even a request signed with the key another server would use."""
    server = start_serve(site)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as session:
            body = mailgun_body(reader, "failed", "permanent")
            assert session.post("/webhooks/mailgun", content=body).status_code == 503
            bearer = {"authorization": f"Bearer {TOKEN}"}
            event = {"address": reader, "kind": "hard_bounce"}
            assert session.post("/webhooks/bounce", json=event, headers=bearer).status_code == 503
    finally:
        server.stop()
    assert row(site, reader) == ("active", "")


def test_body_past_the_webhook_limit_is_refused(client: httpx.Client) -> None:
    """A body over 5 MB is refused with 413 before it is read whole."""
    body = b"[" + b'{"event": "open"},' * (5 * 1024 * 1024 // 17) + b"{}]"
    answer = client.post("/webhooks/sendgrid", content=body, headers=sendgrid_headers(b""))
    assert answer.status_code == 413


def test_sendgrid_batch_of_a_thousand_events_is_applied(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """A signed batch of 1,000 events (SendGrid's largest) is applied whole."""
    batch = [sendgrid_event(f"gone{n}@example.org", "delivered", n) for n in range(999)]
    batch.append(sendgrid_event(reader, "bounce", 1000, type="bounce"))
    body = json.dumps(batch).encode()
    answer = client.post("/webhooks/sendgrid", content=body, headers=sendgrid_headers(body))
    assert answer.json() == {"applied": 1000, "repeated": 0, "unknown": 999, "changed": 1}
    assert row(site, reader) == ("bounced", "bounced")


def test_bounced_subscribers_are_listed_by_status(
    client: httpx.Client, site: Path, reader: str
) -> None:
    """After a webhook bounce, `gazette subscribers list --status bounced` lists the
    address and `--status active` no longer does."""
    event = {"address": reader, "kind": "hard_bounce", "id": f"listed-{reader}"}
    bearer = {"authorization": f"Bearer {TOKEN}"}
    assert client.post("/webhooks/bounce", json=event, headers=bearer).status_code == 200

    def listed(status: str) -> list[str]:
        done = subprocess.run(
            ["gazette", "--config", str(CONFIG), "subscribers", "list", "--status", status],
            env=base_environment(site), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return [line.split("\t")[0] for line in done.stdout.splitlines()]

    assert reader in listed("bounced")
    assert reader not in listed("active")
