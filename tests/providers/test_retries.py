"""The retry and error rules every HTTP provider keeps, against real loopback servers."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gazette.mail import http
from gazette.mail.base import ProviderRejected, ProviderUnavailable, UncertainDelivery

from .cases import ATTEMPTS, CASES, Answer, Case
from .conftest import DroppingServer, envelopes, header_of

pytestmark = pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])


def replay(httpserver: HTTPServer, case: Case, *answers: Answer) -> list[Request]:
    """Serves ``answers`` in turn at the case's path (the last one again and again)."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1].response()

    httpserver.expect_request(case.path, method="POST").respond_with_handler(handler)
    return seen


def payload(request: Request) -> object:
    """What a request carried: its form fields and files, or its body."""
    if request.files:
        files = {}
        for name, file in request.files.items():
            files[name] = file.read()
            file.close()
        return request.form.to_dict(), files
    return request.get_data()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Records the waits between attempts instead of sleeping them."""
    slept: list[float] = []
    monkeypatch.setattr(http, "SLEEP", slept.append)
    return slept


def test_429_waits_as_retry_after_asks_then_succeeds(
    httpserver: HTTPServer, case: Case, waits: list[float]
) -> None:
    """A 429 with Retry-After: 2 is retried after two seconds, and the retry delivers."""
    busy = Answer(429, {"message": "Too many requests"}, {"Retry-After": "2"})
    seen = replay(httpserver, case, busy, case.ok(case.batch))
    results = case.build(httpserver.url_for("/")).send(envelopes(case.batch))
    assert [r.status for r in results] == ["sent"] * case.batch
    assert len(seen) == 2
    assert waits[0] >= 2.0
    assert payload(seen[0]) == payload(seen[1])


def test_500_is_retried(httpserver: HTTPServer, case: Case) -> None:
    """A 500 then a success: every recipient sent, the ids are the provider's."""
    seen = replay(httpserver, case, Answer(500, "Internal Server Error"), case.ok(case.batch))
    results = case.build(httpserver.url_for("/")).send(envelopes(case.batch))
    assert [r.status for r in results] == ["sent"] * case.batch
    assert all(r.provider_id for r in results)
    assert len(seen) == 2


def test_5xx_until_attempts_run_out_is_unavailable(httpserver: HTTPServer, case: Case) -> None:
    """Always 503: ProviderUnavailable after exactly max_attempts calls."""
    seen = replay(httpserver, case, Answer(503, "Service Unavailable"))
    with pytest.raises(ProviderUnavailable, match=f"after {ATTEMPTS} attempts"):
        case.build(httpserver.url_for("/")).send(envelopes(case.batch))
    assert len(seen) == ATTEMPTS


def test_a_retry_after_beyond_reason_is_not_waited(
    httpserver: HTTPServer, case: Case, waits: list[float]
) -> None:
    """A quota that resets in a day gives up at once instead of blocking the send."""
    seen = replay(httpserver, case, Answer(429, {"message": "quota"}, {"Retry-After": "86400"}))
    with pytest.raises(ProviderUnavailable, match="after 1 attempt "):
        case.build(httpserver.url_for("/")).send(envelopes(case.batch))
    assert len(seen) == 1
    assert waits == []


def test_a_rejected_key_stops_with_the_providers_words(httpserver: HTTPServer, case: Case) -> None:
    """401/403 raise ProviderRejected quoting the provider, with no retry."""
    seen = replay(httpserver, case, case.rejected)
    with pytest.raises(ProviderRejected) as caught:
        case.build(httpserver.url_for("/")).send(envelopes(case.batch))
    assert case.rejected_words in str(caught.value)
    assert len(seen) == 1


def test_a_bad_request_fails_its_recipients(httpserver: HTTPServer, case: Case) -> None:
    """Another 4xx: every recipient of the call failed, with the provider's own message."""
    seen = replay(httpserver, case, case.bad)
    results = case.build(httpserver.url_for("/")).send(envelopes(case.batch))
    assert [r.status for r in results] == ["failed"] * case.batch
    assert {r.error for r in results} == {case.bad_words}
    assert len(seen) == 1


def test_a_dropped_answer_is_uncertain_unless_idempotent(
    dropping: list[DroppingServer], case: Case
) -> None:
    """Connection closed after the request: resent with the same key, or UncertainDelivery."""
    server = DroppingServer(case.ok(case.batch).raw(), drops=1)
    dropping.append(server)
    provider = case.build(server.url)
    if not provider.idempotent:
        with pytest.raises(UncertainDelivery, match="no answer came back"):
            provider.send(envelopes(case.batch))
        assert len(server.requests) == 1
        return
    results = provider.send(envelopes(case.batch))
    assert [r.status for r in results] == ["sent"] * case.batch
    keys = [header_of(request, "Idempotency-Key") for request in server.requests]
    assert len(keys) == 2
    assert keys[0]
    assert keys[0] == keys[1]


def test_a_refused_connection_is_retried_then_unavailable(
    case: Case, free_port: Callable[[], int]
) -> None:
    """Nobody listening: safe to retry, and ProviderUnavailable when attempts run out."""
    provider = case.build(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderUnavailable, match=f"after {ATTEMPTS} attempts.*could not connect"):
        provider.send(envelopes(case.batch))


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A port on loopback that nothing listens on."""

    def pick() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    return pick
