"""Schedules as the config writes them: durations ("15m", "6h") and crontab lines.

Both the config's validation and the scheduler read them through this module, so a
schedule the config accepts is one the scheduler can run.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the scheduler's triggers are imported where a trigger is made
    from apscheduler.triggers.base import BaseTrigger
    from apscheduler.triggers.cron import CronTrigger

_DURATION_PART = re.compile(r"(\d+)\s*([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Crontab counts weekdays from Sunday = 0 (7 is Sunday too); APScheduler 3 counts from
# Monday = 0. Numbers are turned into names so "0 8 * * 1" means Monday, as in crontab.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW_PART = re.compile(r"^(\*|\w+)(?:-(\w+))?(?:/(\d+))?$")


def parse_duration(text: str) -> timedelta:
    """ "90s", "15m", "6h", "1h30m", "2d" as a timedelta; ValueError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError('not a duration; write it like "90s", "15m", "6h" or "1h30m"')
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return timedelta(seconds=seconds)


def is_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


def cron_trigger(expression: str, zone: ZoneInfo) -> CronTrigger:
    """A crontab line (minute hour day month weekday), read in ``zone``; ValueError if bad.

    A sixth field in front gives the second, as Quartz writes it ("*/10 * * * * *").
    """
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"has {len(fields)} fields; a cron schedule has 5: minute hour day month weekday, "
            'e.g. "0 8 * * mon"'
        )
    from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415 - see TYPE_CHECKING

    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # crontab runs when either matches; APScheduler only when both do.
        raise ValueError(
            "restricts both the day of the month and the weekday, which crontab and "
            "the scheduler read differently; keep one of them as *"
        )
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_crontab_weekdays(weekday),
        timezone=zone,
    )


def _crontab_weekdays(field: str) -> str:
    if field == "*":
        return field
    days: set[int] = set()
    for part in field.lower().split(","):
        days |= _weekday_part(part)
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def _weekday_part(part: str) -> set[int]:
    found = _DOW_PART.match(part)
    if not found:
        raise ValueError(f"weekday {part!r} is not a crontab weekday; use 0-7 or mon-sun")
    first, last, step = found.groups()
    if first == "*":
        low, high = 0, 6
    else:
        low = _weekday_number(first)
        high = _weekday_number(last) if last else (6 if step else low)
        if last and high == 0 and low > 0:
            high = 7  # "5-7" and "fri-sun" run to Sunday
    return {d % 7 for d in range(low, high + 1, int(step or 1))}


def _weekday_number(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token)
    if token[:3] in _WEEKDAYS and len(token) == 3:
        return _WEEKDAYS.index(token)
    raise ValueError(f"weekday {token!r} is not a crontab weekday; use 0-7 or mon-sun")


def build_trigger(schedule: str, zone: ZoneInfo) -> BaseTrigger:
    """The build job's trigger: an interval ("15m") or a crontab line."""
    if is_duration(schedule):
        from apscheduler.triggers.interval import IntervalTrigger  # noqa: PLC0415

        return IntervalTrigger(seconds=parse_duration(schedule).total_seconds(), timezone=zone)
    return cron_trigger(schedule, zone)


def overdue_since(schedule: str, zone: ZoneInfo, last: datetime, now: datetime) -> bool:
    """Whether ``schedule`` (an interval or a crontab line) would have run since ``last``:
    an interval has passed, or a crontab time came."""
    if is_duration(schedule):
        return now - last >= parse_duration(schedule)
    return latest_fire_time(cron_trigger(schedule, zone), now, now - last) is not None


def latest_fire_time(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The last time ``trigger`` fired at or before ``now``, looking back ``lookback`` at most.

    A scheduled digest names its period after this time, so every run for the same fire
    (on time, late within the grace, or from another process) gets the same period.
    """
    latest = None
    fire = trigger.get_next_fire_time(None, now - lookback)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest
