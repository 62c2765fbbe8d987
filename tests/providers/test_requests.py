"""What SendGrid, Mailgun and Resend receive: auth, shape, and the unsubscribe headers."""

from __future__ import annotations

import base64
import json
from email import message_from_bytes
from email.message import Message

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gazette.mail.base import ProviderRejected, UncertainDelivery
from gazette.mail.mailgun import MailgunOptions, MailgunProvider
from gazette.mail.resend import ResendOptions, ResendProvider, idempotency_key
from gazette.mail.sendgrid import SendGridOptions, SendGridProvider

from .cases import ATTEMPTS, Answer, connection
from .conftest import SENDER, DroppingServer, envelope, envelopes, header_of

UNSUBSCRIBE = "<https://example.org/unsubscribe?t=tok1>"
ONE_CLICK = "List-Unsubscribe=One-Click"


def capture(httpserver: HTTPServer, path: str, answer: Answer) -> list[Request]:
    """Answers ``path`` with ``answer`` and keeps each request, its body read."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        request.get_data()
        seen.append(request)
        return answer.response()

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return seen


def test_sendgrid_request(httpserver: HTTPServer) -> None:
    """Bearer key; one personalization; text before HTML; headers and reply_to carried."""
    seen = capture(httpserver, "/v3/mail/send", Answer(202, "", {"X-Message-Id": "sg-42"}))
    provider = SendGridProvider(SendGridOptions("SG.key", connection(httpserver.url_for("/"))))
    (result,) = provider.send([envelope()])
    assert (result.status, result.provider_id) == ("sent", "sg-42")
    (request,) = seen
    assert request.headers["Authorization"] == "Bearer SG.key"
    mail = json.loads(request.get_data())
    assert mail["personalizations"] == [{"to": [{"email": "reader@example.com"}]}]
    assert mail["from"] == {"email": "digest@example.org", "name": "Example Notes"}
    assert mail["reply_to"] == {"email": "editor@example.org"}
    assert [part["type"] for part in mail["content"]] == ["text/plain", "text/html"]
    assert mail["headers"]["List-Unsubscribe"] == UNSUBSCRIBE
    assert mail["headers"]["List-Unsubscribe-Post"] == ONE_CLICK
    assert "Reply-To" not in mail["headers"]
    assert mail["custom_args"] == {"gazette_key": "issue-7/reader@example.com"}


def test_mailgun_sends_the_mime_itself(httpserver: HTTPServer) -> None:
    """Basic auth api:<key>, the domain in the path, the envelope's MIME as it is."""
    answer = Answer(200, {"id": "<20261121.1@mg.example.org>", "message": "Queued. Thank you."})
    seen = capture(httpserver, "/v3/mg.example.org/messages.mime", answer)
    options = MailgunOptions("key-1", "mg.example.org", connection(httpserver.url_for("/")), "eu")
    sent = envelope()
    (result,) = MailgunProvider(options).send([sent])
    assert result.provider_id == "<20261121.1@mg.example.org>"
    (request,) = seen
    expected = base64.b64encode(b"api:key-1").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.form["to"] == "reader@example.com"
    upload = request.files["message"]
    mime = upload.read()
    upload.close()
    assert mime == sent.mime
    parsed: Message = message_from_bytes(mime)
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE
    assert parsed["List-Unsubscribe-Post"] == ONE_CLICK


def test_mailgun_unknown_domain_stops_the_issue(httpserver: HTTPServer) -> None:
    """A 404 for the domain (wrong name or region) is a configuration problem."""
    capture(
        httpserver,
        "/v3/mg.example.org/messages.mime",
        Answer(404, {"message": "Domain not found: mg.example.org"}),
    )
    options = MailgunOptions("key-1", "mg.example.org", connection(httpserver.url_for("/")))
    with pytest.raises(ProviderRejected, match=r"Domain not found.*mailgun_region"):
        MailgunProvider(options).send([envelope()])


def test_resend_request(httpserver: HTTPServer) -> None:
    """Bearer key, an Idempotency-Key from the envelopes, one email per recipient."""
    answer = Answer(200, {"data": [{"id": "rs-1"}, {"id": "rs-2"}]})
    seen = capture(httpserver, "/emails/batch", answer)
    provider = ResendProvider(ResendOptions("re_key", connection(httpserver.url_for("/"))))
    batch = envelopes(2)
    results = provider.send(batch)
    assert [r.provider_id for r in results] == ["rs-1", "rs-2"]
    (request,) = seen
    assert request.headers["Authorization"] == "Bearer re_key"
    assert request.headers["Idempotency-Key"] == idempotency_key(batch)
    assert len(request.headers["Idempotency-Key"]) <= 256
    first = json.loads(request.get_data())[0]
    assert first["from"] == SENDER
    assert first["to"] == ["reader1@example.com"]
    assert first["reply_to"] == ["editor@example.org"]
    assert first["headers"]["List-Unsubscribe"] == UNSUBSCRIBE
    assert first["headers"]["List-Unsubscribe-Post"] == ONE_CLICK


def test_resend_key_depends_on_the_batch_only() -> None:
    """The same envelopes give the same key; another batch gets another."""
    assert idempotency_key(envelopes(2)) == idempotency_key(envelopes(2))
    assert idempotency_key(envelopes(2)) != idempotency_key(envelopes(3))


def test_resend_waits_out_a_concurrent_request_with_the_same_key(httpserver: HTTPServer) -> None:
    """409 concurrent_idempotent_requests is retried; the retry gets the ids."""
    busy = Answer(
        409,
        {
            "statusCode": 409,
            "name": "concurrent_idempotent_requests",
            "message": "Same idempotency key used while original request is still in progress.",
        },
    )
    done = Answer(200, {"data": [{"id": "rs-1"}]})
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return (busy if len(seen) == 1 else done).response()

    httpserver.expect_request("/emails/batch").respond_with_handler(handler)
    provider = ResendProvider(ResendOptions("re_key", connection(httpserver.url_for("/"))))
    assert provider.send(envelopes(1))[0].provider_id == "rs-1"
    assert len(seen) == 2


def test_resend_answer_lost_every_time_is_uncertain(dropping: list[DroppingServer]) -> None:
    """Idempotent retries that never get an answer end uncertain, not unavailable."""
    server = DroppingServer(b"", drops=ATTEMPTS)
    dropping.append(server)
    provider = ResendProvider(ResendOptions("re_key", connection(server.url)))
    with pytest.raises(UncertainDelivery, match="retries ran out"):
        provider.send(envelopes(2))
    keys = {header_of(request, "Idempotency-Key") for request in server.requests}
    assert len(server.requests) == ATTEMPTS
    assert len(keys) == 1
