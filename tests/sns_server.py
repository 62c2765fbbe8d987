"""A local stand-in for SNS's certificate host: an HTTPS server on 127.0.0.1 serving
the certificate of a key the tests sign with, and SubscribeURL confirmations."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from gazette.digest.sns import signed_text

from .certificates import make_certificate

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
    cafile: Path | None = None  # the CA file that trusts the server's TLS certificate

    @property
    def host(self) -> str:
        """host:port, in place of sns.<region>.amazonaws.com."""
        return self.base.removeprefix("https://")

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


@contextmanager
def sns_server(folder: Path) -> Iterator[SnsServer]:
    """The server, running until the block ends; its TLS certificate is in ``folder``."""
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
        yield SnsServer(f"https://127.0.0.1:{server.server_port}", trust, key, hits,
                        cert_path)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
