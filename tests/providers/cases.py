"""Each HTTP provider as the retry tests see it: how to build it and how its API answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug import Response

from gazette.mail import http
from gazette.mail.base import Provider
from gazette.mail.mailgun import MailgunOptions, MailgunProvider
from gazette.mail.postmark import PostmarkOptions, PostmarkProvider
from gazette.mail.resend import ResendOptions, ResendProvider
from gazette.mail.sendgrid import SendGridOptions, SendGridProvider
from gazette.mail.ses import SesOptions, SesProvider

ATTEMPTS = 3


def connection(url: str) -> http.Connection:
    """A short-tempered connection to a loopback server."""
    return http.Connection(url.rstrip("/"), timeout=5, max_attempts=ATTEMPTS)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, JSON (or text) body, extra headers."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        """The answer as a werkzeug response."""
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        kind = "text/plain" if isinstance(self.body, str) else "application/json"
        return Response(text, status=self.status, headers=self.headers, content_type=kind)

    def raw(self) -> bytes:
        """The answer as bytes on the wire."""
        body = (self.body if isinstance(self.body, str) else json.dumps(self.body)).encode()
        head = [f"HTTP/1.1 {self.status} X", f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Case:
    """A provider, its endpoint, and its answers: success, rejected key, bad request."""

    name: str
    path: str
    build: Callable[[str], Provider]
    ok: Callable[[int], Answer]
    rejected: Answer
    bad: Answer
    bad_words: str  # what the failed results must quote from ``bad``
    rejected_words: str  # what ProviderRejected must quote from ``rejected``
    batch: int = 2  # envelopes a test sends in one call


CASES = [
    Case(
        "postmark",
        "/email/batch",
        lambda url: PostmarkProvider(PostmarkOptions("pm-token", connection(url))),
        lambda n: Answer(
            200, [{"ErrorCode": 0, "Message": "OK", "MessageID": f"pm-{i}"} for i in range(n)]
        ),
        Answer(401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}),
        Answer(422, {"ErrorCode": 300, "Message": "Invalid email request"}),
        "300: Invalid email request",
        "10: Bad or missing Server API token.",
    ),
    Case(
        "sendgrid",
        "/v3/mail/send",
        lambda url: SendGridProvider(SendGridOptions("SG.key", connection(url))),
        lambda n: Answer(202, "", {"X-Message-Id": "sg-0"}),
        Answer(
            401,
            {
                "errors": [
                    {
                        "message": "The provided authorization grant is invalid, "
                        "expired, or revoked",
                        "field": None,
                        "help": None,
                    }
                ]
            },
        ),
        Answer(
            400,
            {
                "errors": [
                    {
                        "message": "The from address does not match a verified Sender Identity.",
                        "field": "from",
                        "help": None,
                    }
                ]
            },
        ),
        "from: The from address does not match a verified Sender Identity.",
        "The provided authorization grant is invalid, expired, or revoked",
        batch=1,
    ),
    Case(
        "mailgun",
        "/v3/mg.example.org/messages.mime",
        lambda url: MailgunProvider(MailgunOptions("mg-key", "mg.example.org", connection(url))),
        lambda n: Answer(200, {"id": "<mg-0@mg.example.org>", "message": "Queued. Thank you."}),
        Answer(401, "Forbidden"),
        Answer(400, {"message": "to parameter is not a valid address. please check documentation"}),
        "to parameter is not a valid address. please check documentation",
        "(401): Forbidden",
        batch=1,
    ),
    Case(
        "resend",
        "/emails/batch",
        lambda url: ResendProvider(ResendOptions("re_key", connection(url))),
        lambda n: Answer(200, {"data": [{"id": f"rs-{i}"} for i in range(n)]}),
        Answer(
            403, {"statusCode": 403, "name": "invalid_api_key", "message": "API key is invalid"}
        ),
        Answer(
            422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field."}
        ),
        "validation_error: Invalid `to` field.",
        "invalid_api_key: API key is invalid",
    ),
    Case(
        "ses",
        "/v2/email/outbound-emails",
        lambda url: SesProvider(SesOptions("AKIDEXAMPLE", "secret", "eu-west-1", connection(url))),
        lambda n: Answer(200, {"MessageId": "ses-0"}),
        Answer(
            403,
            {"message": "The security token included in the request is invalid."},
            {"X-Amzn-ErrorType": "UnrecognizedClientException:http://internal/"},
        ),
        Answer(
            400,
            {"message": "Email address is not verified."},
            {"X-Amzn-ErrorType": "MessageRejected:http://internal/"},
        ),
        "MessageRejected: Email address is not verified.",
        "UnrecognizedClientException: The security token included in the request is invalid.",
        batch=1,
    ),
]
