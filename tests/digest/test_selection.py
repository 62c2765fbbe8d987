"""Which posts an issue takes, and when there is no issue at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gazette.config import Settings
from gazette.digest import create_or_resume_issue, ledger, period_for
from gazette.digest.issue import issue_posts
from gazette.store import Store

from ..conftest import NOW, sync
from .conftest import run_cli, subscribe, write_post

# (slug, title, days before NOW): first_issue_posts = 2, max_posts = 3, max_age = 30.
POSTS = [("new", "New", 1), ("week", "Week", 7), ("month", "Month", 20), ("old", "Old", 400)]


def titles(settings: Settings, store: Store, period: str, days_later: float = 0) -> list[str]:
    issue = create_or_resume_issue(settings, store, period, NOW + timedelta(days=days_later))
    if issue is None:
        return []
    with store.transaction() as connection:
        return [post.title for post in issue_posts(settings, connection, issue)]


def test_first_issue_takes_the_newest_whatever_their_age(
    digest_site: Callable[..., Settings],
) -> None:
    """The first issue takes first_issue_posts newest posts, even old ones."""
    old = [("old", "Old", 400), ("older", "Older", 500), ("oldest", "Oldest", 600)]
    settings = digest_site(old)
    store = subscribe(settings, "reader@example.org")
    assert titles(settings, store, "P1") == ["Old", "Older"]


def test_later_issues_take_new_posts_within_max_age_up_to_max_posts(
    digest_site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """After the first issue: only posts in no issue yet, within max_age, at most max_posts."""
    settings = digest_site(POSTS)
    store = subscribe(settings, "reader@example.org")
    assert titles(settings, store, "P1") == ["New", "Week"]
    assert titles(settings, store, "P2") == ["Month"]  # "Old" is older than max_age
    for index in range(5):
        write_post(write, f"fresh{index}", f"Fresh {index}", -index - 1)  # published later
    sync(settings, NOW + timedelta(days=10))
    assert titles(settings, store, "P3", days_later=10) == ["Fresh 4", "Fresh 3", "Fresh 2"]


def test_one_issue_per_period(digest_site: Callable[..., Settings]) -> None:
    """Asking again for the same period gives the same issue, not a second one."""
    settings = digest_site(POSTS)
    store = subscribe(settings, "reader@example.org")
    first = create_or_resume_issue(settings, store, "2026-11-21T08", NOW)
    again = create_or_resume_issue(settings, store, "2026-11-21T08", NOW)
    assert first is not None
    assert again is not None
    assert again.number == first.number
    assert period_for(NOW, settings.site.zone) == "2026-11-21T20"  # Asia/Shanghai


def test_nothing_new_means_no_issue(digest_site: Callable[..., Settings], tmp_path: Path) -> None:
    """With every post already sent, --send says so and sends nothing; dry-run too."""
    settings = digest_site([("new", "New", 1)])
    subscribe(settings, "reader@example.org")
    assert create_or_resume_issue(settings, Store(settings.database_url), "P1", NOW) is not None
    sent = run_cli(settings.config_path, "digest", "--resume")
    assert "1 sent" in sent.stdout
    dry = run_cli(settings.config_path, "digest", "--dry-run")
    assert "nothing new since the last issue" in dry.stdout
    again = run_cli(settings.config_path, "digest", "--send")
    assert again.returncode == 0, again.stderr
    assert "nothing new since the last issue: no issue, nothing sent" in again.stdout
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 1


def test_a_manual_send_within_the_hour_of_the_last_sends_the_posts_in_no_issue(
    digest_site: Callable[..., Settings], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """A post that comes after a --send goes out in a new issue at the next --send of the
    same hour (dry run agrees); the issue before is not sent again."""
    settings = digest_site([("new", "New", 1)])
    store = subscribe(settings, "reader@example.org")
    first = run_cli(settings.config_path, "digest", "--send")
    assert "1 sent" in first.stdout, first.stderr
    write_post(write, "later", "Later", 0.5)
    dry = run_cli(settings.config_path, "digest", "--dry-run")
    assert "new issue for period" in dry.stdout, dry.stdout
    assert "Later" in dry.stdout
    again = run_cli(settings.config_path, "digest", "--send")
    assert again.returncode == 0, again.stderr
    assert "went out already" not in again.stdout
    assert "issue 2 (" in again.stdout, again.stdout
    assert "1 sent" in again.stdout
    with store.transaction() as connection:
        first_issue, second = ledger.sent_issues(connection)[::-1]
        assert [p.title for p in issue_posts(settings, connection, second)] == ["Later"]
    hour = period_for(datetime.now(UTC), settings.site.zone)
    assert second.period in {f"{first_issue.period}.2", hour}  # the hour may have turned
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 2
    done = run_cli(settings.config_path, "digest", "--send")
    assert "1 sent" not in done.stdout
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 2


def test_dry_run_and_preview_write_nothing_to_the_ledger(
    digest_site: Callable[..., Settings], tmp_path: Path
) -> None:
    """Dry run lists posts and recipients; preview writes files; neither makes an issue."""
    settings = digest_site(POSTS)
    subscribe(settings, "reader@example.org", "other@example.org")
    dry = run_cli(settings.config_path, "digest", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "New" in dry.stdout
    assert "Week" in dry.stdout
    assert "to 2 active subscribers" in dry.stdout
    preview = run_cli(settings.config_path, "digest", "--preview", str(tmp_path / "look"))
    assert preview.returncode == 0, preview.stderr
    assert sorted(p.suffix for p in (tmp_path / "look").iterdir()) == [".eml", ".html", ".txt"]
    assert create_or_resume_issue(settings, Store(settings.database_url), "P", NOW) is not None
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(
    "flags",
    [
        ["--dry-run", "--send"],
        ["--send", "--dry-run"],
        ["--resume", "--send"],
        ["--preview", "LOOK", "--send"],
        [],
    ],
)
def test_conflicting_digest_flags_are_an_error_and_send_nothing(
    digest_site: Callable[..., Settings], tmp_path: Path, flags: list[str]
) -> None:
    """Two modes (in either order), or none, exit 2 naming them; no mail, no issue."""
    settings = digest_site(POSTS)
    subscribe(settings, "reader@example.org")
    look = str(tmp_path / "look")
    result = run_cli(settings.config_path, "digest", *(look if f == "LOOK" else f for f in flags))
    assert result.returncode == 2, result.stdout
    assert "give one of --dry-run, --preview DIR, --send or --resume" in result.stderr
    if flags:
        assert "conflict" in result.stderr
    assert not (tmp_path / "outbox").exists()
    assert not (tmp_path / "look").exists()
