"""Subscribers: CSV import with bad rows reported by line; unsubscribed never mailed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gazette.config import Settings
from gazette.digest import create_or_resume_issue

from ..conftest import NOW
from .conftest import run_cli, subscribe

CSV = """\
email,name
ann@example.org,Ann
not-an-address,Bad One
bob@example.com,Bob

carol@@example.org,Bad Two
ANN@example.org,Ann again
"""


def test_import_reports_bad_rows_by_line_and_imports_the_rest(
    digest_site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """Lines 3 and 6 are reported with file:line; the good rows are all imported."""
    settings = digest_site([("one", "One", 1)])
    csv_path = write("list.csv", CSV)
    result = run_cli(settings.config_path, "subscribers", "import", str(csv_path))
    assert result.returncode == 1
    assert f"{csv_path}:3: 'not-an-address' is not an email address" in result.stderr
    assert f"{csv_path}:6: 'carol@@example.org' is not an email address" in result.stderr
    assert "2 added, 1 already subscribed, 2 rows left out" in result.stdout
    listed = run_cli(settings.config_path, "subscribers", "list")
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [
        ["ann@example.org", "active"],
        ["bob@example.com", "active"],
    ]


def test_unsubscribed_address_is_never_mailed_again(
    digest_site: Callable[..., Settings], write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """Removed after the issue began: skipped; re-added or re-imported: refused."""
    settings = digest_site([("one", "One", 1)])
    store = subscribe(settings, "ann@example.org", "bob@example.com")
    assert create_or_resume_issue(settings, store, "P1", NOW) is not None
    removed = run_cli(settings.config_path, "subscribers", "remove", "ann@example.org")
    assert removed.returncode == 0, removed.stderr
    sent = run_cli(settings.config_path, "digest", "--resume")
    assert "1 sent, 0 failed, 0 uncertain, 1 skipped" in sent.stdout
    assert [p.name for p in (tmp_path / "outbox").rglob("*.eml")] == ["bob@example.com.eml"]
    again = run_cli(settings.config_path, "subscribers", "add", "Ann@example.org")
    assert again.returncode == 1
    assert "unsubscribed on" in again.stderr
    reimport = run_cli(
        settings.config_path, "subscribers", "import", str(write("l.csv", "ann@example.org\n"))
    )
    assert "l.csv:1: ann@example.org unsubscribed" in reimport.stderr
    listed = run_cli(settings.config_path, "subscribers", "list", "--status", "active")
    assert listed.stdout.split("\t")[0] == "bob@example.com"
