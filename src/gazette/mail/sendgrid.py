"""SendGrid: ``POST /v3/mail/send``, one message a call.

A call could carry up to 1,000 personalizations, but they share one body, and each
digest has its own unsubscribe link in its body and headers; so one envelope a call.
SendGrid answers 202 with no body; the message id is in ``X-Message-Id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

import httpx

from gazette.config import Settings
from gazette.mail import http
from gazette.mail.base import Envelope, Provider, SendResult

NAME = "sendgrid"
PUBLIC_URL = "https://api.sendgrid.com"
API_KEY = "GAZETTE_SENDGRID_API_KEY"


@dataclass(frozen=True, slots=True)
class SendGridOptions:
    """An API key with the Mail Send permission, and how to reach the API."""

    api_key: str = field(repr=False)
    connection: http.Connection

    def __post_init__(self) -> None:
        http.require_secret(self.api_key, API_KEY, NAME)


class SendGridProvider(http.OneMessageProvider):
    """Sends each envelope as one mail/send call."""

    name = NAME
    idempotent = False

    def __init__(self, options: SendGridOptions) -> None:
        self.options = options
        self._http = http.HttpClient(
            NAME,
            options.connection,
            idempotent=self.idempotent,
            describe=_describe,
            credentials=f"{API_KEY} (a key with the Mail Send permission)",
            headers={
                "Authorization": f"Bearer {options.api_key}",
                "Content-Type": "application/json",
            },
        )

    def send_one(self, envelope: Envelope) -> SendResult:
        """One call for one envelope."""
        response = self._http.post("/v3/mail/send", content=http.encode_json(_mail(envelope)))
        if response.is_success:
            message_id = response.headers.get("X-Message-Id", "")
            return SendResult(envelope.recipient, "sent", provider_id=message_id)
        return SendResult(envelope.recipient, "failed", error=_describe(response))


def _mail(envelope: Envelope) -> dict[str, Any]:
    mail: dict[str, Any] = {
        "personalizations": [{"to": [{"email": envelope.recipient}]}],
        "from": _address(envelope.sender),
        "subject": envelope.subject,
        # SendGrid wants text/plain before text/html.
        "content": [
            {"type": "text/plain", "value": envelope.text},
            {"type": "text/html", "value": envelope.html},
        ],
        "headers": dict(http.extra_headers(envelope, "Reply-To")),
        "custom_args": {"gazette_key": envelope.idempotency_key},
    }
    reply_to = http.header(envelope, "Reply-To")
    if reply_to:
        mail["reply_to"] = _address(reply_to)
    return mail


def _address(written: str) -> dict[str, str]:
    name, email = parseaddr(written)
    return {"email": email, "name": name} if name else {"email": email or written}


def _describe(response: httpx.Response) -> str:
    errors = http.json_field(response, "errors")
    if isinstance(errors, list) and errors:
        return "; ".join(_error(item) for item in errors)
    return http.error_words(response, "message")


def _error(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    field = item.get("field")
    message = str(item.get("message", ""))
    return f"{field}: {message}" if field else message


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The SendGrid provider of ``settings``, its key from ``environ``."""
    mail = settings.mail
    http.batch_size(mail.batch_size, 1, NAME)
    options = SendGridOptions(
        api_key=environ.get(API_KEY, ""),
        connection=http.Connection.from_settings(mail, PUBLIC_URL),
    )
    return SendGridProvider(options)
