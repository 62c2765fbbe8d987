"""SNS messages (SES's bounces and complaints) believed only when SNS's signature holds:
signed here with a key of the test's own, whose certificate a local HTTPS server serves,
as SNS serves its own; versions 1 and 2, confirmations, and every way to fail."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from gazette.digest.sns import NotFromSns, SnsHosts, certificate_host, signed_text, verified_message

from .conftest import make_certificate

TOPIC = "arn:aws:sns:eu-west-1:123456789012:gazette-bounces"


def signing_certificate(key: rsa.RSAPrivateKey) -> bytes:
    """A certificate of ``key``, as SNS's SigningCertURL serves one (PEM)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class SnsServer:
    """An HTTPS server on 127.0.0.1 serving /cert.pem and counting GETs of /confirm."""

    base: str
    trust: ssl.SSLContext
    key: rsa.RSAPrivateKey
    hits: dict[str, int] = field(default_factory=dict)

    def message(
        self, kind: str = "Notification", version: str = "2", **changes: str
    ) -> dict[str, str]:
        fields = {"Type": kind, "MessageId": "9e2b6a4c-0001", "TopicArn": TOPIC,
                  "Message": json.dumps({"notificationType": "Bounce"}),
                  "Timestamp": "2026-12-01T10:00:00.000Z", "SignatureVersion": version,
                  "SigningCertURL": f"{self.base}/cert.pem"}  # fmt: skip
        if kind != "Notification":
            fields |= {"Token": "2336412f37", "SubscribeURL": f"{self.base}/confirm"}
        else:
            fields["Subject"] = "Amazon SES Email Event Notification"
        fields |= changes
        # SignatureVersion 1 is SHA1withRSA by SNS's definition.
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303
        signature = self.key.sign(signed_text(fields), padding.PKCS1v15(), algorithm)
        fields["Signature"] = base64.b64encode(signature).decode()
        return fields


@pytest.fixture(scope="module")
def sns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnsServer]:
    folder = tmp_path_factory.mktemp("sns")
    cert_path, key_path = make_certificate(folder)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = signing_certificate(key)
    hits: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[self.path] = hits.get(self.path, 0) + 1
            body = pem if self.path == "/cert.pem" else b"<ConfirmSubscriptionResponse/>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    trust = ssl.create_default_context(cafile=str(cert_path))
    try:
        yield SnsServer(f"https://127.0.0.1:{server.server_port}", trust, key, hits)
    finally:
        server.shutdown()
        server.server_close()


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
