"""`gazette run`: APScheduler 3 running the build and digest jobs until stopped.

What real servers need of it:
- Jobs live in the state database (table gazette_jobs), so a restart keeps the schedule
  and knows what came due while it was stopped. A digest missed while stopped runs once
  on start-up if it is no later than digest.misfire_grace (coalesced: once, however many
  fires were missed); APScheduler's own default grace is one second.
- The build job runs at start when no build is recorded or its schedule would have run
  one since the last (a new install builds at once, not one feeds.schedule later).
- Only one scheduler per state database: the lease (gazette.lease) refuses a second.
- SIGTERM or Ctrl-C lets the provider call in flight finish and be recorded, then exits
  0; a second signal exits at once. The next start finishes the issue first.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from gazette.config import Settings
from gazette.digest.bounce_mailbox import check_bounce_mailbox
from gazette.digest.tokens import check_secret_key
from gazette.errors import GazetteError
from gazette.freshness import last_build
from gazette.lease import describe_process, held_lease
from gazette.log import duration, stamp
from gazette.scheduler import jobs
from gazette.scheduler.jobs import BOUNCE_JOB, BUILD_JOB, DIGEST_JOB, JobResult, Runtime
from gazette.scheduler.tables import JOBS_TABLE
from gazette.schedules import build_trigger, cron_trigger, overdue_since
from gazette.stopping import stop_on_signals
from gazette.store import Store

log = logging.getLogger("gazette.scheduler")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job as the config wants it."""

    id: str
    func: str  # "module:function", as the job store keeps it
    schedule: str
    trigger: BaseTrigger
    misfire_grace_time: int | None  # seconds; None: run however late

    def matches(self, job: Job) -> bool:
        """Whether a stored job is this one (else the config changed and it is replaced)."""
        return (
            job.func_ref == self.func
            and str(job.trigger) == str(self.trigger)
            and _zone(job.trigger) == _zone(self.trigger)
            and job.misfire_grace_time == self.misfire_grace_time
            and job.coalesce
            and job.max_instances == 1
        )


def _zone(trigger: BaseTrigger) -> str:
    return str(getattr(trigger, "timezone", ""))


def job_specs(settings: Settings) -> list[JobSpec]:
    zone = settings.site.zone
    grace = int(settings.digest.grace.total_seconds())
    specs = [
        JobSpec(BUILD_JOB, "gazette.scheduler.jobs:build_job", settings.feeds.schedule,
                build_trigger(settings.feeds.schedule, zone), None),
        JobSpec(DIGEST_JOB, "gazette.scheduler.jobs:digest_job", settings.digest.schedule,
                cron_trigger(settings.digest.schedule, zone), grace),
    ]  # fmt: skip
    if settings.mail.bounce_mailbox:
        schedule = settings.mail.bounce_schedule
        specs.append(JobSpec(BOUNCE_JOB, "gazette.scheduler.jobs:bounce_job", schedule,
                             build_trigger(schedule, zone), None))  # fmt: skip
    return specs


def run_scheduler(settings: Settings, environ: Mapping[str, str]) -> int:
    """Runs until SIGTERM or SIGINT; returns the exit code."""
    check_secret_key(environ)  # at start, not when the first digest is due
    if settings.mail.bounce_mailbox:
        check_bounce_mailbox(settings, environ)
    store = Store(settings.database_url)
    runtime = Runtime(settings, store, environ)
    lost = threading.Event()

    def on_lost() -> None:
        lost.set()
        runtime.stop.set()

    holder = describe_process("run")
    try:
        with (
            held_lease(store, holder, settings.state.lease_seconds, on_lost),
            stop_on_signals(runtime.stop),
        ):
            log.info("%s started; state in %s", holder, store.shown_url)
            _serve(settings, store, runtime)
    finally:
        store.close()
    log.info("stopped")
    return 1 if lost.is_set() else 0


def _serve(settings: Settings, store: Store, runtime: Runtime) -> None:
    scheduler = make_scheduler(settings, store)
    jobs.install(runtime)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, settings)
        _build_at_start(scheduler, settings, store)
        _resume_unfinished(runtime)
        if not runtime.stop.is_set():
            scheduler.resume()
            _log_next_runs(scheduler)
        while not runtime.stop.wait(1.0):
            pass
        log.info("stopping: waiting for the job in flight")
    finally:
        scheduler.shutdown(wait=True)
        jobs.uninstall()


def make_scheduler(settings: Settings, store: Store) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)},
        # Two workers: a long send does not hold back the next build.
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        timezone=settings.site.zone,
    )
    scheduler.add_listener(
        _log_event,
        EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES,
    )  # fmt: skip
    return scheduler


def sync_jobs(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """Keeps each stored job that matches the config (and what came due while stopped);
    replaces the others, starting their schedule afresh."""
    specs = job_specs(settings)
    for job in scheduler.get_jobs():
        if job.id not in {spec.id for spec in specs}:
            scheduler.remove_job(job.id)
            log.info("job %s: removed (the config no longer asks for it)", job.id)
    for spec in specs:
        stored = scheduler.get_job(spec.id)
        if stored is not None and spec.matches(stored):
            log.info("job %s: schedule %r, kept from the state database", spec.id, spec.schedule)
            continue
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.id,
                          misfire_grace_time=spec.misfire_grace_time, coalesce=True,
                          max_instances=1, replace_existing=True)  # fmt: skip
        why = "new" if stored is None else "the schedule in the config changed"
        log.info("job %s: schedule %r, stored anew (%s)", spec.id, spec.schedule, why)


def _build_at_start(scheduler: BackgroundScheduler, settings: Settings, store: Store) -> None:
    """Moves the build job's next run to now when the feeds may be a schedule behind."""
    now = datetime.now(UTC)
    last = last_build(store)
    at = datetime.fromisoformat(last.at) if last else None
    if at is None:
        why = "no build yet"
    elif overdue_since(settings.feeds.schedule, settings.site.zone, at, now):
        why = f"the last build, {stamp(at)}, is older than feeds.schedule"
    else:
        return
    scheduler.modify_job(BUILD_JOB, next_run_time=now)
    log.info("job build: runs now (%s)", why)


def _resume_unfinished(runtime: Runtime) -> None:
    try:
        result = jobs.resume_unfinished(runtime)
    except GazetteError as error:
        log.error("resuming unfinished issues failed: %s", error)
        return
    if not result.skipped:
        log.info("resumed unfinished issues: %s", result.text)


def _log_next_runs(scheduler: BackgroundScheduler) -> None:
    for job in scheduler.get_jobs():
        log.info("job %s: next run at %s", job.id, stamp(job.next_run_time))


# --- one log line per event ------------------------------------------------------------


def _log_event(event: JobEvent) -> None:
    if isinstance(event, JobSubmissionEvent):
        _log_submission(event)
    elif isinstance(event, JobExecutionEvent):
        _log_execution(event)


def _log_submission(event: JobSubmissionEvent) -> None:
    # A job logs its own start: this event may come after the job has finished.
    if event.code == EVENT_JOB_MAX_INSTANCES:
        log.warning("job %s skipped: its previous run is still going", event.job_id)


def _log_execution(event: JobExecutionEvent) -> None:
    job = event.job_id
    if event.code == EVENT_JOB_MISSED:
        late = datetime.now(UTC) - event.scheduled_run_time
        log.warning("job %s misfired: its run due %s is %s late, beyond digest.misfire_grace; "
                    "not run", job, stamp(event.scheduled_run_time), duration(late))  # fmt: skip
    elif event.code == EVENT_JOB_ERROR:
        error = event.exception
        if isinstance(error, GazetteError):
            log.error("job %s failed: %s", job, error)
        else:
            log.error("job %s failed: %r\n%s", job, error, event.traceback)
    elif isinstance(event.retval, JobResult):
        verb = "skipped" if event.retval.skipped else "finished"
        log.info("job %s %s: %s", job, verb, event.retval.text)
