"""`gazette status`: the scheduler's jobs, the last build, the last issue and the
recent issues' bounce and complaint rates, read from the state database without
starting anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, func, select

from gazette.config import Settings
from gazette.digest import ledger, reputation
from gazette.digest.reputation import IssueRates, Rates
from gazette.digest.tables import confirmation_mails, subscribers
from gazette.freshness import LastBuild, last_build
from gazette.lease import Holder, current_holder
from gazette.scheduler.service import job_specs
from gazette.scheduler.tables import jobs
from gazette.store import Store

SCHEDULER_HOLDER = "gazette run ("  # how gazette.lease.describe_process names `run`


@dataclass(frozen=True, slots=True)
class JobStatus:
    id: str
    schedule: str
    next_run: datetime | None
    stored: bool  # False: no scheduler has stored it yet; next_run is from the config


@dataclass(frozen=True, slots=True)
class IssueStatus:
    number: int
    period: str
    subject: str
    status: str
    created: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class Status:
    lease: Holder | None  # who holds the state: a scheduler, or a publish or send running

    @property
    def scheduler_running(self) -> bool:
        return self.lease is not None and self.lease.holder.startswith(SCHEDULER_HOLDER)

    jobs: tuple[JobStatus, ...]
    last_build: LastBuild | None
    last_issue: IssueStatus | None
    subscribers: dict[str, int]  # by status: pending ones wait for their confirmation
    confirmation_mails: dict[str, int]  # by status: queued ones are not sent yet
    recent_issues: tuple[IssueRates, ...] = ()  # bounce and complaint rates, newest first


def read_status(settings: Settings, store: Store, now: datetime) -> Status:
    with store.transaction() as connection:
        people = _by_status(connection, subscribers)
        mails = _by_status(connection, confirmation_mails)
        rates = tuple(reputation.recent_rates(connection))
    return Status(
        current_holder(store),
        _jobs(settings, store, now),
        last_build(store),
        _last_issue(store),
        people,
        mails,
        rates,
    )


def _by_status(connection: Connection, table: Table) -> dict[str, int]:
    query = select(table.c.status, func.count()).group_by(table.c.status)
    return {status: int(count) for status, count in connection.execute(query).all()}


def _jobs(settings: Settings, store: Store, now: datetime) -> tuple[JobStatus, ...]:
    stored = _stored_next_runs(store)
    found = []
    for spec in job_specs(settings):
        if spec.id in stored:
            found.append(JobStatus(spec.id, spec.schedule, stored[spec.id], True))
        else:
            next_run = spec.trigger.get_next_fire_time(None, now.astimezone(settings.site.zone))
            found.append(JobStatus(spec.id, spec.schedule, next_run, False))
    return tuple(found)


def _stored_next_runs(store: Store) -> dict[str, datetime | None]:
    """Each stored job's next run (None when paused), straight from APScheduler's table."""
    with store.transaction() as connection:
        rows = connection.execute(select(jobs.c.id, jobs.c.next_run_time)).all()
    return {
        row.id: datetime.fromtimestamp(row.next_run_time, UTC) if row.next_run_time else None
        for row in rows
    }


def _last_issue(store: Store) -> IssueStatus | None:
    with store.transaction() as connection:
        issue = ledger.latest_issue(connection)
        if issue is None:
            return None
        counts = ledger.counts(connection, issue.number)
    return IssueStatus(issue.number, issue.period, issue.subject, issue.status, issue.created,
                       counts)  # fmt: skip


def status_as_json(status: Status, settings: Settings) -> dict[str, Any]:
    """The status for scripts: times in RFC 3339, in the site's time zone."""
    zone = settings.site.zone
    holder = status.lease

    def stamp(moment: datetime | None) -> str | None:
        return moment.astimezone(zone).isoformat() if moment else None

    return {
        "running": status.scheduler_running,
        "lease": None if holder is None else {
            "holder": holder.holder, "acquired": stamp(holder.acquired),
            "renewed": stamp(holder.renewed), "expires": stamp(holder.expires),
        },
        "jobs": [
            {"id": j.id, "schedule": j.schedule, "next_run": stamp(j.next_run), "stored": j.stored}
            for j in status.jobs
        ],
        "last_build": _build_json(status.last_build),
        "last_issue": asdict(status.last_issue) if status.last_issue else None,
        "subscribers": status.subscribers,
        "confirmation_mails": status.confirmation_mails,
        "subscribe_page": f"{settings.serve_base_url}/subscribe",
        "recent_issues": {
            "issues": [{"number": i.number, "period": i.period, **_rates_json(i.rates)}
                       for i in status.recent_issues],
            "total": _rates_json(reputation.total(list(status.recent_issues))),
        },
    }  # fmt: skip


def _rates_json(rates: Rates) -> dict[str, Any]:
    return {"sent": rates.sent, "bounced": rates.bounced, "soft_bounced": rates.soft_bounced,
            "complained": rates.complained, "bounce_rate": rates.bounce_rate,
            "complaint_rate": rates.complaint_rate, "bounce_level": rates.bounce_level,
            "complaint_level": rates.complaint_level}  # fmt: skip


def _build_json(build: LastBuild | None) -> dict[str, Any] | None:
    if build is None:
        return None
    found = asdict(build)
    for internal in ("fingerprint", "issues", "racy"):  # what the next build compares
        del found[internal]
    return found


def describe_status(status: Status, settings: Settings) -> list[str]:
    """The status for people, one fact per line."""
    zone = settings.site.zone
    holder = status.lease
    lines = [f"scheduler: {'running' if status.scheduler_running else 'not running'}"]
    lines.append(f"lease: {holder.describe() if holder else 'free'}")
    for job in status.jobs:
        when = job.next_run.astimezone(zone).isoformat(timespec="seconds") if job.next_run else "—"
        source = "" if job.stored else " (from the config; no scheduler has run yet)"
        lines.append(f"job {job.id}: schedule {job.schedule!r}, next run {when}{source}")
    lines.append(_build_line(status.last_build, zone))
    lines.append(_issue_line(status.last_issue))
    lines.append(_subscribers_line(status.subscribers, status.confirmation_mails))
    page = f"{settings.serve_base_url}/subscribe"
    lines.append(f"subscribe page: {page} (while `gazette serve` runs)")
    return lines + _rates_lines(list(status.recent_issues))


def _rates_lines(recent: list[IssueRates]) -> list[str]:
    """A line per recent issue, their total, and a warning or alarm past the levels."""
    if not recent:
        return []
    lines = [f"issue {i.number} ({i.period}): {_rates_text(i.rates)}" for i in recent]
    together = reputation.total(recent)
    lines.append(f"last {len(recent)} issues: {_rates_text(together)}")
    for level in ("alarm", "warning"):
        if together.complaint_level == level:
            lines.append(f"{level}: complaints are {_percent(together.complaint_rate)} of the "
                         f"mail sent, {_COMPLAINT_WORDS[level]}")  # fmt: skip
        if together.bounce_level == level:
            lines.append(f"{level}: bounces are {_percent(together.bounce_rate)} of the mail "
                         f"sent, {_BOUNCE_WORDS[level]}")  # fmt: skip
    return lines


_COMPLAINT_WORDS = {
    "warning": "past the 0.1 % Gmail and Yahoo ask bulk senders to stay under",
    "alarm": "past 0.3 %: Gmail and Yahoo reject bulk senders' mail at this rate",
}
_BOUNCE_WORDS = {
    "warning": "past 5 %: check how addresses reach the list",
    "alarm": "past 10 %: providers (SES among them) pause sending accounts at this rate",
}


def _rates_text(rates: Rates) -> str:
    return (f"{rates.sent} sent, {rates.bounced} bounced ({_percent(rates.bounce_rate)}), "
            f"{rates.soft_bounced} soft-bounced, {rates.complained} complaints "
            f"({_percent(rates.complaint_rate)})")  # fmt: skip


def _percent(rate: float) -> str:
    return f"{rate * 100:.2f} %"


def _subscribers_line(people: dict[str, int], mails: dict[str, int]) -> str:
    counts = ", ".join(f"{people.get(s, 0)} {s}" for s in ("active", "pending"))
    unsent = mails.get("queued", 0) + mails.get("sending", 0)
    return (
        f"subscribers: {counts} (waiting for their confirmation); confirmation mails: "
        f"{unsent} not sent yet, {mails.get('uncertain', 0)} uncertain, "
        f"{mails.get('failed', 0)} failed"
    )


def _build_line(build: LastBuild | None, zone: ZoneInfo) -> str:
    if build is None:
        return "last build: none yet"
    when = datetime.fromisoformat(build.at).astimezone(zone).isoformat(timespec="seconds")
    return (
        f"last build: {when}: {build.written} written, {build.kept} kept, {build.removed} removed"
    )


def _issue_line(issue: IssueStatus | None) -> str:
    if issue is None:
        return "last issue: none yet"
    counts = ", ".join(f"{issue.counts.get(s, 0)} {s}" for s in ("sent", "failed", "uncertain"))
    waiting = issue.counts.get("pending", 0) + issue.counts.get("in-flight", 0)
    more = f", {waiting} waiting" if waiting else ""
    head = f"last issue: {issue.number} ({issue.period}, {issue.status}) {issue.subject!r}"
    return f"{head}: {counts}{more}"
