"""The delivery ledger: each issue, and each recipient's delivery of it.

A delivery moves pending → in-flight (written before the provider is called) → sent or
failed (written as soon as it answers). A call whose answer never came leaves its
recipients uncertain: a run that finds in-flight rows died during a call, so those are
uncertain too. Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)

from gazette.digest.tables import deliveries, issue_posts, issues, subscribers
from gazette.mail.base import SendResult

OPEN = ("pending", "in-flight", "uncertain")
# Where the archive of sent issues is written, in the feeds' output folder.
ARCHIVE_FOLDER = "issues/"


def period_for(moment: datetime, zone: ZoneInfo) -> str:
    """The period key of a run at ``moment``: its local date and hour, e.g. 2026-11-23T08.

    The scheduler passes its fire time; a manual send passes the current time (see
    ``manual_period`` for a second manual issue within the hour).
    """
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H")


def manual_period(hour: str, taken: Issue | None, number: int) -> str:
    """The period key of manual issue ``number`` sent in the period ``hour``: the hour's,
    unless an issue holds that key already; then the hour and the new issue's number
    (``2026-11-23T08.2``), a key no other issue can hold. A manual send is one at a time
    (the lease) and takes only posts in no issue, so the hour need not stop it."""
    return hour if taken is None else f"{hour}.{number}"


def scheduled_period(fire_time: datetime, zone: ZoneInfo) -> str:
    """The period key of a scheduled fire: its local time to the minute (to the second
    for a schedule with seconds), e.g. 2026-11-23T08:00, so each fire has its own."""
    local = fire_time.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S" if local.second else "%Y-%m-%dT%H:%M")


@dataclass(frozen=True, slots=True)
class Issue:
    """One digest: its number, period, subject, posts (by id) and status."""

    number: int
    period: str
    subject: str
    status: str  # sending | done
    post_ids: tuple[str, ...]
    created: str


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken for one provider call."""

    id: int
    recipient: str
    attempts: int
    subscriber: int


def issue_for_period(connection: Connection, period: str) -> Issue | None:
    row = connection.execute(select(issues).where(issues.c.period == period)).first()
    return _issue(connection, row) if row else None


def unfinished_issues(connection: Connection) -> list[Issue]:
    query = select(issues).where(issues.c.status == "sending").order_by(issues.c.number)
    return [_issue(connection, row) for row in connection.execute(query).all()]


def sent_issues(connection: Connection) -> list[Issue]:
    """Issues that went out, newest first: sending or done, with a delivery sent."""
    query = select(issues).where(_went_out()).order_by(issues.c.number.desc())
    return [_issue(connection, row) for row in connection.execute(query).all()]


def sent_issue_numbers(connection: Connection) -> list[int]:
    """The numbers of sent_issues, newest first."""
    query = select(issues.c.number).where(_went_out()).order_by(issues.c.number.desc())
    return list(connection.execute(query).scalars())


def _went_out() -> ColumnElement[bool]:
    has_sent = select(deliveries.c.issue).where(deliveries.c.status == "sent")
    return and_(issues.c.status.in_(("sending", "done")), issues.c.number.in_(has_sent))


def latest_issue(connection: Connection) -> Issue | None:
    row = connection.execute(select(issues).order_by(issues.c.number.desc()).limit(1)).first()
    return _issue(connection, row) if row else None


def _issue(connection: Connection, row: object) -> Issue:
    mapping = row._mapping  # type: ignore[attr-defined]
    query = (
        select(issue_posts.c.post_id)
        .where(issue_posts.c.issue == mapping["number"])
        .order_by(issue_posts.c.position)
    )
    post_ids = tuple(connection.execute(query).scalars())
    return Issue(
        mapping["number"],
        mapping["period"],
        mapping["subject"],
        mapping["status"],
        post_ids,
        mapping["created"],
    )


def next_issue_number(connection: Connection) -> int:
    return (
        int(connection.execute(select(func.coalesce(func.max(issues.c.number), 0))).scalar_one())
        + 1
    )


def create_issue(
    connection: Connection, period: str, subject: str, post_ids: Sequence[str], now: datetime
) -> Issue:
    """Writes an issue and one pending delivery for every active subscriber."""
    number = next_issue_number(connection)
    stamp = now.isoformat()
    connection.execute(
        issues.insert().values(
            number=number, period=period, subject=subject, status="sending", created=stamp
        )
    )
    connection.execute(
        issue_posts.insert(),
        [{"issue": number, "position": i, "post_id": p} for i, p in enumerate(post_ids)],
    )
    recipients = select(
        literal(number), subscribers.c.id, subscribers.c.address, literal("pending"),
        literal(0), literal(""), literal(""), literal(stamp),
    ).where(subscribers.c.status == "active")  # fmt: skip
    columns = ["issue", "subscriber", "recipient", "status", "attempts", "provider_id",
               "last_error", "changed"]  # fmt: skip
    connection.execute(insert(deliveries).from_select(columns, recipients))
    return Issue(number, period, subject, "sending", tuple(post_ids), stamp)


def claim_batch(connection: Connection, issue: int, size: int, now: datetime) -> list[Claimed]:
    """Up to ``size`` pending deliveries, now in-flight; those no longer active are skipped.

    Two senders never claim the same delivery: on PostgreSQL the rows another sender has
    locked are passed over (SQLite lets one writer at a time in), and only the rows this
    UPDATE moved out of pending are returned.
    """
    _skip_inactive(connection, issue, now)
    pending = (
        select(deliveries.c.id)
        .where(deliveries.c.issue == issue, deliveries.c.status == "pending")
        .order_by(deliveries.c.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    ids = list(connection.execute(pending).scalars())
    if not ids:
        return []
    moved = connection.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(ids), deliveries.c.status == "pending")
        .values(status="in-flight", attempts=deliveries.c.attempts + 1, changed=now.isoformat())
        .returning(
            deliveries.c.id, deliveries.c.recipient, deliveries.c.attempts, deliveries.c.subscriber
        )
    )
    return sorted(
        (Claimed(row.id, row.recipient, row.attempts, row.subscriber) for row in moved),
        key=lambda c: c.id,
    )


def _skip_inactive(connection: Connection, issue: int, now: datetime) -> None:
    """An address unsubscribed (or bounced) since the issue began is not mailed."""
    inactive = select(subscribers.c.id).where(subscribers.c.status != "active")
    connection.execute(
        update(deliveries)
        .where(
            deliveries.c.issue == issue,
            deliveries.c.status.in_(("pending", "uncertain")),
            deliveries.c.subscriber.in_(inactive),
        )
        .values(status="skipped", last_error="no longer subscribed", changed=now.isoformat())
    )


def record_results(
    connection: Connection, claimed: Sequence[Claimed], results: Sequence[SendResult], now: datetime
) -> None:
    """Every answer of one provider call, in one executemany."""
    rows = [
        {"row_id": d.id, "new_status": r.status, "new_provider_id": r.provider_id,
         "new_error": r.error}
        for d, r in zip(claimed, results, strict=True)
    ]  # fmt: skip
    if rows:
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id == bindparam("row_id"))
            .values(
                status=bindparam("new_status"),
                provider_id=bindparam("new_provider_id"),
                last_error=bindparam("new_error"),
                changed=now.isoformat(),
            ),
            rows,
        )


def set_status(
    connection: Connection, claimed: Iterable[Claimed], status: str, error: str, now: datetime
) -> None:
    _set(connection, [c.id for c in claimed], now, status, "", error)


def _set(
    connection: Connection,
    ids: list[int],
    now: datetime,
    status: str,
    provider_id: str,
    error: str,
) -> None:
    if ids:
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids))
            .values(
                status=status, provider_id=provider_id, last_error=error, changed=now.isoformat()
            )
        )


def mark_interrupted(connection: Connection, issue: int, now: datetime) -> int:
    """In-flight rows left by a run that died during a call become uncertain."""
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.issue == issue, deliveries.c.status == "in-flight")
        .values(
            status="uncertain",
            last_error="the run stopped before the provider answered",
            changed=now.isoformat(),
        )
    )
    return int(result.rowcount)


def requeue_uncertain(
    connection: Connection, issue: int, max_attempts: int | None, now: datetime
) -> int:
    """Uncertain deliveries go back to pending, unless they have used every attempt."""
    query = update(deliveries).where(
        deliveries.c.issue == issue, deliveries.c.status == "uncertain"
    )
    if max_attempts is not None:
        query = query.where(deliveries.c.attempts < max_attempts)
    result = connection.execute(query.values(status="pending", changed=now.isoformat()))
    return int(result.rowcount)


def counts(connection: Connection, issue: int) -> dict[str, int]:
    """How many deliveries of ``issue`` are in each status."""
    query = (
        select(deliveries.c.status, func.count())
        .where(deliveries.c.issue == issue)
        .group_by(deliveries.c.status)
    )
    return {status: int(count) for status, count in connection.execute(query)}


def finish_if_done(connection: Connection, issue: int, now: datetime) -> bool:
    """Marks the issue done when no delivery is pending, in flight or uncertain."""
    by_status = counts(connection, issue)
    if any(by_status.get(status) for status in OPEN):
        return False
    connection.execute(
        update(issues)
        .where(issues.c.number == issue)
        .values(status="done", finished=now.isoformat())
    )
    return True
