"""Postmark: ``POST /email/batch``, up to 500 messages a call.

A 200 answer still holds one verdict per message (its ``ErrorCode``, 0 when accepted),
in the order of the request. An error that concerns the server token or the account
(bad token, unconfirmed sender signature, no credits, pending account) stops the issue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from gazette.config import Settings
from gazette.mail import http
from gazette.mail.base import Envelope, Provider, SendResult, UncertainDelivery

NAME = "postmark"
PUBLIC_URL = "https://api.postmarkapp.com"
MOST = 500
VARIABLE = "GAZETTE_POSTMARK_TOKEN"
# Postmark's API error codes that concern the token or the account, not one message:
# 10 bad or missing token, 400 sender signature not found, 401 not confirmed,
# 405 not allowed to send (credits), 412 account pending, 413 account may not send.
ACCOUNT_ERRORS = frozenset({10, 400, 401, 405, 412, 413})


@dataclass(frozen=True, slots=True)
class PostmarkOptions:
    """A server token, the message stream, and how to reach the API."""

    token: str = field(repr=False)
    connection: http.Connection
    stream: str = "broadcast"
    batch_size: int = MOST

    def __post_init__(self) -> None:
        http.require_secret(self.token, VARIABLE, NAME)
        http.require(self.stream, "mail.postmark_stream", "set it to a broadcast stream id")
        http.batch_size(self.batch_size, MOST, NAME)


class PostmarkProvider(http.HttpProvider):
    """Sends batches through Postmark's batch endpoint."""

    name = NAME
    idempotent = False

    def __init__(self, options: PostmarkOptions) -> None:
        self.options = options
        self.batch_size = options.batch_size
        self._http = http.HttpClient(
            NAME,
            options.connection,
            idempotent=self.idempotent,
            describe=_describe,
            credentials=f"{VARIABLE} (a server token of the right server)",
            headers={
                "X-Postmark-Server-Token": options.token,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
        )

    def send(self, batch: Sequence[Envelope]) -> list[SendResult]:
        """One call for the whole batch; one result per envelope, in order."""
        http.check_batch(batch, self.batch_size, NAME)
        if not batch:
            return []
        body = http.encode_json([self._message(envelope) for envelope in batch])
        response = self._http.post("/email/batch", content=body)
        if response.is_success:
            return _verdicts(batch, http.json_answer(response, NAME))
        if _error_code(response) in ACCOUNT_ERRORS:
            raise self._http.rejected(response)
        return http.all_failed(batch, _describe(response))

    def _message(self, envelope: Envelope) -> dict[str, Any]:
        message: dict[str, Any] = {
            "From": envelope.sender,
            "To": envelope.recipient,
            "Subject": envelope.subject,
            "HtmlBody": envelope.html,
            "TextBody": envelope.text,
            "MessageStream": self.options.stream,
            "Headers": [
                {"Name": name, "Value": value}
                for name, value in http.extra_headers(envelope, "Reply-To")
            ],
        }
        reply_to = http.header(envelope, "Reply-To")
        if reply_to:
            message["ReplyTo"] = reply_to
        return message


def _verdicts(batch: Sequence[Envelope], answer: Any) -> list[SendResult]:
    if not isinstance(answer, list) or len(answer) != len(batch):
        count = len(answer) if isinstance(answer, list) else "no list of"
        raise UncertainDelivery(
            f"{NAME} answered {count} results for {len(batch)} messages; "
            "which of them were sent is unknown"
        )
    return [_verdict(envelope, item) for envelope, item in zip(batch, answer, strict=True)]


def _verdict(envelope: Envelope, item: Any) -> SendResult:
    item = item if isinstance(item, dict) else {}
    if item.get("ErrorCode") == 0:
        return SendResult(envelope.recipient, "sent", provider_id=str(item.get("MessageID", "")))
    words = item.get("Message") or "no verdict for this message"
    return SendResult(envelope.recipient, "failed", error=f"{item.get('ErrorCode')}: {words}")


def _error_code(response: httpx.Response) -> int | None:
    code = http.json_field(response, "ErrorCode")
    return code if isinstance(code, int) else None


def _describe(response: httpx.Response) -> str:
    words = http.error_words(response, "Message")
    code = _error_code(response)
    return f"{code}: {words}" if code is not None else words


def make(settings: Settings, environ: Mapping[str, str]) -> Provider:
    """The Postmark provider of ``settings``, its token from ``environ``."""
    mail = settings.mail
    options = PostmarkOptions(
        token=environ.get(VARIABLE, ""),
        connection=http.Connection.from_settings(mail, PUBLIC_URL),
        stream=mail.postmark_stream,
        batch_size=http.batch_size(mail.batch_size, MOST, NAME),
    )
    return PostmarkProvider(options)
