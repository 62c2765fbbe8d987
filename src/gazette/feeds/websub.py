"""WebSub: tell the hub which feeds changed (hub.mode=publish), so subscribers hear at once.

A hub that is down costs a warning, never the build: the feeds are already written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx
from tenacity import (
    RetryError,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from gazette.log import retry_logger

log = logging.getLogger("gazette.feeds")
ATTEMPTS = 3
RETRY_WAIT = 1.0  # seconds before the second attempt; doubles after


class _HubServerError(Exception):
    """The hub answered 5xx: worth another try."""


def _retryable(error: BaseException) -> bool:
    return isinstance(error, _HubServerError | httpx.TransportError)


def ping_hub(hub: str, feed_urls: Sequence[str], timeout: float) -> list[str]:
    """Pings ``hub`` once per changed feed; returns a warning per feed it did not take."""
    warnings: list[str] = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for url in feed_urls:
            problem = _publish(client, hub, url, RETRY_WAIT)
            if problem:
                warnings.append(f"WebSub hub {hub} was not told about {url}: {problem}")
    return warnings


def _publish(client: httpx.Client, hub: str, url: str, wait: float) -> str:
    @retry(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential_jitter(multiplier=wait, max=10 * wait, jitter=wait),
        before_sleep=retry_logger(log, f"WebSub ping of {hub} for {url}"),
    )
    def post() -> httpx.Response:
        response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
        if response.status_code >= 500:
            raise _HubServerError(f"HTTP {response.status_code}")
        return response

    try:
        response = post()
    except RetryError as error:
        cause = error.last_attempt.exception()
        return f"{_describe(cause)} after {ATTEMPTS} attempts"
    if response.status_code >= 400:
        return f"HTTP {response.status_code} {response.text[:200].strip()}"
    return ""


def _describe(error: BaseException | None) -> str:
    if isinstance(error, httpx.TransportError):
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return str(error)
