"""Resend: ``POST /emails/batch``, up to 100 messages a call, with an ``Idempotency-Key``.

Resend keeps an idempotency key for 24 hours and answers a repeated request with the
first one's ids instead of sending again; so a call whose answer was lost is retried,
and is safe to resend later as long as the same envelopes go in the same batch. The key
is derived from the envelopes' own keys, so the same batch always gets the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from gazette.config import Settings
from gazette.mail import http
from gazette.mail.base import Envelope, Provider, SendResult, UncertainDelivery

NAME = "resend"
PUBLIC_URL = "https://api.resend.com"
MOST = 100
API_KEY = "GAZETTE_RESEND_API_KEY"


@dataclass(frozen=True, slots=True)
class ResendOptions:
    """An API key with sending access, and how to reach the API."""

    api_key: str = field(repr=False)
    connection: http.Connection
    batch_size: int = MOST

    def __post_init__(self) -> None:
        http.require_secret(self.api_key, API_KEY, NAME)
        http.batch_size(self.batch_size, MOST, NAME)


class ResendProvider(http.HttpProvider):
    """Sends batches through Resend's batch endpoint."""

    name = NAME
    idempotent = True

    def __init__(self, options: ResendOptions) -> None:
        self.options = options
        self.batch_size = options.batch_size
        self._http = http.HttpClient(
            NAME,
            options.connection,
            idempotent=self.idempotent,
            describe=_describe,
            credentials=f"{API_KEY} (a key with sending access, for a verified domain)",
            headers={
                "Authorization": f"Bearer {options.api_key}",
                "Content-Type": "application/json",
            },
            retryable=_retryable,
        )

    def send(self, batch: Sequence[Envelope]) -> list[SendResult]:
        """One call for the whole batch; one result per envelope, in order."""
        http.check_batch(batch, self.batch_size, NAME)
        if not batch:
            return []
        body = http.encode_json([_email(envelope) for envelope in batch])
        headers = {"Idempotency-Key": idempotency_key(batch)}
        response = self._http.post("/emails/batch", content=body, headers=headers)
        if response.is_success:
            return _sent(batch, http.json_answer(response, NAME))
        return http.all_failed(batch, _describe(response))


def idempotency_key(batch: Sequence[Envelope]) -> str:
    """The same key for the same envelopes in the same order (Resend takes 256 chars)."""
    digest = hashlib.sha256("\n".join(e.idempotency_key for e in batch).encode()).hexdigest()
    return f"gazette-batch/{digest}"


def _email(envelope: Envelope) -> dict[str, Any]:
    email: dict[str, Any] = {
        "from": envelope.sender,
        "to": [envelope.recipient],
        "subject": envelope.subject,
        "html": envelope.html,
        "text": envelope.text,
        "headers": dict(http.extra_headers(envelope, "Reply-To")),
    }
    reply_to = http.header(envelope, "Reply-To")
    if reply_to:
        email["reply_to"] = [reply_to]
    return email


def _sent(batch: Sequence[Envelope], answer: Any) -> list[SendResult]:
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list) or len(data) != len(batch):
        raise UncertainDelivery(
            f"{NAME} answered without one id per message ({len(batch)} sent): {answer!r:.200}"
        )
    return [
        SendResult(envelope.recipient, "sent", provider_id=str(item.get("id", "")))
        for envelope, item in zip(batch, data, strict=True)
    ]


def _retryable(response: httpx.Response) -> bool:
    # 409 concurrent_idempotent_requests: the same key is still being handled.
    return http.is_retryable(response) or _error_name(response) == "concurrent_idempotent_requests"


def _error_name(response: httpx.Response) -> str:
    return str(http.json_field(response, "name") or "")


def _describe(response: httpx.Response) -> str:
    words = http.error_words(response, "message")
    name = _error_name(response)
    return f"{name}: {words}" if name else words


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The Resend provider of ``settings``, its key from ``environ``."""
    mail = settings.mail
    options = ResendOptions(
        api_key=environ.get(API_KEY, ""),
        connection=http.Connection.from_settings(mail, PUBLIC_URL),
        batch_size=http.batch_size(mail.batch_size, MOST, NAME),
    )
    return ResendProvider(options)
