"""Postmark's batch endpoint, answered by a real HTTP server on loopback."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gazette.mail import http
from gazette.mail.base import ProviderRejected, UncertainDelivery
from gazette.mail.postmark import PostmarkOptions, PostmarkProvider

from .conftest import SENDER, envelopes

TOKEN = "pm-server-token"


def postmark(server: HTTPServer, **options: object) -> PostmarkProvider:
    """A Postmark provider pointed at ``server``."""
    connection = http.Connection(server.url_for("").rstrip("/"), timeout=5, max_attempts=3)
    return PostmarkProvider(PostmarkOptions(TOKEN, connection, **options))  # type: ignore[arg-type]


def accepted(count: int) -> list[dict[str, object]]:
    """Postmark's 200 answer accepting ``count`` messages."""
    return [
        {"ErrorCode": 0, "Message": "OK", "MessageID": f"id-{n}", "To": f"r{n}"}
        for n in range(count)
    ]


def test_batch_request_carries_token_stream_and_unsubscribe_headers(httpserver: HTTPServer) -> None:
    """One POST with the server token; each message has its fields and List-Unsubscribe."""
    seen: list[Request] = []

    def answer(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps(accepted(2)), content_type="application/json")

    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(answer)
    results = postmark(httpserver, stream="digest").send(envelopes(2))
    assert [r.provider_id for r in results] == ["id-0", "id-1"]
    assert {r.status for r in results} == {"sent"}
    (request,) = seen
    assert request.headers["X-Postmark-Server-Token"] == TOKEN
    first = json.loads(request.get_data())[0]
    assert first["From"] == SENDER
    assert first["To"] == "reader1@example.com"
    assert first["Subject"].endswith("新文章")
    assert first["MessageStream"] == "digest"
    assert first["ReplyTo"] == "editor@example.org"
    assert first["TextBody"] == "Hello reader 1\n"
    assert first["HtmlBody"] == "<p>Hello reader 1</p>"
    headers = {h["Name"]: h["Value"] for h in first["Headers"]}
    assert headers["List-Unsubscribe"] == "<https://example.org/unsubscribe?t=tok1>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Reply-To" not in headers


def test_a_message_can_fail_inside_a_200_answer(httpserver: HTTPServer) -> None:
    """ErrorCode 406 for one message fails it alone, with Postmark's words."""
    answer = accepted(3)
    answer[1] = {
        "ErrorCode": 406,
        "Message": "You tried to send to a recipient that has been marked as inactive.",
    }
    httpserver.expect_request("/email/batch").respond_with_json(answer)
    results = postmark(httpserver).send(envelopes(3))
    assert [r.status for r in results] == ["sent", "failed", "sent"]
    assert results[1].recipient == "reader2@example.com"
    assert results[1].error.startswith("406: You tried to send to a recipient")


@pytest.mark.parametrize(("status", "code"), [(401, 10), (422, 10), (422, 405), (422, 401)])
def test_token_and_account_errors_stop_the_issue(
    httpserver: HTTPServer, status: int, code: int
) -> None:
    """A bad token, no credits or an unconfirmed sender raise ProviderRejected."""
    body = {"ErrorCode": code, "Message": "Request does not contain a valid Server token."}
    httpserver.expect_request("/email/batch").respond_with_json(body, status=status)
    with pytest.raises(ProviderRejected, match="valid Server token") as caught:
        postmark(httpserver).send(envelopes(2))
    assert "GAZETTE_POSTMARK_TOKEN" in str(caught.value)


def test_other_422_fails_every_message_of_the_call(httpserver: HTTPServer) -> None:
    """A 422 about the request fails its recipients with Postmark's message."""
    body = {"ErrorCode": 300, "Message": "Invalid 'From' address: 'nobody'."}
    httpserver.expect_request("/email/batch").respond_with_json(body, status=422)
    results = postmark(httpserver).send(envelopes(2))
    assert [r.status for r in results] == ["failed", "failed"]
    assert results[0].error == "300: Invalid 'From' address: 'nobody'."


def test_an_answer_of_the_wrong_length_is_uncertain(httpserver: HTTPServer) -> None:
    """Fewer verdicts than messages: which went out is unknown."""
    httpserver.expect_request("/email/batch").respond_with_json(accepted(1))
    with pytest.raises(UncertainDelivery, match="1 results for 2 messages"):
        postmark(httpserver).send(envelopes(2))


def test_an_empty_batch_makes_no_call(httpserver: HTTPServer) -> None:
    """Nothing to send, nothing asked."""
    assert postmark(httpserver).send([]) == []
    assert not httpserver.log


def test_a_batch_larger_than_the_batch_size_is_refused(httpserver: HTTPServer) -> None:
    """The caller cuts batches; a longer one is a programming error."""
    with pytest.raises(ValueError, match="at most 2"):
        postmark(httpserver, batch_size=2).send(envelopes(3))
