"""SNS messages (SES's bounces and complaints) believed only when SNS's signature holds:
signed here with a key of the test's own, whose certificate a local HTTPS server serves,
as SNS serves its own; versions 1 and 2, confirmations, and every way to fail."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gazette.digest.sns import NotFromSns, SnsHosts, certificate_host, verified_message

from ..sns_server import TOPIC, SnsServer, sns_server


@pytest.fixture(scope="module")
def sns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnsServer]:
    with sns_server(tmp_path_factory.mktemp("sns")) as server:
        yield server


def hosts(sns: SnsServer) -> SnsHosts:
    """What a test allows in place of sns.<region>.amazonaws.com: this server only."""
    return SnsHosts(re.compile(re.escape(sns.base.removeprefix("https://"))), sns.trust)


def body(fields: dict[str, str]) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_believed(sns: SnsServer, version: str) -> None:
    """SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA), signed with the key whose
    certificate the server serves: the message comes back, its SES JSON untouched."""
    message = verified_message(body(sns.message(version=version)), [TOPIC], hosts(sns))
    assert (message.kind, message.topic_arn) == ("Notification", TOPIC)
    assert json.loads(message.message) == {"notificationType": "Bounce"}


def test_the_certificate_is_fetched_once(sns: SnsServer) -> None:
    """Three messages with one SigningCertURL: one GET of the certificate."""
    checker, before = hosts(sns), sns.hits.get("/cert.pem", 0)
    for _ in range(3):
        verified_message(body(sns.message()), [TOPIC], checker)
    assert sns.hits["/cert.pem"] == before + 1


def tampered(sns: SnsServer) -> dict[str, str]:
    fields = sns.message()
    fields["Message"] = json.dumps({"notificationType": "Complaint"})
    return fields


def foreign_key(sns: SnsServer) -> dict[str, str]:
    other = SnsServer(sns.base, sns.trust, rsa.generate_private_key(public_exponent=65537,
                                                                    key_size=2048))  # fmt: skip
    return other.message()


REFUSED = {
    "a changed message": tampered,
    "signed with another key": foreign_key,
    "another topic": lambda sns: sns.message(TopicArn=TOPIC + "-other"),
    "a certificate URL off the SNS host": lambda sns: sns.message(
        SigningCertURL="https://example.org/cert.pem"),
    "a certificate URL over http": lambda sns: sns.message(
        SigningCertURL=sns.base.replace("https", "http") + "/cert.pem"),
    "an unknown signature version": lambda sns: sns.message(version="3"),
    "no signature": lambda sns: {k: v for k, v in sns.message().items() if k != "Signature"},
    "not an SNS type": lambda sns: sns.message() | {"Type": "Gossip"},
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_sns_did_not_sign_is_refused(sns: SnsServer, case: str) -> None:
    """Each forgery or foreign message is NotFromSns, naming what is wrong."""
    with pytest.raises(NotFromSns):
        verified_message(body(REFUSED[case](sns)), [TOPIC], hosts(sns))


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'{"Type": "Notification"}'])
def test_a_malformed_body_is_refused(sns: SnsServer, raw: bytes) -> None:
    """Not JSON, not an object, or an SNS type without its fields: NotFromSns."""
    with pytest.raises(NotFromSns):
        verified_message(raw, [TOPIC], hosts(sns))


def test_a_subscription_is_confirmed_by_fetching_its_url(sns: SnsServer) -> None:
    """A signed SubscriptionConfirmation for a configured topic: its SubscribeURL is
    fetched once; one whose SubscribeURL is off the SNS host is refused unfetched."""
    checker, before = hosts(sns), sns.hits.get("/confirm", 0)
    message = verified_message(body(sns.message("SubscriptionConfirmation")), [TOPIC], checker)
    checker.confirm(message)
    assert sns.hits["/confirm"] == before + 1
    elsewhere = sns.message("SubscriptionConfirmation", SubscribeURL="https://example.org/x")
    with pytest.raises(NotFromSns):
        checker.confirm(verified_message(body(elsewhere), [TOPIC], checker))
    assert sns.hits["/confirm"] == before + 1


def test_the_region_names_the_only_certificate_hosts() -> None:
    """eu-west-1 accepts sns.eu-west-1.amazonaws.com (and .com.cn), nothing else."""
    pattern = certificate_host("eu-west-1")
    assert pattern.fullmatch("sns.eu-west-1.amazonaws.com")
    assert pattern.fullmatch("sns.eu-west-1.amazonaws.com.cn")
    for host in ("sns.us-east-1.amazonaws.com", "sns.eu-west-1.amazonaws.com.evil.org",
                 "evilsns.eu-west-1.amazonaws.com", "sns-eu-west-1-amazonaws.com"):  # fmt: skip
        assert not pattern.fullmatch(host), host


def test_a_certificate_from_a_server_not_trusted_is_refused(sns: SnsServer) -> None:
    """TLS is checked: with the system's trust the test server's certificate fails."""
    checker = SnsHosts(re.compile(re.escape(sns.base.removeprefix("https://"))))
    with pytest.raises(NotFromSns, match="could not be fetched"):
        verified_message(body(sns.message()), [TOPIC], checker)
