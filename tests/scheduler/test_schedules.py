"""Schedules as written in the config: durations, crontab lines, the last fire."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gazette.config import load_settings
from gazette.digest.ledger import scheduled_period
from gazette.errors import ConfigError
from gazette.schedules import cron_trigger, latest_fire_time, parse_duration

SHANGHAI = ZoneInfo("Asia/Shanghai")
SATURDAY = datetime(2026, 11, 21, 10, 30, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("6 h", 21600)],
)
def test_durations(text: str, seconds: int) -> None:
    """Durations read as a person writes them."""
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["15", "m", "0s", "15x", "1h 2", ""])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    """Anything else is refused with the form to use."""
    with pytest.raises(ValueError, match=r'"15m"|longer than zero'):
        parse_duration(text)


def _next_days(expression: str, count: int = 7) -> list[str]:
    trigger = cron_trigger(expression, SHANGHAI)
    days, fire = [], trigger.get_next_fire_time(None, SATURDAY)
    for _ in range(count):
        days.append(f"{fire:%a}")
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return days


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("1", ["Mon"]),
        ("mon", ["Mon"]),
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("fri-sun", ["Fri", "Sat", "Sun"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("1,3", ["Mon", "Wed"]),
    ],
)
def test_weekdays_mean_what_crontab_means(weekday: str, expected: list[str]) -> None:
    """Crontab's Sunday-first numbers, not APScheduler 3's Monday-first ones."""
    assert set(_next_days(f"0 8 * * {weekday}", 7)) == set(expected)


def test_a_sixth_field_gives_seconds() -> None:
    """Quartz-style seconds in front: every 10 seconds."""
    trigger = cron_trigger("*/10 * * * * *", SHANGHAI)
    first = trigger.get_next_fire_time(None, SATURDAY + timedelta(seconds=1))
    assert first == SATURDAY + timedelta(seconds=10)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 8 * *", "has 4 fields"),
        ("0 8 * * 9", "weekday '9'"),
        ("0 8 1 * mon", "both the day of the month and the weekday"),
        ("61 8 * * *", "59"),
    ],
)
def test_bad_cron_lines_are_refused(expression: str, problem: str) -> None:
    """Wrong field counts, weekdays, an ambiguous day rule, out-of-range values."""
    with pytest.raises(ValueError, match=problem):
        cron_trigger(expression, SHANGHAI)


def test_latest_fire_time_looks_back_only_as_far_as_asked() -> None:
    """The hourly fire at 10:00 is found from 10:30 within 2 h, not within 20 min."""
    trigger = cron_trigger("0 * * * *", SHANGHAI)
    assert latest_fire_time(trigger, SATURDAY, timedelta(hours=2)) == SATURDAY.replace(minute=0)
    assert latest_fire_time(trigger, SATURDAY, timedelta(minutes=20)) is None


def test_scheduled_periods_name_the_fire_to_the_minute_or_second() -> None:
    """One period per fire: 2026-11-21T10:00, or with seconds when the fire has them."""
    assert scheduled_period(SATURDAY.replace(minute=0), SHANGHAI) == "2026-11-21T10:00"
    assert scheduled_period(SATURDAY.replace(second=20), SHANGHAI) == "2026-11-21T10:30:20"


@pytest.mark.parametrize(
    ("section", "line", "fragment"),
    [
        ("[digest]", 'schedule = "0 8 * *"', "[digest] schedule"),
        ("[feeds]", 'schedule = "often"', "[feeds] schedule"),
        ("[digest]", 'misfire_grace = "soon"', "[digest] misfire_grace"),
        ("[state]", 'lease_timeout = "1s"', "[state] lease_timeout"),
    ],
)
def test_config_names_the_bad_schedule_key_and_line(
    tmp_path: Path, section: str, line: str, fragment: str
) -> None:
    """A schedule the scheduler could not run stops the config load, with file:line."""
    config = tmp_path / "gazette.toml"
    config.write_text(
        '[site]\ntitle = "T"\nurl = "https://t.example.org/"\n\n'
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n\n'
        f"{section}\n{line}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert f"{config}:10: {fragment}:" in str(caught.value)
