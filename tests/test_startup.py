"""Start-up: help and version answer without loading the heavy parts of the application."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from gazette.cli import cli, main

# What `--help` must not load: the database layer, the feed writers, the Markdown
# renderer, the mail providers, and the catalog and settings that pull them in.
HEAVY = (
    "sqlalchemy",
    "lxml",
    "feedgen",
    "markdown_it",
    "pydantic",
    "gazette.mail.smtp",
    "gazette.mail.http",
    "gazette.catalog",
    "gazette.feeds",
    "gazette.digest",
    "gazette.store",
)

# Runs the command line as the `gazette` script does, then prints what was imported.
CHILD = """
import json, sys
from gazette.cli import main
sys.argv = ["gazette", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _every_command() -> list[list[str]]:
    names: list[list[str]] = []
    for name, command in sorted(cli.commands.items()):
        names.append([name])
        if isinstance(command, click.Group):
            names.extend([name, sub] for sub in sorted(command.commands))
    return names


def _loaded(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True, env=env
    )
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, set(modules)


def _heavy(modules: set[str]) -> list[str]:
    return _matching(modules, HEAVY)


def _matching(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_top_level_help_loads_nothing_heavy(args: list[str]) -> None:
    """`gazette --help`, `-h` and `--version` import none of the heavy modules."""
    output, modules = _loaded(*args)
    assert "gazette" in output
    assert _heavy(modules) == []


@pytest.mark.parametrize("command", _every_command(), ids=" ".join)
def test_every_command_help_loads_nothing_heavy(command: list[str]) -> None:
    """Each command's --help (and -h) answers without importing what the command runs."""
    for flag in ("--help", "-h"):
        output, modules = _loaded(*command, flag)
        assert f"Usage: gazette {' '.join(command)}" in output
        assert _heavy(modules) == []


# What an up-to-date build must not load: the readers and renderers of posts, the feed
# writers, the archive's templates, the mail providers.
RENDERING = (
    "lxml",
    "feedgen",
    "markdown_it",
    "latex2mathml",
    "jinja2",
    "httpx",
    "gazette.catalog.sync",
    "gazette.catalog.render",
    "gazette.feeds.build",
    "gazette.digest.issue",
    "gazette.mail.smtp",
    "gazette.mail.http",
)


def test_an_up_to_date_build_loads_no_renderer(tmp_path: Path) -> None:
    """`gazette build` on the example, built already, answers from the fingerprint: no
    reader, renderer, feed writer or template engine is imported."""
    config = str(Path(__file__).resolve().parents[1] / "config" / "gazette.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    env["GAZETTE_STATE_DATABASE"] = f"sqlite:///{tmp_path / 'state.db'}"
    env["GAZETTE_FEEDS_OUTPUT"] = str(tmp_path / "public")
    first, loaded_first = _loaded("--config", config, "build", env=env)
    again, loaded_again = _loaded("--config", config, "build", env=env)
    assert "written" in first
    assert "feedgen" in loaded_first
    assert again.startswith("up to date: ")
    assert _matching(loaded_again, RENDERING) == []


SMALL_SITE = """\
[site]
title = "Small"
url = "https://small.example.org/"

[[sources]]
path = "posts/*.md"
format = "markdown"

[feeds]
output = "public"
entries = 2
index_posts = 2

[state]
database = "sqlite:///state.db"
"""


def test_a_build_of_one_edited_post_loads_no_template_engine_or_scheduler(
    tmp_path: Path,
) -> None:
    """A build that finds an old post edited (in no feed's newest entries nor the index;
    no schedule set; its formula converted already) imports neither the template engine,
    Babel, the scheduler nor the formula converter, nor, on SQLite, PostgreSQL's
    dialect."""
    (tmp_path / "gazette.toml").write_text(SMALL_SITE, encoding="utf-8")
    (tmp_path / "posts").mkdir()
    for number in range(3):
        (tmp_path / "posts" / f"p{number}.md").write_text(
            f"---\ntitle: Post {number}\ndate: 2024-01-0{number + 1}\n---\n\nText $x^{number}$.\n",
            encoding="utf-8",
        )
    config = str(tmp_path / "gazette.toml")
    _loaded("--config", config, "build")
    with (tmp_path / "posts" / "p0.md").open("a", encoding="utf-8") as post:
        post.write("More text.\n")
    output, modules = _loaded("--config", config, "build")
    assert "1 written" in output
    unwanted = ("jinja2", "babel", "apscheduler", "latex2mathml", "sqlalchemy.dialects.postgresql")
    assert _matching(modules, unwanted) == []


def test_the_command_line_collects_garbage_rarely(monkeypatch: pytest.MonkeyPatch) -> None:
    """`gazette` raises the collector's first threshold far above CPython's 700."""
    before = gc.get_threshold()
    monkeypatch.setattr(sys, "argv", ["gazette", "--version"])
    try:
        with pytest.raises(SystemExit):
            main()
        assert gc.get_threshold()[0] >= 100_000
    finally:
        gc.set_threshold(*before)
