"""A sending process killed (SIGKILL) in the middle of an issue, then resumed."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from gazette.config import Settings
from gazette.digest.tables import deliveries

from .conftest import SMTP_PASSWORD, SmtpServer, cli_env, run_cli, subscribe, wait_for

READERS = [f"reader{i:02d}@example.org" for i in range(20)]
PASSWORD = {"GAZETTE_SMTP_PASSWORD": SMTP_PASSWORD}


def statuses(settings: Settings) -> dict[str, int]:
    store = subscribe(settings)
    with store.transaction() as connection:
        query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        return {status: int(count) for status, count in connection.execute(query)}


def start_send(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gazette", "--config", str(config), "digest", "--send"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=cli_env(env),
    )  # fmt: skip


def test_killed_mid_issue_then_resumed_reaches_everyone_exactly_once(
    digest_site: Callable[..., Settings], smtp_server: SmtpServer
) -> None:
    """Killed during its third batch: resume sends the rest, reports the interrupted batch
    as uncertain without resending it; --resend-uncertain then completes it, once each."""
    settings = digest_site([("one", "First post", 1.0)], smtp_server.config())
    subscribe(settings, *READERS)
    recorder = smtp_server.recorder
    recorder.hold = READERS[10]  # the first recipient of the third batch of five
    process = start_send(settings.config_path, PASSWORD)
    try:
        wait_for(recorder.held.is_set)
        assert statuses(settings) == {"sent": 10, "in-flight": 5, "pending": 5}
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        recorder.release.set()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    resumed = run_cli(settings.config_path, "digest", "--resume", env=PASSWORD)
    assert resumed.returncode == 0, resumed.stderr
    assert "15 sent, 0 failed, 5 uncertain" in resumed.stdout
    assert [recorder.count(r) for r in READERS] == [1] * 10 + [0] * 5 + [1] * 5
    again = run_cli(settings.config_path, "digest", "--send", env=PASSWORD)
    assert "5 uncertain" in again.stdout  # reported again, still not resent
    assert sum(recorder.count(r) for r in READERS) == 15
    forced = run_cli(settings.config_path, "digest", "--resume", "--resend-uncertain", env=PASSWORD)
    assert forced.returncode == 0, forced.stderr
    assert "20 sent, 0 failed, 0 uncertain" in forced.stdout
    assert [recorder.count(r) for r in READERS] == [1] * 20
    assert statuses(settings) == {"sent": 20}


def test_killed_outbox_run_resends_the_uncertain_automatically(
    digest_site: Callable[..., Settings], tmp_path: Path
) -> None:
    """The outbox is idempotent: after a kill, resume rewrites the interrupted batch and
    every subscriber ends with exactly one message."""
    readers = [f"r{i:04d}@example.org" for i in range(1500)]
    settings = digest_site([("one", "First post", 1.0)], "batch_size = 10\n")
    subscribe(settings, *readers)
    process = start_send(settings.config_path, {})
    try:
        wait_for(lambda: statuses(settings).get("sent", 0) >= 100 or process.poll() is not None)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert statuses(settings).get("pending", 0) > 0, "the run ended before it could be killed"
    resumed = run_cli(settings.config_path, "digest", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "1500 sent, 0 failed, 0 uncertain" in resumed.stdout
    files = sorted(p.name for p in (tmp_path / "outbox").rglob("*.eml"))
    assert files == sorted(f"{r}.eml" for r in readers)
    assert not list((tmp_path / "outbox").rglob("*.part"))
