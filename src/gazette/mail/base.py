"""What every mail provider speaks: envelopes in, one result per recipient out.

A provider is one module with one class: options validated in its constructor (a
ConfigError naming the key or variable), retries inside ``send``, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from gazette.errors import DeliveryError


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message to one recipient, both as parts (for JSON APIs) and as raw MIME."""

    recipient: str  # the bare address
    sender: str  # the From header as written in [mail] from
    subject: str
    html: str
    text: str
    # Headers beyond From/To/Subject/Date: Message-ID, List-Id, List-Unsubscribe,
    # List-Unsubscribe-Post, Reply-To; in this order, values already folded-free.
    headers: tuple[tuple[str, str], ...]
    mime: bytes  # the complete message, as SMTP, SES raw and the outbox send it
    # Stable for one (issue, recipient): the same on a resend, so providers that take
    # idempotency keys deliver a retried message once.
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said about one recipient of a batch."""

    recipient: str
    status: Literal["sent", "failed"]
    provider_id: str = ""  # the provider's message id, when it gave one
    error: str = ""  # the provider's own words, when it failed


class Provider(Protocol):
    """One mail service. ``send`` returns one result per envelope, in order."""

    name: str
    batch_size: int  # the most envelopes one ``send`` takes
    # True when resending an envelope whose answer never arrived cannot deliver it twice
    # (the provider honours idempotency keys); false otherwise.
    idempotent: bool

    def send(self, batch: Sequence[Envelope]) -> list[SendResult]: ...

    def close(self) -> None: ...


class _BatchStopped(DeliveryError):
    """A batch ended early. ``settled`` holds the answers that did arrive, for the first
    envelopes of the batch (a provider that sends one message at a time, such as SMTP, can
    know them); a provider with one call per batch leaves it empty."""

    def __init__(self, message: str, settled: Sequence[SendResult] = ()) -> None:
        super().__init__(message)
        self.settled = tuple(settled)


class ProviderRejected(_BatchStopped):
    """The provider refused our credentials or account: stop the issue at once."""


class ProviderUnavailable(_BatchStopped):
    """Retries ran out on 429/5xx/refused connections; nothing in the batch past
    ``settled`` was sent."""


class UncertainDelivery(_BatchStopped):
    """The request went out but no answer came back: the batch may or may not be sent.

    ``uncertain`` is how many envelopes right after ``settled`` went out unanswered
    (``None``: all the rest); any after those were never attempted.
    """

    def __init__(
        self, message: str, settled: Sequence[SendResult] = (), uncertain: int | None = None
    ) -> None:
        super().__init__(message, settled)
        self.uncertain = uncertain
