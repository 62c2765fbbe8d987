"""`gazette status` shows the recent issues' bounce and complaint rates, from the
outcomes the providers' events recorded, with a warning past 0.1 % complaints and an
alarm past 0.3 %."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from gazette.cli import cli
from gazette.config import Settings
from gazette.digest import ledger
from gazette.digest.events import Event, apply_events
from gazette.digest.subscribers import add_subscriber
from gazette.mail.base import SendResult
from gazette.store import Store

from .conftest import make_site, site_config

YEARLY = 'schedule = "0 0 1 1 *"'
READERS = tuple(f"list{n}@example.org" for n in range(1000))


def site(tmp_path: Path, state_url: str) -> Settings:
    settings = make_site(tmp_path / "site", site_config(state_url, "15m", YEARLY))
    store = Store(settings.database_url)
    with store.transaction() as connection:
        for address in READERS:
            add_subscriber(connection, address, "", datetime.now(UTC) - timedelta(days=2))
    store.close()
    return settings


def mail_issue(settings: Settings, period: str, complaints: int = 0, bounces: int = 0) -> None:
    """An issue sent to every active subscriber, then as many of them reported (by the
    generic webhook's events) as complaining and hard-bouncing."""
    now = datetime.now(UTC) - timedelta(days=1)
    store = Store(settings.database_url)
    with store.transaction() as connection:
        issue = ledger.create_issue(connection, period, "News", ["p"], now)
        claimed = ledger.claim_batch(connection, issue.number, 5000, now)
        ledger.record_results(connection, claimed, [
            SendResult(c.recipient, "sent", provider_id=f"{period}/{c.recipient}") for c in claimed
        ], now)  # fmt: skip
        reported = [c.recipient for c in claimed if c.recipient in READERS]
        events = [
            Event("bounce", f"{period}/{n}", "complaint" if n < complaints else "hard_bounce",
                  address, f"{period}/{address}", datetime.now(UTC))
            for n, address in enumerate(reported[: complaints + bounces])
        ]  # fmt: skip
        apply_events(connection, events, settings.mail, datetime.now(UTC))
    store.close()


def status(settings: Settings, *options: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "status", *options])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("complaints", "level"), [(0, None), (1, None), (2, "warning"),
                                                   (3, "warning"), (4, "alarm")])  # fmt: skip
def test_complaints_past_a_tenth_of_a_percent_warn_and_past_three_tenths_alarm(
    tmp_path: Path, state_url: str, complaints: int, level: str | None
) -> None:
    """An issue to 1,006 readers: 1 complaint (0.099 %) is fine, 2 or 3 warn, 4 (0.40 %)
    is an alarm; the line gives the counts and the percentage."""
    settings = site(tmp_path, state_url)
    mail_issue(settings, "2026-W48", complaints=complaints)
    text = status(settings)
    assert f"issue 1 (2026-W48): 1006 sent, 0 bounced (0.00 %), 0 soft-bounced, {complaints} " \
        f"complaints ({complaints / 1006 * 100:.2f} %)" in text
    found = [line.partition(":")[0] for line in text.splitlines() if "complaints are" in line]
    assert found == ([level] if level else [])


def test_rates_add_up_over_the_last_five_issues_only(tmp_path: Path, state_url: str) -> None:
    """Six issues: the oldest, with 30 complaints, is no longer counted; the five after
    it (one complaint and 300 bounces among 976 + 4 x 675 mails) give the total, a
    bounce warning (8.2 %) and no complaint warning (0.03 %)."""
    settings = site(tmp_path, state_url)
    mail_issue(settings, "2026-W43", complaints=30)
    mail_issue(settings, "2026-W44", complaints=1, bounces=300)
    for week in (45, 46, 47, 48):
        mail_issue(settings, f"2026-W{week}")
    found = json.loads(status(settings, "--json"))["recent_issues"]
    assert [issue["period"] for issue in found["issues"]] == [f"2026-W{w}" for w in
                                                              (48, 47, 46, 45, 44)]  # fmt: skip
    sent = 976 + 4 * 675  # 1006 readers, less the 30 who complained in W43 and 301 in W44
    assert found["total"] == {
        "sent": sent, "bounced": 300, "soft_bounced": 0, "complained": 1,
        "bounce_rate": 300 / sent, "complaint_rate": 1 / sent,
        "bounce_level": "warning", "complaint_level": "ok",
    }  # fmt: skip
    text = status(settings)
    assert f"last 5 issues: {sent} sent, 300 bounced (8.16 %)" in text
    assert "warning: bounces are 8.16 % of the mail sent" in text
    assert "complaints are" not in text
