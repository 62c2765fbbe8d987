"""One cycle of the service: build the feeds when a source changed, then send the digest
of a period. `gazette run`'s jobs and `gazette publish` call these same functions, so the
scheduler holds no logic of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from gazette import __version__
from gazette.catalog import update_catalog
from gazette.catalog.sources import source_paths
from gazette.catalog.tables import next_publication
from gazette.config import Settings
from gazette.digest import Dispatcher, Issue, Run, run_digest
from gazette.digest.ledger import scheduled_period
from gazette.digest.tokens import check_secret_key
from gazette.errors import DeliveryError, GazetteError
from gazette.feeds import BuildReport, build_feeds, write_issue_archive
from gazette.mail import make_provider
from gazette.schedules import cron_trigger, latest_fire_time
from gazette.store import Store, read_meta, write_meta

LAST_BUILD_KEY = "last_build"
_BUILDING = threading.Lock()
FEED_SETTINGS = {"site", "sources", "catalog", "feeds", "config_path"}


@dataclass(frozen=True, slots=True)
class LastBuild:
    """What the last build did, and what it was made from."""

    at: str  # RFC 3339
    written: int
    kept: int
    removed: int
    fingerprint: str  # of the settings and the source files; "" when a source is a URL
    next_due: str  # when the first post dated in the future comes due; "" if none


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    """Whether a build ran, why (or why not), and what it wrote."""

    reason: str
    report: BuildReport | None  # None when nothing had changed
    last: LastBuild | None


def build_if_changed(
    settings: Settings, store: Store, now: datetime, force: bool = False
) -> BuildOutcome:
    """Syncs the catalog and writes the feeds, unless nothing they are made of changed.

    One at a time in a process (the scheduler's two jobs may both want to build), so the
    second finds the first's build and has nothing left to do.
    """
    with _BUILDING:
        return _build_if_changed(settings, store, now, force)


def _build_if_changed(settings: Settings, store: Store, now: datetime, force: bool) -> BuildOutcome:
    fingerprint = source_fingerprint(settings)
    last = last_build(store)
    reason = "asked to" if force else _why_build(settings, last, fingerprint, now)
    if not reason:
        return BuildOutcome("no source changed", None, last)
    update_catalog(settings, store, now)
    report = build_feeds(settings, store, now)
    with store.transaction() as connection:
        due = next_publication(connection, now)
        last = LastBuild(now.isoformat(), len(report.written), report.kept, len(report.removed),
                         fingerprint, due.isoformat() if due else "")  # fmt: skip
        write_meta(connection, LAST_BUILD_KEY, json.dumps(asdict(last)))
    return BuildOutcome(reason, report, last)


def last_build(store: Store) -> LastBuild | None:
    with store.transaction() as connection:
        stored = read_meta(connection, LAST_BUILD_KEY)
    return LastBuild(**json.loads(stored)) if stored else None


def source_fingerprint(settings: Settings) -> str:
    """A hash of the settings and of every source file's name, size and mtime; "" when a
    source is a URL, which only fetching it can tell."""
    what_feeds_use = settings.model_dump_json(include=FEED_SETTINGS)
    digest = hashlib.sha256(f"{__version__}\n{what_feeds_use}\n".encode())
    for source in settings.sources:
        if source.is_url:
            return ""
        for path in source_paths(settings, source):
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _why_build(settings: Settings, last: LastBuild | None, fingerprint: str, now: datetime) -> str:
    """Why the feeds may be out of date; "" when they cannot be."""
    if last is None:
        return "no build yet"
    if not fingerprint:
        return "a source is a URL"
    if fingerprint != last.fingerprint:
        return "a source or the config changed"
    if last.next_due and datetime.fromisoformat(last.next_due) <= now:
        return f"a post dated {last.next_due} came due"
    if not settings.resolve(settings.feeds.output).is_dir():
        return "the output folder is missing"
    return ""


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
    try:
        with _BUILDING:
            write_issue_archive(settings, store)
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
    build = build_if_changed(settings, store, now)
    period = scheduled_period(fire_time, settings.site.zone) if fire_time else None
    return Published(build, period, send_digest(settings, store, environ, period, options))
