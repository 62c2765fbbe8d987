"""The shared HTTP rules: Retry-After in both its forms, waited for real once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pytest_httpserver import HTTPServer

from gazette.mail.http import retry_after
from gazette.mail.postmark import PostmarkOptions, PostmarkProvider

from .cases import connection
from .conftest import envelopes


def answer(value: str) -> httpx.Response:
    """A 429 answer carrying ``Retry-After: value``."""
    return httpx.Response(429, headers={"Retry-After": value})


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("0", 0.0), ("soon", None)])
def test_retry_after_in_seconds(value: str, seconds: float | None) -> None:
    """Whole seconds are taken as they are; anything unreadable is ignored."""
    assert retry_after(answer(value)) == seconds


def test_retry_after_as_an_http_date() -> None:
    """An HTTP date counts from now; one in the past means no wait."""
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    earlier = format_datetime(datetime.now(UTC) - timedelta(seconds=90), usegmt=True)
    assert 60 < (retry_after(answer(later)) or 0) <= 90
    assert retry_after(answer(earlier)) == 0.0


def test_a_one_second_retry_after_is_really_waited(httpserver: HTTPServer) -> None:
    """End to end, without a stand-in sleep: the retry comes a second later or more."""
    httpserver.expect_ordered_request("/email/batch").respond_with_json(
        {"ErrorCode": 429, "Message": "Rate limit exceeded"},
        status=429,
        headers={"Retry-After": "1"},
    )
    httpserver.expect_ordered_request("/email/batch").respond_with_json(
        [{"ErrorCode": 0, "Message": "OK", "MessageID": "pm-1"}]
    )
    provider = PostmarkProvider(PostmarkOptions("pm", connection(httpserver.url_for("/"))))
    started = time.monotonic()
    (result,) = provider.send(envelopes(1))
    assert time.monotonic() - started >= 1.0
    assert result.provider_id == "pm-1"
