"""publish, status and run from the command line: refusals, output, logs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from gazette.cli import cli
from gazette.lease import Lease
from gazette.mail import http
from gazette.store import Store

from .conftest import SUBSCRIBERS, make_site, site_config

HOURLY = 'schedule = "0 * * * *"'
TOKEN = "pm-token-never-logged"  # noqa: S105 - a made-up token for a test server


def test_publish_refuses_while_a_scheduler_holds_the_state(tmp_path: Path, state_url: str) -> None:
    """Exit 3, naming the holder; nothing is built or sent."""
    settings = make_site(tmp_path / "site", site_config(state_url, "15m", HOURLY))
    store = Store(settings.database_url)
    Lease(store, "gazette run (pid 4242 on web1)", 60).acquire()
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "publish"])
    assert result.exit_code == 3
    assert "gazette run (pid 4242 on web1) holds it" in result.output
    assert not settings.resolve(settings.feeds.output).exists()
    status = CliRunner().invoke(cli, ["--config", str(settings.config_path), "status"])
    assert "scheduler: running\nlease: gazette run (pid 4242 on web1) holds it" in status.output
    store.close()


def test_publish_with_no_digest_due_says_when_it_is(tmp_path: Path, state_url: str) -> None:
    """A yearly digest is not due: publish builds and names the next fire."""
    config = site_config(state_url, "15m", 'schedule = "0 0 1 1 *"')
    settings = make_site(tmp_path / "site", config)
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "publish"])
    assert result.exit_code == 0, result.output
    assert "build: " in result.output
    next_year = datetime.now(UTC).year + 1
    assert f"digest: none due (digest.schedule fires next at {next_year}-01-01T00:00" in (
        result.output
    )


def test_status_json_before_any_scheduler(tmp_path: Path, state_url: str) -> None:
    """Jobs come from the config until a scheduler stores them; no build, no issue."""
    settings = make_site(tmp_path / "site", site_config(state_url, "15m", HOURLY))
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "status", "--json"])
    found = json.loads(result.output)
    assert found["running"] is False
    assert [(j["id"], j["schedule"], j["stored"]) for j in found["jobs"]] == [
        ("build", "15m", False), ("digest", "0 * * * *", False)]  # fmt: skip
    assert found["jobs"][1]["next_run"].endswith(":00:00+08:00")
    assert found["last_build"] is None
    assert found["last_issue"] is None


def test_verbose_publish_logs_retries_without_the_token(
    tmp_path: Path, state_url: str, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 503 then success: one retry line on stderr; the token appears nowhere."""
    monkeypatch.setattr(http, "BACKOFF", http.Backoff(initial=0.001, maximum=0.01))
    httpserver.expect_ordered_request("/email/batch").respond_with_json(
        {"ErrorCode": 0, "Message": "busy"}, status=503, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/email/batch").respond_with_json([
        {"ErrorCode": 0, "Message": "OK", "MessageID": f"m{n}", "To": a}
        for n, a in enumerate(SUBSCRIBERS)
    ])  # fmt: skip
    mail = f'provider = "postmark"\nendpoint = "{httpserver.url_for("/")}"'
    settings = make_site(tmp_path / "site", site_config(state_url, "15m", HOURLY, mail))
    result = CliRunner().invoke(
        cli, ["--config", str(settings.config_path), "publish", "--verbose"],
        env={"GAZETTE_POSTMARK_TOKEN": TOKEN},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"WARNING postmark call: attempt 1 failed \(503: .*busy\); retrying in",
                     result.output)  # fmt: skip
    assert f": {len(SUBSCRIBERS)} sent, 0 failed" in result.output
    assert TOKEN not in result.output
