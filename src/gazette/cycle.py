"""One cycle of the service: build the feeds when a source changed, then send the digest
of a period. `gazette run`'s jobs and `gazette publish` call these same functions, so the
scheduler holds no logic of its own.
"""

# Each function imports the stages it runs, so `gazette build` loads no mail code and an
# unchanged build none of the catalog's or the feeds'.
# ruff: noqa: PLC0415

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gazette.catalog.survey import Survey
from gazette.config import Settings
from gazette.errors import GazetteError
from gazette.freshness import (
    LastBuild,
    current_inputs,
    last_build,
    record_archive,
    record_build,
    sent_issues_hash,
    settled,
    why_build,
)
from gazette.pinyin import Reader
from gazette.schedules import cron_trigger, latest_fire_time
from gazette.store import Store

if TYPE_CHECKING:
    from gazette.digest import Issue, Run
    from gazette.feeds import BuildReport

_BUILDING = threading.Lock()


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    """Whether a build ran, why (or why not), and what it wrote."""

    reason: str
    report: BuildReport | None  # None when nothing had changed
    last: LastBuild | None


def build_if_changed(settings: Settings, store: Store, now: datetime) -> BuildOutcome:
    """Syncs the catalog and writes the feeds, unless nothing they are made of changed
    (gazette.freshness).

    One at a time in a process (the scheduler's two jobs may both want to build), so the
    second finds the first's build and has nothing left to do.
    """
    with _BUILDING:
        return _build_if_changed(settings, store, now)


def _build_if_changed(settings: Settings, store: Store, now: datetime) -> BuildOutcome:
    last = last_build(store)
    survey = Survey()  # the files as found now, by the check and the sync alike
    inputs = current_inputs(settings, store, survey, last.racy if last else ())
    reason = why_build(settings, store, last, inputs, now)
    if not reason:
        return BuildOutcome("no source changed", None, last)
    titles = Reader()
    if last is not None and last.fewer_files_than(inputs):
        titles.start()  # a new post's title, read while the catalog loads
    from gazette.catalog import update_catalog
    from gazette.feeds import build_feeds

    try:
        update_catalog(settings, store, now, survey, titles)
    finally:
        titles.close()  # ended by the sync already, unless the catalog failed to open
    report = build_feeds(settings, store, now)
    counts = (len(report.written), report.kept, len(report.removed))
    made_from = settled(inputs)  # its racy files read again, before the write lock
    with store.transaction() as connection:
        last = record_build(connection, made_from, now, counts)
    return BuildOutcome(reason, report, last)


# --- the digest ------------------------------------------------------------------------


def due_fire_time(settings: Settings, now: datetime) -> datetime | None:
    """The digest schedule's last fire at or before ``now``, if within its misfire grace."""
    trigger = cron_trigger(settings.digest.schedule, settings.site.zone)
    return latest_fire_time(trigger, now, settings.digest.grace)


def next_fire_time(settings: Settings, now: datetime) -> datetime | None:
    trigger = cron_trigger(settings.digest.schedule, settings.site.zone)
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire


@dataclass
class SendOptions:
    """How one run sends: what to resend, when to stop, whom to tell about progress."""

    resend_uncertain: bool = False
    stop: threading.Event | None = None
    on_start: Callable[[Issue, int], None] = lambda _issue, _total: None
    on_batch: Callable[[int], None] = lambda _count: None
    manual: bool = False  # a send by hand: see gazette.digest.issue.create_or_resume_issue


def send_digest(
    settings: Settings,
    store: Store,
    environ: Mapping[str, str],
    period: str | None,
    options: SendOptions,
) -> Run:
    """Finishes unfinished issues, then (given a period) sends that period's issue.

    The catalog must be current: the caller syncs it, or builds.
    """
    from gazette.digest import Dispatcher, run_digest
    from gazette.digest.tokens import check_secret_key
    from gazette.errors import DeliveryError
    from gazette.mail import make_provider

    check_secret_key(environ)  # before anything is recorded, as the provider's secrets are
    provider = make_provider(settings, environ)
    dispatcher = Dispatcher(settings, store, provider, on_batch=options.on_batch)
    if options.stop is not None:
        dispatcher.stop = options.stop
    try:
        run = run_digest(settings, dispatcher, environ, period or "", period is not None,
                         options.resend_uncertain, options.on_start, options.manual)  # fmt: skip
    except DeliveryError:
        # Whoever was mailed before the provider stopped holds a "view in browser" link.
        _publish_archive(settings, store)
        raise
    finally:
        provider.close()
    if run.summaries:
        problem = _publish_archive(settings, store)
        run.note = "\n".join(filter(None, [run.note, problem]))
    return run


def _publish_archive(settings: Settings, store: Store) -> str:
    """Writes the archive of sent issues; what went wrong, if anything (the mail went out
    all the same, so a problem here is reported, not raised)."""
    from gazette.feeds import write_issue_archive

    try:
        with _BUILDING:
            issues = sent_issues_hash(store)  # taken first: the archive holds at least these
            write_issue_archive(settings, store)
            record_archive(store, issues)
    except GazetteError as error:
        return f"the archive of issues was not written: {error}; `gazette build` writes it"
    return ""


@dataclass(frozen=True, slots=True)
class Published:
    """What one cycle did."""

    build: BuildOutcome
    period: str | None  # the digest period it sent for; None when no digest was due
    digest: Run


def publish(
    settings: Settings,
    store: Store,
    environ: Mapping[str, str],
    now: datetime,
    fire_time: datetime | None,
    options: SendOptions,
) -> Published:
    """Builds if a source changed, then finishes unfinished issues and, when ``fire_time``
    is given, sends the issue of the period it names."""
    from gazette.digest.ledger import scheduled_period

    build = build_if_changed(settings, store, now)
    period = scheduled_period(fire_time, settings.site.zone) if fire_time else None
    return Published(build, period, send_digest(settings, store, environ, period, options))
