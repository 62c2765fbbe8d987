"""How the list looks to the mailbox providers: the bounce and complaint rates of the
recent issues, from what the providers reported of each delivery (its outcome).

Gmail and Yahoo reject bulk senders whose complaint rate passes 0.3 % and ask them to
stay under 0.1 %: past 0.1 % is a warning, past 0.3 % an alarm. Bounce rates use the
levels SES acts on: past 5 % a warning, past 10 % an alarm. A rate is over the mails
sent (deliveries the provider accepted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, func, select

from gazette.digest.tables import deliveries, issues

Level = Literal["ok", "warning", "alarm"]
RECENT_ISSUES = 5
COMPLAINT_LEVELS = (0.001, 0.003)  # warning past the first, alarm past the second
BOUNCE_LEVELS = (0.05, 0.10)


@dataclass(frozen=True, slots=True)
class Rates:
    """Of the mails sent: how many bounced (hard, or soft past the limit), were
    soft-bounced only, and were reported as spam."""

    sent: int
    bounced: int
    soft_bounced: int
    complained: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    @property
    def bounce_level(self) -> Level:
        return _level(self.bounce_rate, BOUNCE_LEVELS)

    @property
    def complaint_level(self) -> Level:
        return _level(self.complaint_rate, COMPLAINT_LEVELS)

    def __add__(self, other: Rates) -> Rates:
        return Rates(self.sent + other.sent, self.bounced + other.bounced,
                     self.soft_bounced + other.soft_bounced,
                     self.complained + other.complained)  # fmt: skip


@dataclass(frozen=True, slots=True)
class IssueRates:
    number: int
    period: str
    rates: Rates


def recent_rates(connection: Connection, count: int = RECENT_ISSUES) -> list[IssueRates]:
    """The rates of the last ``count`` issues, newest first."""
    numbers = select(issues.c.number).order_by(issues.c.number.desc()).limit(count).subquery()
    sent = deliveries.c.status == "sent"
    query = (
        select(
            issues.c.number, issues.c.period,
            func.count().filter(sent),
            func.count().filter(sent & (deliveries.c.outcome == "bounced")),
            func.count().filter(sent & (deliveries.c.outcome == "soft_bounce")),
            func.count().filter(sent & (deliveries.c.outcome == "complained")),
        )
        .select_from(issues.outerjoin(deliveries, deliveries.c.issue == issues.c.number))
        .where(issues.c.number.in_(select(numbers.c.number)))
        .group_by(issues.c.number, issues.c.period)
        .order_by(issues.c.number.desc())
    )  # fmt: skip
    return [
        IssueRates(number, period, Rates(int(s), int(b), int(soft), int(c)))
        for number, period, s, b, soft, c in connection.execute(query)
    ]


def total(found: list[IssueRates]) -> Rates:
    """The rates of several issues together."""
    return sum((issue.rates for issue in found), Rates(0, 0, 0, 0))


def _level(rate: float, levels: tuple[float, float]) -> Level:
    warning, alarm = levels
    if rate > alarm:
        return "alarm"
    return "warning" if rate > warning else "ok"
