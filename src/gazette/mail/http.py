"""What the HTTP mail providers share: options, one client, retries, and verdicts.

Retry rules, the same for every provider:

- 429 and 5xx answers and connections that could not be made are retried with
  exponential backoff and jitter, honouring ``Retry-After``, at most
  ``mail.max_attempts`` times in all; then ``ProviderUnavailable``.
- A request that went out but got no answer (read timeout, dropped connection) may
  have been delivered: it is retried only when the provider is idempotent, and is
  otherwise ``UncertainDelivery`` at once.
- 401 and 403 mean the credentials or the account: ``ProviderRejected``.
- Any other answer goes back to the provider, which reads it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import tenacity

from gazette.config import MailSettings
from gazette.errors import ConfigError
from gazette.log import retry_logger
from gazette.mail.base import (
    Envelope,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    UncertainDelivery,
)

log = logging.getLogger("gazette.mail")

# The connection was never made, so the request was not sent: always safe to retry.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# A Retry-After longer than this (a daily quota, say) is not waited out inside a send.
LONGEST_WAIT = 300.0
USER_AGENT = "gazette (+https://pypi.org/project/gazette/)"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``initial`` doubled per attempt, up to ``maximum``."""

    initial: float = 1.0
    maximum: float = 60.0


# Read at each client's construction, so tests can shrink them.
BACKOFF = Backoff()
SLEEP: Callable[[float], None] = time.sleep


@dataclass(frozen=True, slots=True)
class Connection:
    """Where a provider's API is and how patiently to talk to it."""

    base_url: str
    timeout: float = 30.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("https://", "http://")):
            raise ConfigError(
                f"mail.endpoint: {self.base_url!r} is not an http(s) URL; "
                "set it to the API's base URL, such as https://api.example.com, or remove it"
            )
        if self.timeout <= 0 or self.max_attempts < 1:
            raise ConfigError("mail.timeout must be above 0 and mail.max_attempts at least 1")

    @classmethod
    def from_settings(cls, mail: MailSettings, public_url: str) -> Connection:
        """The provider's public URL unless ``mail.endpoint`` overrides it."""
        return cls(mail.endpoint or public_url, mail.timeout, mail.max_attempts)


def require(value: str, what: str, fix: str) -> str:
    """``value``, or a ConfigError saying which variable or key is missing and how to fix it."""
    if not value.strip():
        raise ConfigError(f"{what} is not set; {fix}")
    return value.strip()


def require_secret(value: str, variable: str, provider: str) -> str:
    """A secret from the environment, or a ConfigError saying where it must come from."""
    return require(
        value,
        variable,
        f'mail.provider = "{provider}" needs it: export {variable}=... in the environment '
        "of gazette (never in the config file)",
    )


def batch_size(wanted: int, most: int, provider: str) -> int:
    """``mail.batch_size`` checked against what one call of the provider takes (0: all)."""
    if wanted == 0:
        return most
    if not 1 <= wanted <= most:
        raise ConfigError(
            f"mail.batch_size = {wanted}: {provider} takes at most {most} messages a call; "
            f"set 1 to {most}, or 0 for {most}"
        )
    return wanted


def check_batch(batch: Sequence[Envelope], most: int, provider: str) -> None:
    """A caller's mistake, not the provider's: more envelopes than one send takes."""
    if len(batch) > most:
        raise ValueError(f"{provider} takes at most {most} envelopes a send, got {len(batch)}")


def header(envelope: Envelope, name: str) -> str:
    """The value of the envelope's header ``name`` (any case), or ''."""
    wanted = name.lower()
    return next((value for key, value in envelope.headers if key.lower() == wanted), "")


def extra_headers(envelope: Envelope, *skip: str) -> list[tuple[str, str]]:
    """The envelope's headers but those the API takes as fields of their own."""
    skipped = {name.lower() for name in skip}
    return [(key, value) for key, value in envelope.headers if key.lower() not in skipped]


def all_failed(batch: Sequence[Envelope], error: str) -> list[SendResult]:
    """One failed result per envelope, all with the provider's own words."""
    return [SendResult(envelope.recipient, "failed", error=error) for envelope in batch]


def encode_json(payload: Any) -> bytes:
    """A request body, encoded once so that retries resend the very same bytes."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def json_answer(response: httpx.Response, provider: str) -> Any:
    """The JSON of a success answer; unreadable means nobody knows what was sent."""
    try:
        return response.json()
    except ValueError:
        raise UncertainDelivery(
            f"{provider} answered {response.status_code} with a body that is not JSON: "
            f"{response.text[:200]!r}; what was sent is unknown"
        ) from None


def json_field(response: httpx.Response, key: str) -> Any:
    """The value of ``key`` in the answer's JSON object, or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(key) if isinstance(body, dict) else None


def error_words(response: httpx.Response, *keys: str) -> str:
    """The provider's own message: the first of ``keys`` in its JSON, else its text."""
    for key in keys:
        value = json_field(response, key)
        if value:
            return str(value)
    text = response.text.strip()[:500]
    return text or f"{response.status_code} {response.reason_phrase}"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the answer asks us to wait (``Retry-After`` in seconds or as a date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def is_retryable(response: httpx.Response) -> bool:
    """429 and 5xx: the provider is busy or broken for now."""
    return response.status_code == 429 or response.status_code >= 500


class _Retry(Exception):
    """One attempt failed in a way that another attempt may mend."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class _Wait(tenacity.wait.wait_base):
    """Exponential backoff with jitter, but never sooner than ``Retry-After`` asks."""

    def __init__(self, backoff: Backoff) -> None:
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=backoff.initial, max=backoff.maximum, jitter=backoff.initial
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        asked = _asked_wait(retry_state)
        return max(asked or 0.0, self._backoff(retry_state))


class _WaitTooLong(tenacity.stop.stop_base):
    """Stops when the provider asks for a wait longer than a send should block."""

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        asked = _asked_wait(retry_state)
        return asked is not None and asked > LONGEST_WAIT


def _asked_wait(retry_state: tenacity.RetryCallState) -> float | None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    return error.wait if isinstance(error, _Retry) else None


@dataclass
class _Call:
    """What happened over the attempts of one call."""

    attempts: int = 0
    answer_lost: bool = False


@dataclass
class HttpClient:
    """One provider's httpx client, with the retry rules of this module."""

    provider: str
    connection: Connection
    idempotent: bool
    describe: Callable[[httpx.Response], str]  # the provider's own words in an error answer
    credentials: str  # what to check when the credentials are refused
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold a key
    auth: httpx.Auth | None = field(default=None, repr=False)
    retryable: Callable[[httpx.Response], bool] = is_retryable
    _client: httpx.Client = field(init=False, repr=False)
    _backoff: Backoff = field(init=False, repr=False)
    _sleep: Callable[[float], None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._backoff, self._sleep = BACKOFF, SLEEP
        self._client = httpx.Client(
            base_url=self.connection.base_url,
            timeout=httpx.Timeout(self.connection.timeout),
            headers={"User-Agent": USER_AGENT, **self.headers},
            auth=self.auth,
        )

    def post(self, path: str, **request: Any) -> httpx.Response:
        """POSTs with retries; the answer is a success or a 4xx the provider must read."""
        call = _Call()
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.connection.max_attempts) | _WaitTooLong(),
            wait=_Wait(self._backoff),
            retry=tenacity.retry_if_exception_type(_Retry),
            reraise=True,
            sleep=self._sleep,
            before_sleep=retry_logger(log, f"{self.provider} call"),
        )
        try:
            return retrying(self._attempt, path, request, call)
        except _Retry as last:
            raise self._gave_up(last, call) from None

    def close(self) -> None:
        """Closes the connections."""
        self._client.close()

    def _attempt(self, path: str, request: dict[str, Any], call: _Call) -> httpx.Response:
        call.attempts += 1
        try:
            response = self._client.post(path, **request)
        except NOT_SENT as error:
            raise _Retry(f"could not connect to {self.connection.base_url}: {error}") from error
        except httpx.TransportError as error:
            raise self._lost(error, call) from error
        if self.retryable(response):
            wait = retry_after(response)
            asked = f" (Retry-After: {wait:.0f} s)" if wait else ""
            raise _Retry(f"{response.status_code}: {self.describe(response)}{asked}", wait)
        if response.status_code in {401, 403}:
            raise self.rejected(response)
        return response

    def rejected(self, response: httpx.Response) -> ProviderRejected:
        """The error that stops the issue: the provider refused who we are."""
        return ProviderRejected(
            f"{self.provider} refused the request ({response.status_code}): "
            f"{self.describe(response)}; check {self.credentials}"
        )

    def _lost(self, error: httpx.TransportError, call: _Call) -> Exception:
        call.answer_lost = True
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if self.idempotent:
            return _Retry(f"no answer ({what})")
        return UncertainDelivery(
            f"{self.provider}: the request went out but no answer came back ({what}); "
            "its recipients may or may not have the message"
        )

    def _gave_up(self, last: _Retry, call: _Call) -> Exception:
        tried = f"{call.attempts} attempt{'s' if call.attempts != 1 else ''}"
        if call.answer_lost:
            return UncertainDelivery(
                f"{self.provider}: an attempt got no answer and retries ran out after "
                f"{tried} (last: {last}); its recipients may or may not have the message"
            )
        return ProviderUnavailable(
            f"{self.provider}: gave up after {tried} (last: {last}); nothing was sent, "
            "try again later"
        )


class HttpProvider:
    """What every HTTP provider shares: its client, closed with it."""

    name: str
    batch_size: int
    idempotent: bool
    _http: HttpClient

    def close(self) -> None:
        """Closes the connections."""
        self._http.close()


class OneMessageProvider(HttpProvider):
    """A provider whose API takes one message a call: ``send`` makes one call each."""

    batch_size = 1

    def send(self, batch: Sequence[Envelope]) -> list[SendResult]:
        """One call per envelope; one result per envelope, in order."""
        check_batch(batch, self.batch_size, self.name)
        return [self.send_one(envelope) for envelope in batch]

    def send_one(self, envelope: Envelope) -> SendResult:
        """Sends one envelope; raises as ``Provider.send`` does."""
        raise NotImplementedError
