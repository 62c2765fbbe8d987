"""Issues from start to end: plan, create (or resume) for a period, render, preview.

``create_or_resume_issue`` is what a scheduled run calls with its period key: one issue
per fire, ever. The CLI's ``digest --send`` calls it with the key of the current hour
and ``manual``: an issue of that hour that went out already does not stop a new issue
for posts that are in none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from gazette.catalog import iter_posts
from gazette.catalog.sync import sync_catalog
from gazette.config import Settings
from gazette.digest import ledger
from gazette.digest.ledger import Issue
from gazette.digest.message import MessageMaker, check_sender
from gazette.digest.render import render_issue, render_subject
from gazette.digest.selection import select_posts
from gazette.digest.send import Dispatcher, Summary
from gazette.digest.subscribers import count_active, list_subscribers
from gazette.digest.tokens import secret_key
from gazette.errors import DuplicateError, SourceError
from gazette.mail.base import Envelope
from gazette.models import Post
from gazette.store import Store

PREVIEW_RECIPIENT = "reader@example.org"
STOPPED = "stopped on request after the call in flight; the next run resumes the issue"


@dataclass(frozen=True, slots=True)
class Plan:
    """What ``digest --send`` would do now, found without writing anything."""

    period: str  # of the new issue
    unfinished: tuple[tuple[Issue, dict[str, int]], ...]  # issues a run would finish first
    done_for_period: Issue | None  # this period's issue, when it went out and nothing is new
    posts: tuple[Post, ...]  # of the new issue
    subject: str
    recipients: int  # active subscribers


def create_or_resume_issue(
    settings: Settings, store: Store, period: str, now: datetime, manual: bool = False
) -> Issue | None:
    """The issue of ``period``: the one already made, else a new one when there are new
    posts and active subscribers; None otherwise. With ``manual``, an issue of ``period``
    that is done gives way to a new one when posts are in no issue.

    Two processes may race to make it; the loser finds the winner's issue and resumes it.
    """
    try:
        with store.transaction() as connection:
            return _create_or_find(settings, connection, period, now, manual)
    except DuplicateError:
        with store.transaction() as connection:
            found = ledger.issue_for_period(connection, period)
        if found is None:
            raise
        return found


def _create_or_find(
    settings: Settings, connection: Connection, period: str, now: datetime, manual: bool
) -> Issue | None:
    found = ledger.issue_for_period(connection, period)
    if found is not None and not (manual and found.status == "done"):
        return found
    posts = select_posts(settings, connection, now)
    if not posts:
        return found
    if not count_active(connection):
        return None
    number = ledger.next_issue_number(connection)
    key = ledger.manual_period(period, found, number) if manual else period
    subject = render_subject(settings, number, key, posts, now)
    return ledger.create_issue(connection, key, subject, [p.id for p in posts], now)


def unfinished_issues(store: Store) -> list[Issue]:
    with store.transaction() as connection:
        return ledger.unfinished_issues(connection)


class _RollBack(Exception):
    """Raised inside a transaction to undo it."""


@contextmanager
def dry_connection(settings: Settings, store: Store, now: datetime) -> Iterator[Connection]:
    """A connection on the freshly synced catalog whose every change is rolled back."""
    try:
        with store.transaction() as connection:
            report = sync_catalog(settings, connection, now)
            if report.errors:
                first = report.errors[0]
                raise SourceError(f"{first.location}: {first.message}")
            yield connection
            raise _RollBack
    except _RollBack:
        pass


def plan_digest(settings: Settings, store: Store, period: str, now: datetime) -> Plan:
    """What a send would do now; nothing is written."""
    with dry_connection(settings, store, now) as connection:
        unfinished = tuple(
            (issue, ledger.counts(connection, issue.number))
            for issue in ledger.unfinished_issues(connection)
        )
        taken = ledger.issue_for_period(connection, period)
        posts = tuple(select_posts(settings, connection, now))
        number = ledger.next_issue_number(connection)
        key = ledger.manual_period(period, taken, number)
        subject = render_subject(settings, number, key, posts, now) if posts else ""
        done = None if posts else taken
        return Plan(key, unfinished, done, posts, subject, count_active(connection))


def issue_posts(settings: Settings, connection: Connection, issue: Issue) -> list[Post]:
    """The posts of ``issue`` as the catalog has them now, in the issue's order."""
    wanted = set(issue.post_ids)
    found = {
        p.id: p for p in iter_posts(settings, connection, include_future=True) if p.id in wanted
    }
    return [found[post_id] for post_id in issue.post_ids if post_id in found]


def message_maker(
    settings: Settings,
    connection: Connection,
    issue: Issue,
    environ: Mapping[str, str],
    now: datetime,
) -> MessageMaker:
    """Renders ``issue`` once and returns what makes each recipient's message of it."""
    sender = check_sender(settings)
    posts = issue_posts(settings, connection, issue)
    rendered = render_issue(settings, issue.number, issue.period, issue.subject, posts, now)
    return MessageMaker(settings, sender, issue.number, rendered, secret_key(connection, environ))


def write_preview(
    settings: Settings,
    store: Store,
    period: str,
    folder: Path,
    environ: Mapping[str, str],
    now: datetime,
) -> list[Path] | None:
    """The next issue's HTML, text and .eml in ``folder``; None when there is none."""
    with dry_connection(settings, store, now) as connection:
        issue = _next_issue(settings, connection, period, now)
        if issue is None:
            return None
        maker = message_maker(settings, connection, issue, environ, now)
        envelope = maker.envelope(*_preview_recipient(connection), now)
    return _write_preview_files(folder, f"issue-{issue.number}", envelope)


def _next_issue(
    settings: Settings, connection: Connection, period: str, now: datetime
) -> Issue | None:
    unfinished = ledger.unfinished_issues(connection)
    if unfinished:
        return unfinished[0]
    posts = select_posts(settings, connection, now)
    if not posts:
        return None
    number = ledger.next_issue_number(connection)
    key = ledger.manual_period(period, ledger.issue_for_period(connection, period), number)
    subject = render_subject(settings, number, key, posts, now)
    return Issue(number, key, subject, "preview", tuple(p.id for p in posts), now.isoformat())


def _preview_recipient(connection: Connection) -> tuple[str, int]:
    first = next(iter(list_subscribers(connection, "active")), None)
    return (first.address, first.id) if first else (PREVIEW_RECIPIENT, 0)


def _write_preview_files(folder: Path, stem: str, envelope: Envelope) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.html", folder / f"{stem}.txt", folder / f"{stem}.eml"]
    paths[0].write_text(envelope.html, encoding="utf-8")
    paths[1].write_text(envelope.text, encoding="utf-8")
    paths[2].write_bytes(envelope.mime)
    return paths


@dataclass
class Run:
    """What one ``digest --send`` (or scheduled run) did."""

    summaries: list[Summary]
    note: str = ""  # why no new issue was sent, when none was


def run_digest(
    settings: Settings,
    dispatcher: Dispatcher,
    environ: Mapping[str, str],
    period: str,
    new_issue: bool = True,
    resend_uncertain: bool = False,
    on_start: Callable[[Issue, int], None] = lambda _issue, _total: None,
    manual: bool = False,
) -> Run:
    """Finishes every unfinished issue, then (with ``new_issue``) sends ``period``'s
    (with ``manual``, see ``create_or_resume_issue``)."""
    store = dispatcher.store
    run = Run([])
    for issue in unfinished_issues(store):
        run.summaries.append(
            _deliver(settings, dispatcher, issue, environ, resend_uncertain, on_start)
        )
        if _stopped_early(dispatcher, run):
            run.note = STOPPED
            return run
    if not new_issue:
        run.note = "" if run.summaries else "no unfinished issue: nothing to resume"
        return run
    current = create_or_resume_issue(settings, store, period, dispatcher.now(), manual)
    if current is None:
        run.note = _why_nothing(store)
    elif current.status == "done":
        run.note = f"issue {current.number} for period {current.period} went out already"
    elif all(s.issue != current.number for s in run.summaries):
        run.summaries.append(
            _deliver(settings, dispatcher, current, environ, resend_uncertain, on_start)
        )
        run.note = STOPPED if _stopped_early(dispatcher, run) else ""
    return run


def _stopped_early(dispatcher: Dispatcher, run: Run) -> bool:
    return dispatcher.stop.is_set() and bool(run.summaries[-1].count("pending"))


def _deliver(
    settings: Settings,
    dispatcher: Dispatcher,
    issue: Issue,
    environ: Mapping[str, str],
    resend_uncertain: bool,
    on_start: Callable[[Issue, int], None],
) -> Summary:
    with dispatcher.store.transaction() as connection:
        dispatcher.maker = message_maker(settings, connection, issue, environ, dispatcher.now())
        counts = ledger.counts(connection, issue.number)
    waiting = counts.get("pending", 0) + counts.get("in-flight", 0)
    if resend_uncertain or dispatcher.provider.idempotent:
        waiting += counts.get("uncertain", 0)
    on_start(issue, waiting)
    return dispatcher.deliver(issue, resend_uncertain)


def _why_nothing(store: Store) -> str:
    with store.transaction() as connection:
        if not count_active(connection):
            return (
                "no active subscribers: no issue, nothing sent "
                "(add some with `gazette subscribers add`)"
            )
    return "nothing new since the last issue: no issue, nothing sent"
