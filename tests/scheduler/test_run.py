"""`gazette run` for real: a subprocess, short schedules, the state database read after."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import MetaData, Table, select, update

from gazette.config import Settings
from gazette.digest.tables import deliveries, issues
from gazette.freshness import LAST_BUILD_KEY
from gazette.scheduler.service import JOBS_TABLE
from gazette.store import Store, read_meta, write_meta

from .conftest import SUBSCRIBERS, Service, make_site, site_config, write_post

YEARLY = 'schedule = "0 0 1 1 *"'


def output_mtimes(settings: Settings) -> dict[str, int]:
    root = settings.resolve(settings.feeds.output)
    files = [p for p in root.rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in files}


def issue_rows(settings: Settings) -> list[tuple[int, str, str]]:
    store = Store(settings.database_url)
    with store.transaction() as connection:
        rows = connection.execute(select(issues.c.number, issues.c.period, issues.c.status))
        found = [tuple(row) for row in rows]
    store.close()
    return found  # type: ignore[return-value]


def delivery_counts(settings: Settings) -> dict[str, int]:
    store = Store(settings.database_url)
    with store.transaction() as connection:
        statuses = list(connection.execute(select(deliveries.c.status)).scalars())
    store.close()
    return {s: statuses.count(s) for s in set(statuses)}


def outbox_messages(settings: Settings) -> list[str]:
    outbox = settings.resolve(settings.mail.outbox)
    return sorted(p.name for p in outbox.rglob("*.eml"))


def test_build_job_picks_up_a_new_post_and_leaves_files_alone_otherwise(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """Every 1 s: the first build writes, idle runs touch nothing, a new post is in the
    next build's feed."""
    folder = tmp_path / "site"
    settings = make_site(folder, site_config(state_url, "1s", YEARLY))
    service = services(folder)
    service.wait_for(r"job build finished: \d+ written")
    before = output_mtimes(settings)
    service.wait_for(r"job build skipped: no source changed", count=2)
    assert output_mtimes(settings) == before
    write_post(folder, "post-new", "A brand new post", hours_ago=0.01)
    log = service.wait_for(r"job build finished: .*\(a source or the config changed\)")
    assert service.stop() == 0
    feed = (settings.resolve(settings.feeds.output) / "feed.xml").read_text(encoding="utf-8")
    assert "A brand new post" in feed
    changed = {p for p, m in output_mtimes(settings).items() if before.get(p) != m}
    assert "feed.xml" in changed
    assert "archive/1.xml" in changed
    assert not any(p.startswith("tags/older/") for p in changed)  # its posts did not change
    assert "Traceback" not in log


def _age_last_build(settings: Settings, hours: float) -> None:
    """Makes the recorded last build ``hours`` older."""
    store = Store(settings.database_url)
    with store.transaction() as connection:
        last = json.loads(read_meta(connection, LAST_BUILD_KEY) or "{}")
        last["at"] = (datetime.fromisoformat(last["at"]) - timedelta(hours=hours)).isoformat()
        write_meta(connection, LAST_BUILD_KEY, json.dumps(last))
    store.close()


def test_the_first_start_builds_at_once_and_a_recent_build_waits_for_the_schedule(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """feeds.schedule = 1h: a new install builds at start; a restart after a recent build
    waits for the schedule; one after a build older than an hour builds at start."""
    folder = tmp_path / "site"
    settings = make_site(folder, site_config(state_url, "1h", YEARLY))
    first = services(folder)
    log = first.wait_for(r"job build finished: \d+ written")
    assert "job build: runs now (no build yet)" in log
    assert first.stop() == 0
    second = services(folder)
    log = second.wait_for(r"job digest: next run at")
    assert second.stop() == 0
    assert "job build: runs now" not in log
    assert "job build finished" not in log
    _age_last_build(settings, hours=2)
    third = services(folder)
    log = third.wait_for(r"job build (finished|skipped)")
    assert third.stop() == 0
    assert re.search(r"job build: runs now \(the last build, \S+, is older than feeds", log)


def test_log_lines_and_the_times_in_them_are_in_the_site_zone(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """On a machine in New York, every line's stamp and every job time in it is in
    site.timezone (Asia/Shanghai), written with its offset, +08:00."""
    folder = tmp_path / "site"
    make_site(folder, site_config(state_url, "1h", YEARLY))
    service = services(folder, {"TZ": "America/New_York"})
    log = service.wait_for(r"job digest: next run at")
    assert service.stop() == 0
    stamps = [line.split()[0] for line in log.splitlines() if re.match(r"\d{4}-", line)]
    assert len(stamps) >= 4
    assert all(datetime.fromisoformat(s).utcoffset() == timedelta(hours=8) for s in stamps)
    assert all(s.endswith("+08:00") for s in stamps)
    times = re.findall(r"next run at (\S+)", log)
    assert times
    assert all(t.endswith("+08:00") for t in times)


def _last_hour(zone_now: datetime) -> datetime:
    return zone_now.replace(minute=0, second=0, microsecond=0)


def _pretend_stopped_since(settings: Settings, job_id: str, next_run: datetime) -> None:
    """Sets a stored job's next run back: the state a scheduler stopped before then
    would have left."""
    store = Store(settings.database_url)
    table = Table(JOBS_TABLE, MetaData(), autoload_with=store.engine)
    with store.transaction() as connection:
        blob = connection.execute(
            select(table.c.job_state).where(table.c.id == job_id)
        ).scalar_one()
        state = pickle.loads(blob)  # noqa: S301 - the job store's own pickle, in a test
        state["next_run_time"] = next_run
        connection.execute(
            update(table)
            .where(table.c.id == job_id)
            .values(next_run_time=next_run.timestamp(), job_state=pickle.dumps(state))
        )
    store.close()


def _started_and_stopped(services: Callable[..., Service], folder: Path) -> None:
    first = services(folder)
    first.wait_for(r"job digest: next run at")
    assert first.stop() == 0


def test_digest_missed_while_stopped_is_sent_once_after_restart(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """Stopped across four hourly fires, within the grace: one issue, for the latest."""
    folder = tmp_path / "site"
    digest = 'schedule = "0 * * * *"\nmisfire_grace = "2h"'
    settings = make_site(folder, site_config(state_url, "1h", digest))
    _started_and_stopped(services, folder)
    latest = _last_hour(datetime.now(settings.site.zone))
    _pretend_stopped_since(settings, "digest", latest - timedelta(hours=3))
    service = services(folder)
    log = service.wait_for(r"job digest finished: issue 1 ")
    assert service.stop() == 0
    assert issue_rows(settings) == [(1, latest.strftime("%Y-%m-%dT%H:%M"), "done")]
    assert delivery_counts(settings) == {"sent": len(SUBSCRIBERS)}
    assert outbox_messages(settings) == sorted(f"{a}.eml" for a in SUBSCRIBERS)
    assert log.count("job digest started") == 1
    assert " late)" in log


def test_digest_missed_beyond_the_grace_is_logged_and_not_sent(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """A fire older than digest.misfire_grace is a misfire: a log line, no issue."""
    folder = tmp_path / "site"
    digest = 'schedule = "0 * * * *"\nmisfire_grace = "1s"'
    settings = make_site(folder, site_config(state_url, "1h", digest))
    _started_and_stopped(services, folder)
    zone_now = datetime.now(settings.site.zone)
    latest = _last_hour(zone_now) - timedelta(hours=1)
    _pretend_stopped_since(settings, "digest", latest)
    service = services(folder)
    log = service.wait_for(r"job digest misfired: its run due .* late, beyond")
    assert service.stop() == 0
    assert issue_rows(settings) == []
    assert "job digest started" not in log


def test_changed_schedule_replaces_the_stored_job(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """A restart with a new digest.schedule stores the new job; the same one keeps it."""
    folder = tmp_path / "site"
    make_site(folder, site_config(state_url, "1h", YEARLY))
    _started_and_stopped(services, folder)
    again = services(folder)
    assert "job digest: schedule '0 0 1 1 *', kept" in again.wait_for(r"job digest: next run")
    assert again.stop() == 0
    config = folder / "gazette.toml"
    config.write_text(config.read_text().replace("0 0 1 1 *", "0 9 * * 1"), encoding="utf-8")
    changed = services(folder)
    log = changed.wait_for(r"job digest: next run at (\S+)")
    assert changed.stop() == 0
    assert "stored anew (the schedule in the config changed)" in log
    next_run = datetime.fromisoformat(log.split("job digest: next run at ")[1].split()[0])
    assert next_run.weekday() == 0
    assert next_run.hour == 9
    assert next_run > datetime.now(UTC)
