"""Amazon SNS messages, which is how SES reports bounces and complaints to an HTTPS
endpoint: each message's signature is checked against the certificate at its
SigningCertURL before anything in it is believed.

SNS signs a fixed list of the message's fields, each as ``name\\nvalue\\n`` in this
order (a notification's Subject only when present); SignatureVersion 1 is
SHA1withRSA, 2 SHA256withRSA. The certificate is fetched over https only from an SNS
host of the configured region (``sns.<region>.amazonaws.com``, ``.com.cn`` in China),
once per URL, and only topics the config names are accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gazette.config import Settings
from gazette.errors import GazetteError

_CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                        "TopicArn", "Type")  # fmt: skip
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
MOST_CERTIFICATES = 32  # SNS rotates its certificate now and then; a few URLs at most
CERTIFICATE_LIMIT = 64 * 1024  # bytes: a certificate is about 2 KB


class NotFromSns(GazetteError):
    """A message SNS did not sign, for a topic not configured, or not SNS's shape."""


class NotSnsShaped(NotFromSns):
    """A body that is not an SNS message at all (not JSON, or without SNS's fields)."""


class CertificateUnavailable(NotFromSns):
    """The certificate (or the SubscribeURL) of an SNS host could not be fetched just
    now: worth SNS's retry, unlike a forgery."""


@dataclass(frozen=True, slots=True)
class SnsMessage:
    """A message whose signature was checked."""

    kind: str  # Notification | SubscriptionConfirmation | UnsubscribeConfirmation
    message_id: str
    topic_arn: str
    message: str  # for SES: a JSON document, the bounce or complaint notification
    subscribe_url: str


def certificate_host(*regions: str) -> re.Pattern[str]:
    """The hosts SNS serves its signing certificates from in ``regions``."""
    names = "|".join(re.escape(region) for region in regions)
    return re.compile(rf"sns\.(?:{names})\.amazonaws\.com(\.cn)?")


def hosts_for(settings: Settings) -> SnsHosts:
    """The SNS hosts of the configured topics' regions; in tests, the loopback host of
    ``serve.sns_test_host``, trusted through ``serve.sns_test_cafile``."""
    serve = settings.serve
    if not serve.sns_test_host:
        return SnsHosts(certificate_host(*serve.sns_regions))
    trust: ssl.SSLContext | bool = True
    if serve.sns_test_cafile:
        trust = ssl.create_default_context(cafile=str(settings.resolve(serve.sns_test_cafile)))
    return SnsHosts(re.compile(re.escape(serve.sns_test_host.lower())), trust)


class SnsHosts:
    """What gazette fetches from SNS: the signing keys, once per certificate URL, and a
    subscription's confirmation (``verify``: the TLS trust to fetch with; the system's
    by default)."""

    def __init__(self, host: re.Pattern[str], verify: ssl.SSLContext | bool = True) -> None:
        self._host = host
        self._verify = verify
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()

    def key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            found = self._keys.get(url)
        if found is not None:
            return found
        key = self._fetch(url)
        with self._lock:
            if len(self._keys) >= MOST_CERTIFICATES:
                self._keys.clear()
            self._keys[url] = key
        return key

    def confirm(self, message: SnsMessage) -> None:
        """Confirms a verified SubscriptionConfirmation by fetching its SubscribeURL."""
        self._get(message.subscribe_url, "SubscribeURL")

    def _get(self, url: str, field: str) -> httpx.Response:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        if parts.scheme != "https" or not self._host.fullmatch(host) or "@" in host:
            raise NotFromSns(f"{field} {url[:120]!r} is not an SNS host of this region")
        try:
            with httpx.Client(verify=self._verify, timeout=10, follow_redirects=False) as client:
                answer = client.get(url)
        except httpx.HTTPError as error:
            raise CertificateUnavailable(f"{field} could not be fetched: {error}") from None
        if answer.status_code != 200 or len(answer.content) > CERTIFICATE_LIMIT:
            raise CertificateUnavailable(
                f"{field} could not be fetched: HTTP {answer.status_code}"
            )
        return answer

    def _fetch(self, url: str) -> rsa.RSAPublicKey:
        answer = self._get(url, "SigningCertURL")
        try:
            key = x509.load_pem_x509_certificate(answer.content).public_key()
        except ValueError:
            raise NotFromSns("the SNS certificate is not a PEM certificate") from None
        if not isinstance(key, rsa.RSAPublicKey):
            raise NotFromSns("the SNS certificate does not hold an RSA key")
        return key


def verified_message(
    body: bytes, topics: Sequence[str], hosts: SnsHosts
) -> SnsMessage:
    """The message in ``body`` once its topic is one of ``topics`` and SNS's signature
    over it holds (checked with the key ``hosts`` fetches); NotFromSns otherwise."""
    fields = _fields(body)
    kind = fields["Type"]
    if fields["TopicArn"] not in topics:
        raise NotFromSns(f"topic {fields['TopicArn'][:200]!r} is not in serve.ses_topic_arns")
    algorithm = HASHES.get(fields.get("SignatureVersion", ""))
    if algorithm is None:
        raise NotFromSns("SignatureVersion must be 1 or 2")
    try:
        signature = base64.b64decode(fields.get("Signature", ""), validate=True)
    except (binascii.Error, ValueError):
        raise NotFromSns("the signature is not base64") from None
    key = hosts.key(fields.get("SigningCertURL", ""))
    try:
        key.verify(signature, signed_text(fields), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise NotFromSns("the SNS signature does not match the message") from None
    return SnsMessage(kind, fields["MessageId"], fields["TopicArn"], fields["Message"],
                      fields.get("SubscribeURL", ""))  # fmt: skip


def signed_text(fields: Mapping[str, str]) -> bytes:
    """What SNS signs: each signed field present, as ``name\\nvalue\\n``."""
    names = SIGNED_FIELDS[fields["Type"]]
    return "".join(f"{name}\n{fields[name]}\n" for name in names if name in fields).encode()


def _fields(body: bytes) -> dict[str, str]:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotSnsShaped("the body is not JSON") from None
    if not isinstance(data, dict) or data.get("Type") not in SIGNED_FIELDS:
        raise NotSnsShaped("not an SNS message: no Type SNS sends")
    fields = {str(name): value for name, value in data.items() if isinstance(value, str)}
    missing = [n for n in SIGNED_FIELDS[fields["Type"]] if n != "Subject" and n not in fields]
    if missing:
        raise NotSnsShaped(f"an SNS {fields['Type']} without {', '.join(missing)}")
    return fields
