"""A build runs when anything it is made of changed, and only then (gazette.freshness)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gazette.config import Settings, load_settings
from gazette.cycle import build_if_changed
from gazette.store import Store

from .conftest import make_site, site_config

HOURLY = 'schedule = "0 * * * *"'


@pytest.fixture
def settings(tmp_path: Path, state_url: str) -> Settings:
    return make_site(tmp_path / "site", site_config(state_url, "15m", HOURLY))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store(settings.database_url)
    yield opened
    opened.close()


def _output(settings: Settings) -> Path:
    return settings.resolve(settings.feeds.output)


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_gazette_build_on_an_unchanged_site_reads_and_writes_nothing(settings: Settings) -> None:
    """The second `gazette build` says the feeds are up to date, counts every file as
    kept, and leaves every output file as it was."""
    command = ["gazette", "--config", str(settings.config_path), "build"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    subprocess.run(command, check=True, capture_output=True, env=env)
    before = _files(_output(settings))
    again = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    assert again.stdout.startswith("up to date: ")
    assert f"0 written, {len(before)} kept, 0 removed" in again.stdout
    assert _files(_output(settings)) == before


def test_a_rewrite_within_the_same_mtime_tick_is_seen(settings: Settings, store: Store) -> None:
    """A post rewritten right after a build, with its size and mtime as they were (a
    coarse clock), is compared by its bytes: the next build has its new title."""
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    post = settings.base_dir / "posts" / "post-1.md"
    looked = post.stat()
    post.write_text(post.read_text(encoding="utf-8").replace("number 1", "NUMBER 1"), "utf-8")
    os.utime(post, ns=(looked.st_atime_ns, looked.st_mtime_ns))
    assert post.stat().st_size == looked.st_size
    outcome = build_if_changed(settings, store, now)
    assert outcome.reason == "a source or the config changed"
    assert "Post NUMBER 1" in (_output(settings) / "feed.xml").read_text(encoding="utf-8")
    assert build_if_changed(settings, store, now).report is None


@pytest.mark.parametrize("change", ["edited", "removed"])
def test_an_output_file_changed_by_hand_is_written_again(
    settings: Settings, store: Store, change: str
) -> None:
    """feed.xml edited or deleted after a build: the next build says so and puts the
    build's own bytes back; the one after has nothing to do."""
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    feed = _output(settings) / "feed.xml"
    built = feed.read_bytes()
    if change == "edited":
        feed.write_bytes(built + b"<!-- by hand -->")
    else:
        feed.unlink()
    outcome = build_if_changed(settings, store, now)
    assert outcome.reason.startswith("feed.xml ")
    assert feed.read_bytes() == built
    assert build_if_changed(settings, store, now).report is None


def test_an_edited_archive_template_brings_a_build(
    tmp_path: Path, settings: Settings, store: Store
) -> None:
    """A template in digest.templates (the archive of issues is made from it) counts as
    an input: editing it brings a build, and only then."""
    templates = settings.base_dir / "templates"
    templates.mkdir()
    (templates / "issue.html.j2").write_text("{{ issue.subject }}\n", encoding="utf-8")
    config = settings.config_path.read_text(encoding="utf-8")
    settings.config_path.write_text(
        config.replace("[digest]\n", '[digest]\ntemplates = "templates"\n'), encoding="utf-8"
    )
    with_templates = load_settings(settings.config_path, environ={})
    now = datetime.now(UTC)
    build_if_changed(with_templates, store, now)
    assert build_if_changed(with_templates, store, now).report is None
    (templates / "issue.html.j2").write_text("<h1>{{ issue.subject }}</h1>\n", encoding="utf-8")
    assert build_if_changed(with_templates, store, now).reason == "a source or the config changed"


JEKYLL_POST = "---\ntitle: A Jekyll post\ndate: 2024-03-01 08:00:00 +0800\n---\n\nHello.\n"


def test_a_generator_config_change_reaches_the_feed(tmp_path: Path, state_url: str) -> None:
    """A Jekyll site's _config.yml is read by the build: a new permalink style there
    brings a build, and the feed links the new URL."""
    site = tmp_path / "blog"
    (site / "_posts").mkdir(parents=True)
    (site / "_posts" / "2024-03-01-hello.md").write_text(JEKYLL_POST, encoding="utf-8")
    (site / "_config.yml").write_text("url: https://j.example.org\n", encoding="utf-8")
    config = site_config(state_url, "15m", HOURLY).replace('path = "posts/*.md"', 'path = "blog"')
    settings = make_site(tmp_path, config, posts=0)
    store = Store(settings.database_url)
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    feed = _output(settings) / "feed.xml"
    assert "https://j.example.org/2024/03/01/hello.html" in feed.read_text(encoding="utf-8")
    (site / "_config.yml").write_text(
        "url: https://j.example.org\npermalink: pretty\n", encoding="utf-8"
    )
    assert build_if_changed(settings, store, now).reason == "a source or the config changed"
    assert "https://j.example.org/2024/03/01/hello/" in feed.read_text(encoding="utf-8")
    store.close()
