"""The providers' webhooks: each handler reads the body within a limit, hands it to
`gazette.digest.events` to verify and apply, and answers in JSON. No rule lives here.

401: no credentials; 403: credentials that do not check out (or a reused Mailgun
token); 400: a body not in the provider's shape; 503: the provider's secret is not set
(providers retry 5xx, so nothing is lost while the operator sets it), SNS's certificate
could not be fetched just then, or the state database does not answer. Nothing is
changed by any of them. 200: applied, including repeats and addresses not on the list.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import anyio.to_thread
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from gazette.digest import events, sns
from gazette.digest.events.receiver import Receiver
from gazette.errors import StateError
from gazette.web._pages import BodyTooLarge, Pages, json_answer, read_body

log = logging.getLogger("gazette.web")
WEBHOOK_LIMIT = 5 * 1024 * 1024  # bytes: SendGrid posts up to about a thousand events at once


class _Replayed(Exception):
    """A Mailgun token seen before."""


# What each refusal answers, the first kind that fits; the request changed nothing.
_REFUSALS: tuple[tuple[type[Exception], int], ...] = (
    (BodyTooLarge, 413), (events.Unsigned, 401), (events.BadSignature, 403),
    (_Replayed, 403), (events.Malformed, 400), (sns.NotSnsShaped, 400),
    (sns.NotFromSns, 403),
)  # fmt: skip


async def receive(pages: Pages, receiver: Receiver, provider: str, request: Request) -> Response:
    """POST /webhooks/<provider>: verified, then applied in one transaction."""
    now = datetime.now(UTC)
    try:
        body = await read_body(request, WEBHOOK_LIMIT)
        # In a worker thread: a batch of a thousand events takes a while to parse.
        received = await anyio.to_thread.run_sync(
            receiver.receive, provider, request.headers, body, now
        )
        if received.confirmed:
            log.info("webhook %s: subscription to %s confirmed", provider, received.confirmed)
            return json_answer({"confirmed": received.confirmed})
        applied = await pages.run(lambda c: _apply(c, pages, provider, received, now))
    except events.NotConfigured as error:
        log.warning("webhook %s: %s", provider, error)
        return json_answer({"error": "this webhook is not configured"}, 503)
    except sns.CertificateUnavailable as error:
        log.warning("webhook %s: %s", provider, error)
        return json_answer({"error": "SNS could not be reached; try again"}, 503)
    except StateError as error:
        log.warning("webhook %s: %s", provider, error)
        return json_answer({"error": "the state database does not answer"}, 503,
                           **{"retry-after": "30"})  # fmt: skip
    except tuple(kind for kind, _ in _REFUSALS) as error:
        return _refused(error, provider)
    return json_answer({"applied": applied.applied, "repeated": applied.repeated,
                        "unknown": applied.unknown, "changed": applied.changed})  # fmt: skip


def _apply(connection: Connection, pages: Pages, provider: str, received: events.Received,
           now: datetime) -> events.Applied:  # fmt: skip
    if received.nonce and not events.claim_nonce(
        connection, provider, received.nonce, now, keep=2 * events.TOLERANCE
    ):
        raise _Replayed
    return events.apply_events(connection, received.events, pages.settings.mail, now)


def _refused(error: Exception, provider: str) -> Response:
    status = next(code for kind, code in _REFUSALS if isinstance(error, kind))
    reason = {BodyTooLarge: f"the body is larger than {WEBHOOK_LIMIT} bytes",
              _Replayed: "the token was used before"}.get(type(error), str(error))  # fmt: skip
    log.info("webhook %s refused (%d): %s", provider, status, reason)
    return json_answer({"error": reason}, status)
