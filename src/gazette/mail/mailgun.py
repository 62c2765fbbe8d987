"""Mailgun: ``POST /v3/<domain>/messages.mime``, one message a call.

The digest's own MIME goes as it is, so its Message-ID and unsubscribe headers reach
the reader unchanged. A domain lives in one region: its API is api.mailgun.net (US) or
api.eu.mailgun.net (EU), and a key of one region is refused by the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from gazette.config import Settings
from gazette.errors import ConfigError
from gazette.mail import http
from gazette.mail.base import Envelope, Provider, SendResult

NAME = "mailgun"
REGION_URLS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}
API_KEY = "GAZETTE_MAILGUN_API_KEY"
DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class MailgunOptions:
    """An API key, the sending domain, and how to reach the domain's region."""

    api_key: str = field(repr=False)
    domain: str
    connection: http.Connection
    region: Literal["us", "eu"] = "us"

    def __post_init__(self) -> None:
        http.require_secret(self.api_key, API_KEY, NAME)
        http.require(
            self.domain, "mail.mailgun_domain", "set it to your sending domain, e.g. mg.example.org"
        )
        if not DOMAIN.match(self.domain):
            raise ConfigError(
                f"mail.mailgun_domain = {self.domain!r} is not a domain name; "
                "write the sending domain alone, such as mg.example.org"
            )


class MailgunProvider(http.OneMessageProvider):
    """Sends each envelope's MIME as one messages.mime call."""

    name = NAME
    idempotent = False

    def __init__(self, options: MailgunOptions) -> None:
        self.options = options
        self._path = f"/v3/{options.domain}/messages.mime"
        self._http = http.HttpClient(
            NAME,
            options.connection,
            idempotent=self.idempotent,
            describe=_describe,
            credentials=(
                f"{API_KEY}, mail.mailgun_domain and mail.mailgun_region "
                f"(now {options.domain!r} in {options.region.upper()})"
            ),
            auth=httpx.BasicAuth("api", options.api_key),
        )

    def send_one(self, envelope: Envelope) -> SendResult:
        """One call for one envelope."""
        response = self._http.post(
            self._path,
            data={"to": envelope.recipient},
            files={"message": ("message.eml", envelope.mime, "message/rfc822")},
        )
        if response.is_success:
            answer = http.json_answer(response, NAME)
            message_id = answer.get("id", "") if isinstance(answer, dict) else ""
            return SendResult(envelope.recipient, "sent", provider_id=str(message_id))
        if response.status_code == 404:  # the domain is not in this account and region
            raise self._http.rejected(response)
        return SendResult(envelope.recipient, "failed", error=_describe(response))


def _describe(response: httpx.Response) -> str:
    return http.error_words(response, "message")


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The Mailgun provider of ``settings``, its key from ``environ``."""
    mail = settings.mail
    http.batch_size(mail.batch_size, 1, NAME)
    options = MailgunOptions(
        api_key=environ.get(API_KEY, ""),
        domain=mail.mailgun_domain,
        connection=http.Connection.from_settings(mail, REGION_URLS[mail.mailgun_region]),
        region=mail.mailgun_region,
    )
    return MailgunProvider(options)
