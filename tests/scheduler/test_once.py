"""Exactly once across processes: two schedulers, a stalled one, a SIGTERM mid-send."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from gazette.config import Settings
from gazette.lease import current_holder
from gazette.store import Store

from .conftest import SUBSCRIBERS, Service, make_site, site_config
from .test_run import delivery_counts, issue_rows, outbox_messages

EVERY_TWO_SECONDS = 'schedule = "*/2 * * * * *"'


def test_two_schedulers_on_one_database_send_each_period_once(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """Started together: one holds the lease and sends, the other exits 3 naming it."""
    folder = tmp_path / "site"
    settings = make_site(folder, site_config(state_url, "1h", EVERY_TWO_SECONDS))
    pair = [services(folder), services(folder)]
    deadline = time.monotonic() + 30
    while all(s.process.poll() is None for s in pair) and time.monotonic() < deadline:
        time.sleep(0.05)
    loser = next(s for s in pair if s.process.poll() is not None)
    winner = next(s for s in pair if s is not loser)
    assert loser.process.returncode == 3
    assert f"gazette run (pid {winner.process.pid} on " in loser.text()
    assert "is in use" in loser.text()
    winner.wait_for(r"job digest finished: issue 1 ")
    winner.wait_for(r"job digest skipped: nothing new")  # the next fire: no second issue
    assert winner.stop() == 0
    assert len(issue_rows(settings)) == 1
    assert delivery_counts(settings) == {"sent": len(SUBSCRIBERS)}
    assert outbox_messages(settings) == sorted(f"{a}.eml" for a in SUBSCRIBERS)


def test_a_stalled_scheduler_loses_its_lease_and_nothing_goes_out_twice(
    tmp_path: Path, services: Callable[..., Service], state_url: str
) -> None:
    """SIGSTOP the holder past the lease timeout: a second takes over and sends; the
    first, resumed, finds its lease gone and stops (exit 1) without sending again."""
    folder = tmp_path / "site"
    settings = make_site(folder, site_config(state_url, "1h", 'schedule = "0 0 1 1 *"'))
    first = services(folder)
    first.wait_for(r"job digest: next run at")
    first.wait_for(r"job build finished")  # the build at start: no transaction left open
    os.kill(first.process.pid, signal.SIGSTOP)
    config = folder / "gazette.toml"
    config.write_text(
        config.read_text().replace('"0 0 1 1 *"', '"*/2 * * * * *"'), encoding="utf-8"
    )
    _wait_until_the_lease_expires(settings)
    second = services(folder)
    second.wait_for(r"job digest finished: issue 1 ")
    os.kill(first.process.pid, signal.SIGCONT)
    first.wait_for(r"lost the lease on the state database to another process")
    assert first.process.wait(30) == 1
    second.wait_for(r"job digest skipped: nothing new")
    assert second.stop() == 0
    assert len(issue_rows(settings)) == 1
    assert delivery_counts(settings) == {"sent": len(SUBSCRIBERS)}
    assert outbox_messages(settings) == sorted(f"{a}.eml" for a in SUBSCRIBERS)


def _wait_until_the_lease_expires(settings: Settings) -> None:
    store = Store(settings.database_url)
    deadline = time.monotonic() + 30
    while current_holder(store) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    store.close()


class SlowPostmark:
    """Answers /email/batch as Postmark does, each call taking ``delay`` seconds; keeps
    every recipient it accepted."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.recipients: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        messages = json.loads(request.get_data())
        time.sleep(self.delay)
        with self.lock:
            self.recipients.extend(m["To"] for m in messages)
        answer = [
            {"ErrorCode": 0, "Message": "OK", "MessageID": f"id-{m['To']}", "To": m["To"]}
            for m in messages
        ]
        return Response(json.dumps(answer), status=200, content_type="application/json")

    def count(self) -> int:
        with self.lock:
            return len(self.recipients)


def test_sigterm_mid_send_then_restart_delivers_everyone_exactly_once(
    tmp_path: Path, services: Callable[..., Service], state_url: str, httpserver: HTTPServer
) -> None:
    """SIGTERM during a send: the call in flight finishes and is recorded, exit 0; the
    next start finishes the issue. The server sees each subscriber once."""
    server = SlowPostmark(delay=0.4)
    httpserver.expect_request("/email/batch", method="POST").respond_with_handler(server)
    mail = f'provider = "postmark"\nendpoint = "{httpserver.url_for("/")}"\nbatch_size = 1'
    folder = tmp_path / "site"
    settings = make_site(folder, site_config(state_url, "1h", EVERY_TWO_SECONDS, mail))
    token = {"GAZETTE_POSTMARK_TOKEN": "server-token-for-the-test"}
    first = services(folder, token)
    deadline = time.monotonic() + 30
    while server.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.stop() == 0
    sent_before = server.count()
    assert 2 <= sent_before < len(SUBSCRIBERS)
    assert "SIGTERM: stopping after the provider call in flight" in first.text()
    assert delivery_counts(settings) == {"sent": sent_before,
                                         "pending": len(SUBSCRIBERS) - sent_before}  # fmt: skip
    second = services(folder, token)
    log = second.wait_for(r"resumed unfinished issues: issue 1 .*: 6 sent, 0 failed")
    assert second.stop() == 0
    assert sorted(server.recipients) == sorted(SUBSCRIBERS)
    assert issue_rows(settings)[0][2] == "done"
    assert "server-token-for-the-test" not in first.text() + log
    assert not re.search(r"Traceback", first.text() + log)
