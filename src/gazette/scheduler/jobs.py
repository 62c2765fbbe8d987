"""The scheduler's jobs, each one library call: the build job and the digest job (which
is `gazette publish` for the fire being run) call into `gazette.cycle`; the bounce job,
there when mail.bounce_mailbox is set, reads the bounce mailbox once.

APScheduler keeps a job in the state database as a "module:function" reference, so a job
cannot carry the settings or the store: it finds them in the runtime that the running
service installed here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gazette.config import Settings
from gazette.cycle import (
    BuildOutcome,
    SendOptions,
    build_if_changed,
    due_fire_time,
    publish,
    send_digest,
)
from gazette.digest import Run
from gazette.digest.bounce_mailbox import read_bounce_mailbox
from gazette.log import duration, stamp
from gazette.store import Store

BUILD_JOB = "build"
DIGEST_JOB = "digest"
BOUNCE_JOB = "bounces"
log = logging.getLogger("gazette.scheduler")


@dataclass(frozen=True, slots=True)
class JobResult:
    """What a job did, in one line; ``skipped`` when it had nothing to do."""

    text: str
    skipped: bool = False


@dataclass
class Runtime:
    """What the jobs work with while `gazette run` runs."""

    settings: Settings
    store: Store
    environ: Mapping[str, str]
    stop: threading.Event = field(default_factory=threading.Event)

    def options(self) -> SendOptions:
        return SendOptions(stop=self.stop, on_batch=_log_batch)


def _log_batch(count: int) -> None:
    log.debug("digest: a batch of %d recipients handed to the provider and recorded", count)


_installed: list[Runtime] = []


def install(runtime: Runtime) -> None:
    _installed[:] = [runtime]


def uninstall() -> None:
    _installed.clear()


def _runtime() -> Runtime:
    if not _installed:
        raise RuntimeError("gazette's scheduler jobs run only inside `gazette run`")
    return _installed[0]


def build_job() -> JobResult:
    """Rebuilds the feeds if a source changed."""
    log.debug("job build started")
    runtime = _runtime()
    outcome = build_if_changed(runtime.settings, runtime.store, datetime.now(UTC))
    return describe_build(outcome, runtime.settings)


def digest_job() -> JobResult:
    """Sends the issue of the fire being run, after building if a source changed.

    The period comes from the schedule's last fire at or before now, which is the fire
    APScheduler runs (coalesced to the latest, within the misfire grace).
    """
    runtime = _runtime()
    if runtime.stop.is_set():
        return JobResult("stopping: not started", skipped=True)
    now = datetime.now(UTC)
    fire = due_fire_time(runtime.settings, now)
    if fire is None:
        return JobResult("no fire of digest.schedule within digest.misfire_grace", skipped=True)
    late = now - fire
    lateness = f", {duration(late)} late" if late >= timedelta(seconds=1) else ""
    log.info("job digest started (due %s%s)", stamp(fire), lateness)
    done = publish(runtime.settings, runtime.store, runtime.environ, now, fire, runtime.options())
    return describe_run(done.digest)


def bounce_job() -> JobResult:
    """Reads the bounce mailbox once and applies its reports to the subscribers."""
    runtime = _runtime()
    found, applied = read_bounce_mailbox(runtime.settings, runtime.store, runtime.environ,
                                         datetime.now(UTC))  # fmt: skip
    text = (f"{len(found.reports)} reports read, {found.moved} messages moved, {found.left} "
            f"left in the folder; {applied.changed} subscribers changed, {applied.repeated} "
            "reports seen before")  # fmt: skip
    return JobResult(text, skipped=not found.reports)


def resume_unfinished(runtime: Runtime) -> JobResult:
    """Finishes issues a stopped or killed run left unfinished; sends nothing new."""
    run = send_digest(runtime.settings, runtime.store, runtime.environ, None, runtime.options())
    return describe_run(run)


def describe_build(outcome: BuildOutcome, settings: Settings) -> JobResult:
    report = outcome.report
    if report is None:
        return JobResult(outcome.reason, skipped=True)
    text = (
        f"{len(report.written)} written, {report.kept} kept, {len(report.removed)} removed "
        f"in {settings.resolve(settings.feeds.output)} ({outcome.reason})"
    )
    return JobResult(text + "".join(f"; warning: {w}" for w in report.warnings))


def describe_run(run: Run) -> JobResult:
    parts = [str(summary) for summary in run.summaries]
    if run.note:
        parts.append(run.note)
    return JobResult("; ".join(parts), skipped=not run.summaries)
