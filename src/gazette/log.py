"""Log lines on stderr: one per event, more with --verbose. Secrets are never logged:
messages carry addresses, counts and the providers' own words, never keys or tokens.

Every time in a log, the line's own and those it names (a job's next run, a fire), is
in one zone, the site's, with its offset (RFC 3339), whatever the machine's zone is.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

import tenacity

FORMAT = "%(asctime)s %(levelname)s %(message)s"
_zone: list[tzinfo | None] = [None]  # the site's, from configure_logging; None: the machine's


class _ZonedFormatter(logging.Formatter):
    """Stamps each line as ``stamp`` writes the times in it."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return stamp(datetime.fromtimestamp(record.created, UTC))


def configure_logging(verbose: bool, zone: tzinfo | None = None) -> None:
    """gazette's events on stderr, stamped in ``zone`` (site.timezone); with ``verbose``
    also APScheduler's own."""
    _zone[0] = zone
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ZonedFormatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("gazette").setLevel(logging.DEBUG if verbose else logging.INFO)
    # APScheduler's lines repeat gazette's own job lines; they are for --verbose only.
    logging.getLogger("apscheduler").setLevel(logging.INFO if verbose else logging.CRITICAL)


def retry_logger(logger: logging.Logger, what: str) -> Callable[[tenacity.RetryCallState], None]:
    """A tenacity ``before_sleep`` hook: one line per retry, saying why and when."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "%s: attempt %d failed (%s); retrying in %.1f s", what, state.attempt_number,
            error or "no answer", wait,
        )  # fmt: skip

    return before_sleep


def stamp(moment: datetime | None) -> str:
    """A time in a log line: RFC 3339 to the second, in the log's zone."""
    return moment.astimezone(_zone[0]).isoformat(timespec="seconds") if moment else "never"


def duration(delta: timedelta) -> str:
    """A delay in a log line, to the second: 0:07:12."""
    return str(timedelta(seconds=round(delta.total_seconds())))
