"""The send loop: batches of one issue to the provider, the ledger written around each call.

Before a call its recipients are marked in-flight (committed); after it, each one's
answer is written at once. So a run killed at any moment loses nothing: a resumed run
sends every pending recipient, and only those of the interrupted call are uncertain.
Uncertain recipients are sent again automatically only when the provider honours
idempotency keys; otherwise only when asked (``resend_uncertain``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection

from gazette.config import Settings
from gazette.digest import ledger
from gazette.digest.ledger import Claimed, Issue
from gazette.digest.message import MessageMaker
from gazette.errors import DeliveryError
from gazette.mail.base import (
    Envelope,
    Provider,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    UncertainDelivery,
)
from gazette.store import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Summary:
    """Where one issue's deliveries stand after a run."""

    issue: int
    period: str
    counts: dict[str, int]

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    def __str__(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("sent", "failed", "uncertain")]
        extra = [f"{self.count(s)} {s}" for s in ("skipped", "pending") if self.count(s)]
        return f"issue {self.issue} ({self.period}): " + ", ".join(parts + extra)


@dataclass
class Dispatcher:
    """One run's sending: the store, the provider and how to make messages."""

    settings: Settings
    store: Store
    provider: Provider
    maker: MessageMaker | None = None  # set for each issue before ``deliver``
    now: Callable[[], datetime] = utc_now
    on_batch: Callable[[int], None] = lambda _count: None
    # Set from outside (a signal) to stop after the provider call in flight is recorded.
    stop: threading.Event = field(default_factory=threading.Event)

    def deliver(self, issue: Issue, resend_uncertain: bool = False) -> Summary:
        """Sends every pending recipient of ``issue``; the issue is done when none is left."""
        self._prepare(issue.number, resend_uncertain)
        while not self.stop.is_set() and self._one_batch(issue):
            pass
        with self.store.transaction() as connection:
            ledger.finish_if_done(connection, issue.number, self.now())
            return Summary(issue.number, issue.period, ledger.counts(connection, issue.number))

    def _prepare(self, number: int, resend_uncertain: bool) -> None:
        with self.store.transaction() as connection:
            ledger.mark_interrupted(connection, number, self.now())
            if resend_uncertain:
                ledger.requeue_uncertain(connection, number, None, self.now())
            elif self.provider.idempotent:
                attempts = self.settings.mail.max_attempts
                ledger.requeue_uncertain(connection, number, attempts, self.now())

    def _one_batch(self, issue: Issue) -> bool:
        """Claims, sends and records one batch; False when nothing was pending."""
        with self.store.transaction() as connection:
            claimed = ledger.claim_batch(
                connection, issue.number, self.provider.batch_size, self.now()
            )
            sendable, envelopes = self._envelopes(connection, claimed)
        if not claimed:
            return False
        if envelopes:
            self._send(issue, sendable, envelopes)
        self.on_batch(len(claimed))
        return True

    def _envelopes(
        self, connection: Connection, claimed: list[Claimed]
    ) -> tuple[list[Claimed], list[Envelope]]:
        """The claimed deliveries that have a message, and their messages; any other is
        recorded failed with the reason, so one bad address cannot hold up the issue."""
        maker = self.maker
        assert maker is not None, "set Dispatcher.maker before deliver"
        sendable: list[Claimed] = []
        envelopes: list[Envelope] = []
        refused: list[tuple[Claimed, SendResult]] = []
        for delivery in claimed:
            try:
                envelope = maker.envelope(delivery.recipient, delivery.subscriber, self.now())
            except DeliveryError as error:
                failed = SendResult(delivery.recipient, "failed", error=str(error))
                refused.append((delivery, failed))
            else:
                envelopes.append(envelope)
                sendable.append(delivery)
        ledger.record_results(
            connection, [d for d, _ in refused], [r for _, r in refused], self.now()
        )
        return sendable, envelopes

    def _send(self, issue: Issue, claimed: list[Claimed], envelopes: list[Envelope]) -> None:
        try:
            results = _checked(envelopes, self.provider.send(envelopes))
        except (ProviderRejected, ProviderUnavailable) as error:
            self._stopped(issue, claimed, error)
        except UncertainDelivery as error:
            self._uncertain(issue, claimed, error)
        else:
            with self.store.transaction() as connection:
                ledger.record_results(connection, claimed, results, self.now())

    def _stopped(
        self, issue: Issue, claimed: list[Claimed], error: ProviderRejected | ProviderUnavailable
    ) -> None:
        done = len(error.settled)
        with self.store.transaction() as connection:
            ledger.record_results(connection, claimed[:done], error.settled, self.now())
            ledger.set_status(connection, claimed[done:], "pending", str(error), self.now())
            left = ledger.counts(connection, issue.number).get("pending", 0)
        raise DeliveryError(
            f"{error} (issue {issue.number} stopped with {left} recipients pending; "
            "`gazette digest --resume` continues it)"
        ) from None

    def _uncertain(self, issue: Issue, claimed: list[Claimed], error: UncertainDelivery) -> None:
        done = len(error.settled)
        end = len(claimed) if error.uncertain is None else done + error.uncertain
        now = self.now()
        with self.store.transaction() as connection:
            ledger.record_results(connection, claimed[:done], error.settled, now)
            ledger.set_status(connection, claimed[done:end], "uncertain", str(error), now)
            ledger.set_status(connection, claimed[end:], "pending", "", now)
            if self.provider.idempotent:
                ledger.requeue_uncertain(
                    connection, issue.number, self.settings.mail.max_attempts, now
                )


def _checked(envelopes: Sequence[Envelope], results: Sequence[SendResult]) -> list[SendResult]:
    """One result per envelope, in order: anything else is a provider's bug."""
    if [r.recipient for r in results] != [e.recipient for e in envelopes]:
        raise DeliveryError(
            f"the provider answered for {len(results)} recipients of a batch of "
            f"{len(envelopes)}, or out of order; its recipients stay uncertain"
        )
    return list(results)
