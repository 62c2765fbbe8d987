"""Amazon SES v2: ``POST /v2/email/outbound-emails``, one raw message a call.

The digest's own MIME goes as ``Content.Raw``: SES's simple content would drop the
List-Unsubscribe headers that RFC 8058 one-click unsubscribe needs. Requests are signed
with Signature Version 4 by botocore, over httpx. Credentials come from the standard
AWS variables; an instance role or a profile file is not read.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gazette.config import Settings
from gazette.errors import ConfigError
from gazette.mail import http
from gazette.mail.base import Envelope, Provider, SendResult

NAME = "ses"
KEY_ID, SECRET, SESSION = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# Errors that concern the account or the configuration, not one recipient.
ACCOUNT_ERRORS = frozenset(
    {
        "AccountSuspendedException",
        "SendingPausedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",  # the configuration set
    }
)
THROTTLED = frozenset({"TooManyRequestsException", "ThrottlingException", "Throttling"})


@dataclass(frozen=True, slots=True)
class SesOptions:
    """AWS credentials, the region, an optional configuration set, and the endpoint."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    region: str
    connection: http.Connection
    session_token: str = field(default="", repr=False)
    configuration_set: str = ""

    def __post_init__(self) -> None:
        http.require_secret(self.access_key_id, KEY_ID, NAME)
        http.require_secret(self.secret_access_key, SECRET, NAME)
        http.require(
            self.region,
            "mail.ses_region (or AWS_REGION)",
            'set ses_region = "eu-west-1" (your SES region) under [mail]',
        )
        if not REGION.match(self.region):
            raise ConfigError(
                f"mail.ses_region = {self.region!r} is not an AWS region; "
                "write one such as eu-west-1 or us-east-1"
            )


class SigV4(httpx.Auth):
    """Signs each request (each retry afresh) with AWS Signature Version 4."""

    requires_request_body = True

    def __init__(self, credentials: Credentials, region: str, service: str = "ses") -> None:
        self._signer = SigV4Auth(credentials, service, region)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Adds Authorization, X-Amz-Date and, with a session, X-Amz-Security-Token."""
        signed = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=request.content,
            headers={"Content-Type": request.headers.get("Content-Type", "")},
        )
        self._signer.add_auth(signed)
        for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if name in signed.headers:
                request.headers[name] = signed.headers[name]
        yield request


class SesProvider(http.OneMessageProvider):
    """Sends each envelope's MIME as one SendEmail call."""

    name = NAME
    idempotent = False

    def __init__(self, options: SesOptions) -> None:
        self.options = options
        credentials = Credentials(
            options.access_key_id, options.secret_access_key, options.session_token or None
        )
        self._http = http.HttpClient(
            NAME,
            options.connection,
            idempotent=self.idempotent,
            describe=_describe,
            credentials=f"{KEY_ID}, {SECRET}, {SESSION} and the account's SES status",
            headers={"Content-Type": "application/json"},
            auth=SigV4(credentials, options.region),
            retryable=_retryable,
        )

    def send_one(self, envelope: Envelope) -> SendResult:
        """One call for one envelope."""
        body = http.encode_json(self._request(envelope))
        response = self._http.post("/v2/email/outbound-emails", content=body)
        if response.is_success:
            answer = http.json_answer(response, NAME)
            message_id = answer.get("MessageId", "") if isinstance(answer, dict) else ""
            return SendResult(envelope.recipient, "sent", provider_id=str(message_id))
        if _error_type(response) in ACCOUNT_ERRORS:
            raise self._http.rejected(response)
        return SendResult(envelope.recipient, "failed", error=_describe(response))

    def _request(self, envelope: Envelope) -> dict[str, Any]:
        request: dict[str, Any] = {
            "FromEmailAddress": parseaddr(envelope.sender)[1] or envelope.sender,
            "Destination": {"ToAddresses": [envelope.recipient]},
            "Content": {"Raw": {"Data": base64.b64encode(envelope.mime).decode("ascii")}},
        }
        if self.options.configuration_set:
            request["ConfigurationSetName"] = self.options.configuration_set
        return request


def _error_type(response: httpx.Response) -> str:
    """AWS's error code, from ``X-Amzn-ErrorType`` or the body's ``__type``/``code``."""
    written = response.headers.get("X-Amzn-ErrorType") or str(
        http.json_field(response, "__type") or http.json_field(response, "code") or ""
    )
    return written.split(":")[0].rpartition("#")[2]


def _retryable(response: httpx.Response) -> bool:
    return http.is_retryable(response) or _error_type(response) in THROTTLED


def _describe(response: httpx.Response) -> str:
    words = http.error_words(response, "message", "Message")
    kind = _error_type(response)
    return f"{kind}: {words}" if kind else words


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The SES provider of ``settings``, its credentials from ``environ``."""
    mail = settings.mail
    http.batch_size(mail.batch_size, 1, NAME)
    region = mail.ses_region or environ.get("AWS_REGION", "")
    options = SesOptions(
        access_key_id=environ.get(KEY_ID, ""),
        secret_access_key=environ.get(SECRET, ""),
        session_token=environ.get(SESSION, ""),
        region=region,
        configuration_set=mail.ses_configuration_set,
        connection=http.Connection.from_settings(mail, f"https://email.{region}.amazonaws.com"),
    )
    return SesProvider(options)
