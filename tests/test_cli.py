"""The command line: every command has help and a place in the README; the example runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import gazette
from gazette import catalog
from gazette.cli import cli

from .conftest import ROOT


def _commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_and_is_documented(name: str) -> None:
    """Each command prints help with an example and is named in the README."""
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    assert f"gazette [--config PATH] {name}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_public_surface_is_pinned() -> None:
    """What a library user may import from gazette.catalog is deliberate."""
    assert catalog.__all__ == sorted(catalog.__all__)
    assert catalog.__all__ == [
        "SyncReport",
        "check_catalog",
        "iter_posts",
        "load_posts",
        "post_as_json",
        "update_catalog",
    ]
    assert gazette.__version__


def test_example_site_runs_end_to_end(tmp_path: Path) -> None:
    """The README's first command works on the bundled example: check, then posts --json."""
    env_db = f"sqlite:///{tmp_path / 'state.db'}"
    config = ROOT / "config" / "gazette.toml"
    env = {"GAZETTE_STATE_DATABASE": env_db, "PATH": os.environ.get("PATH", "")}
    checked = subprocess.run(
        ["gazette", "--config", str(config), "check"], capture_output=True, text=True, env=env
    )
    assert checked.returncode == 0, checked.stderr
    assert "0 errors" in checked.stdout
    listed = subprocess.run(
        ["gazette", "--config", str(config), "posts", "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert listed.returncode == 0, listed.stderr
    posts = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(posts) == 11  # 6 listing entries + 6 Markdown posts, one of them a draft
    assert {p["lang"] for p in posts} == {"zh-CN", "en"}
    assert any(p["series"] == "梯度下降漫谈" and p["series_index"] == 2 for p in posts)
    assert any(p["series"] == "Attention from scratch" for p in posts)
    assert any(p["figures"] for p in posts)
    assert sum(p["title_inferred"] for p in posts) == 1
    assert all("<math" in p["content_html"] for p in posts if "$" in p["content_text"])


def test_example_publish_builds_mails_and_reports_status(tmp_path: Path) -> None:
    """The rest of the README's first command: import, publish (feeds and the first
    digest, the example's digest being hourly), status; a second publish does nothing."""
    config = str(ROOT / "config" / "gazette.toml")
    env = {
        "GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}",
        "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public"),
        "GAZETTE_MAIL_OUTBOX": str(tmp_path / "outbox"),
        "PATH": os.environ.get("PATH", ""),
    }

    def gazette(*args: str) -> str:
        done = subprocess.run(["gazette", "--config", config, *args], capture_output=True,
                              text=True, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    gazette("subscribers", "import", str(ROOT / "example" / "subscribers.csv"))
    first = gazette("publish")
    assert "(no build yet)" in first
    assert "issue 1 " in first
    assert ": 3 sent, 0 failed, 0 uncertain" in first
    assert (tmp_path / "public" / "feed.xml").is_file()
    assert len(list((tmp_path / "outbox").rglob("*.eml"))) == 3
    again = gazette("publish")
    assert "build: no source changed" in again
    assert "went out already" in again or "nothing new" in again  # an hour may have passed
    status = json.loads(gazette("status", "--json"))
    assert status["running"] is False
    assert status["last_issue"]["counts"] == {"sent": 3}
    assert status["last_build"]["written"] > 0
    assert [job["id"] for job in status["jobs"]] == ["build", "digest"]


def _example(tmp_path: Path, *args: str) -> list[str]:
    """Runs a command on the bundled example, state and output in ``tmp_path``."""
    env = {
        "GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}",
        "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public"),
        "GAZETTE_MAIL_OUTBOX": str(tmp_path / "outbox"),
    }
    config = str(ROOT / "config" / "gazette.toml")
    result = CliRunner().invoke(cli, ["--config", config, *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_check_counts_in_words_that_agree_with_its_lines(tmp_path: Path) -> None:
    """check's count line says "1 warning, 1 note" (singular for one), and a finding of
    that kind is labelled "note:", as the count calls it."""
    lines = _example(tmp_path, "check")
    assert lines[-1] == "0 errors, 1 warning, 1 note"
    assert any(": note: draft" in line for line in lines)
    assert not any(": info: " in line for line in lines)


def test_posts_explains_the_tilde_before_an_inferred_title(tmp_path: Path) -> None:
    """The posts table ends with a legend for the ~ that marks an inferred title."""
    lines = _example(tmp_path, "posts")
    assert sum(line[11:12] == "~" for line in lines) == 1
    assert lines[-1].startswith("~ before a title: ")
    assert "inferred" in lines[-1]


def test_publish_says_in_which_folder_it_built(tmp_path: Path) -> None:
    """publish's build line names the output folder, as `build` does."""
    lines = _example(tmp_path, "publish")
    build = next(line for line in lines if line.startswith("build: "))
    assert f" removed in {tmp_path / 'public'} (no build yet)" in build
