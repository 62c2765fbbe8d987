"""SES's bounces and complaints through SNS to a real `gazette serve`: messages signed
with a key whose certificate a local HTTPS server serves (in place of SNS's host, by the
tests-only setting), in SES's documented notification shape; forged, foreign and
malformed messages refused with nothing changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..sns_server import TOPIC, SnsServer, sns_server
from .conftest import Served, build_site, start_serve
from .mailed import NUMBERS, event_count, mailed_reader, message_id, row


@pytest.fixture(scope="module")
def sns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnsServer]:
    with sns_server(tmp_path_factory.mktemp("sns")) as server:
        yield server


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ses")
    build_site(folder)
    return folder


@pytest.fixture(scope="module")
def served(site: Path, sns: SnsServer) -> Iterator[Served]:
    """The server the conftest's ``client`` talks to: SES's topic configured, and this
    module's SNS stand-in as its certificate host."""
    server = start_serve(site, serve_ses_topic_arns=TOPIC, serve_sns_test_host=sns.host,
                         serve_sns_test_cafile=str(sns.cafile))  # fmt: skip
    yield server
    server.stop()


@pytest.fixture
def reader(site: Path) -> str:
    return mailed_reader(site)


def ses_notification(kind: str, address: str, **part: Any) -> str:
    """SES's notification of ``kind`` (Bounce, Complaint, Delivery) for the issue mailed
    to ``address``, as SES documents it."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    mail = {"timestamp": now, "source": "digest@example.org", "messageId": message_id(address),
            "destination": [address], "sendingAccountId": "123456789012"}  # fmt: skip
    details: dict[str, Any] = {"timestamp": now, "feedbackId": f"feedback-{next(NUMBERS)}"}
    if kind == "Bounce":
        details |= {"bounceType": "Permanent", "bounceSubType": "General",
                    "bouncedRecipients": [{"emailAddress": address, "action": "failed",
                                           "status": "5.1.1",
                                           "diagnosticCode": "smtp; 550 5.1.1 no such user"}],
                    "reportingMTA": "dsn; a8-30.smtp-out.amazonses.com"}  # fmt: skip
    elif kind == "Complaint":
        details |= {"complainedRecipients": [{"emailAddress": address}],
                    "complaintFeedbackType": "abuse",
                    "userAgent": "Yahoo!-Mail-Feedback/2.0"}  # fmt: skip
    else:
        details = {"timestamp": now, "recipients": [address], "smtpResponse": "250 ok",
                   "processingTimeMillis": 546}  # fmt: skip
    details |= part
    return json.dumps({"notificationType": kind, "mail": mail, kind.lower(): details})


def post(client: httpx.Client, fields: dict[str, str]) -> httpx.Response:
    return client.post("/webhooks/ses", content=json.dumps(fields),
                       headers={"x-amz-sns-message-type": fields.get("Type", "")})  # fmt: skip


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_permanent_bounce_bounces_the_subscriber(
    client: httpx.Client, site: Path, sns: SnsServer, reader: str, version: str
) -> None:
    """A Permanent bounce signed by SNS (SignatureVersion 1 and 2): the subscriber is
    bounced and the delivery with SES's message id records it."""
    fields = sns.message(version=version, Message=ses_notification("Bounce", reader))
    answer = post(client, fields)
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] == 1
    assert row(site, reader) == ("bounced", "bounced")


def test_transient_bounces_count_to_the_limit(
    client: httpx.Client, site: Path, sns: SnsServer, reader: str
) -> None:
    """Transient bounces are soft: two keep the subscriber active, the third (the default
    mail.soft_bounce_limit) bounces it."""
    for number in range(3):
        if number:
            assert row(site, reader) == ("active", "soft_bounce")
        notification = ses_notification("Bounce", reader, bounceType="Transient",
                                        bounceSubType="MailboxFull")  # fmt: skip
        message = sns.message(MessageId=f"transient-{reader}-{number}", Message=notification)
        assert post(client, message).status_code == 200
    assert row(site, reader)[0] == "bounced"


def test_a_complaint_unsubscribes_and_not_spam_does_not(
    client: httpx.Client, site: Path, sns: SnsServer, reader: str
) -> None:
    """A complaint of type not-spam changes nothing; an abuse complaint unsubscribes the
    subscriber and the delivery records a complaint."""
    kept = ses_notification("Complaint", reader, complaintFeedbackType="not-spam")
    assert post(client, sns.message(MessageId=f"not-spam-{reader}", Message=kept)).json()[
        "changed"] == 0  # fmt: skip
    assert row(site, reader) == ("active", "")
    notification = ses_notification("Complaint", reader)
    assert post(client, sns.message(MessageId=f"abuse-{reader}", Message=notification)).json()[
        "changed"] == 1  # fmt: skip
    assert row(site, reader) == ("unsubscribed", "complained")


def test_a_delivery_is_not_a_bounce_and_a_replay_counts_once(
    client: httpx.Client, site: Path, sns: SnsServer, reader: str
) -> None:
    """A Delivery notification records the delivery and leaves the subscriber active;
    the same notification posted again (SNS retries) adds no event."""
    notification = ses_notification("Delivery", reader)
    fields = sns.message(MessageId=f"delivery-{reader}", Message=notification)
    assert post(client, fields).json()["applied"] == 1
    before = event_count(site)
    assert post(client, fields).json() == {"applied": 0, "repeated": 1, "unknown": 0,
                                           "changed": 0}  # fmt: skip
    assert event_count(site) == before
    assert row(site, reader) == ("active", "delivered")


def test_a_subscription_to_the_topic_is_confirmed(client: httpx.Client, sns: SnsServer) -> None:
    """A signed SubscriptionConfirmation of the configured topic: its SubscribeURL is
    fetched once, and the answer names the topic."""
    before = sns.hits.get("/confirm", 0)
    answer = post(client, sns.message("SubscriptionConfirmation"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"confirmed": TOPIC}
    assert sns.hits["/confirm"] == before + 1


def forged(sns: SnsServer, address: str) -> dict[str, str]:
    fields = sns.message(Message=ses_notification("Delivery", address))
    fields["Message"] = ses_notification("Bounce", address)
    return fields


REFUSED = {
    "a message changed after signing": (forged, 403),
    "another topic": (lambda sns, a: sns.message(TopicArn=TOPIC + "-other",
                                                 Message=ses_notification("Bounce", a)), 403),
    "a certificate off the SNS host": (lambda sns, a: sns.message(
        SigningCertURL="https://example.org/cert.pem", Message=ses_notification("Bounce", a)),
        403),
    "no signature": (lambda sns, a: {k: v for k, v in sns.message(
        Message=ses_notification("Bounce", a)).items() if k != "Signature"}, 403),
    "not an SNS message": (lambda sns, a: {"notificationType": "Bounce"}, 400),
    "a signed message that is not SES's": (lambda sns, a: sns.message(
        Message=json.dumps({"notificationType": "Bounce", "bounce": {}})), 400),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_sns_did_not_sign_changes_nothing(
    client: httpx.Client, site: Path, sns: SnsServer, reader: str, case: str
) -> None:
    """Each forged, foreign or malformed message is refused with its status, and the
    subscriber, the ledger and the event log are as they were."""
    make, status = REFUSED[case]
    before = event_count(site)
    answer = post(client, make(sns, reader))
    assert answer.status_code == status, answer.text
    assert row(site, reader) == ("active", "")
    assert event_count(site) == before


def test_without_topics_the_route_refuses_everything(
    site: Path, sns: SnsServer, reader: str
) -> None:
    """A server whose serve.ses_topic_arns is empty answers 503 to a correctly signed
    bounce (SNS retries it once the topic is configured) and applies nothing."""
    server = start_serve(site)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as session:
            answer = post(session, sns.message(Message=ses_notification("Bounce", reader)))
            assert answer.status_code == 503
    finally:
        server.stop()
    assert row(site, reader) == ("active", "")
