"""One cycle, without a scheduler: build only on change, the digest of a due fire."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gazette import catalog, cycle, feeds
from gazette.catalog.survey import RACY_SECONDS, Survey
from gazette.config import Settings, load_settings
from gazette.cycle import SendOptions, build_if_changed, due_fire_time
from gazette.digest import create_or_resume_issue, ledger
from gazette.freshness import Inputs, current_inputs, last_build
from gazette.pinyin import Reader
from gazette.store import Store

from .conftest import SUBSCRIBERS, make_site, site_config, write_post
from .test_run import delivery_counts, issue_rows, outbox_messages

HOURLY = 'schedule = "0 * * * *"\nmisfire_grace = "2h"'


@pytest.fixture
def settings(tmp_path: Path, state_url: str) -> Settings:
    return make_site(tmp_path / "site", site_config(state_url, "15m", HOURLY))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store(settings.database_url)
    yield opened
    opened.close()


def test_builds_only_when_something_it_is_made_of_changed(settings: Settings, store: Store) -> None:
    """First build, then skips; a touched source, a feed setting or a lost output
    folder each bring a build; a digest setting does not."""
    now = datetime.now(UTC)
    assert build_if_changed(settings, store, now).reason == "no build yet"
    assert build_if_changed(settings, store, now).report is None
    post = settings.base_dir / "posts" / "post-1.md"
    os.utime(post, ns=(post.stat().st_atime_ns, post.stat().st_mtime_ns + 10**9))
    assert build_if_changed(settings, store, now).reason == "a source or the config changed"
    other_digest = settings.model_copy(update={"digest": settings.digest.model_copy(
        update={"max_posts": 3})})  # fmt: skip
    assert build_if_changed(other_digest, store, now).report is None
    other_feeds = settings.model_copy(update={"feeds": settings.feeds.model_copy(
        update={"entries": 3})})  # fmt: skip
    assert build_if_changed(other_feeds, store, now).reason == "a source or the config changed"
    shutil.rmtree(settings.resolve(settings.feeds.output))
    outcome = build_if_changed(other_feeds, store, now)
    assert outcome.reason == "the output folder is missing"
    assert (settings.resolve(settings.feeds.output) / "feed.xml").is_file()


def test_a_post_dated_in_the_future_is_built_when_it_comes_due(
    settings: Settings, store: Store
) -> None:
    """No source changes, but the clock passes a post's date: the next build adds it."""
    write_post(settings.base_dir, "later", "Written for later", hours_ago=-1)
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    feed = settings.resolve(settings.feeds.output) / "feed.xml"
    assert "Written for later" not in feed.read_text(encoding="utf-8")
    assert build_if_changed(settings, store, now + timedelta(minutes=30)).report is None
    outcome = build_if_changed(settings, store, now + timedelta(hours=2))
    assert outcome.reason.startswith("a post dated ")
    assert "Written for later" in feed.read_text(encoding="utf-8")


def test_the_digest_is_due_within_the_grace_of_its_last_fire(
    settings: Settings, store: Store
) -> None:
    """Hourly with a 2 h grace: due at the last full hour; "0 0 1 1 *" mostly not."""
    now = datetime(2026, 11, 21, 10, 30, tzinfo=settings.site.zone)
    assert due_fire_time(settings, now) == now.replace(minute=0)
    yearly = settings.model_copy(update={"digest": settings.digest.model_copy(
        update={"schedule": "0 0 1 1 *"})})  # fmt: skip
    assert due_fire_time(yearly, now) is None


def test_publish_sends_a_due_digest_once(settings: Settings, store: Store) -> None:
    """Two cycles for the same fire: one issue; the second says it went out already."""
    now = datetime.now(UTC)
    fire = due_fire_time(settings, now)
    first = cycle.publish(settings, store, {}, now, fire, SendOptions())
    again = cycle.publish(settings, store, {}, now, fire, SendOptions())
    assert [s.count("sent") for s in first.digest.summaries] == [len(SUBSCRIBERS)]
    assert again.digest.summaries == []
    assert "went out already" in again.digest.note
    assert again.build.report is None
    assert outbox_messages(settings) == sorted(f"{a}.eml" for a in SUBSCRIBERS)


def test_a_lost_race_for_a_period_resumes_the_winners_issue(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another process made the period's issue after we looked, the unique period
    stops our insert and we get theirs, not an error and not a second issue."""
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    theirs = create_or_resume_issue(settings, store, "2026-11-23T08:00", now)
    assert theirs is not None
    real = ledger.issue_for_period
    looks = iter([None])  # the first look misses it, as if it were not committed yet
    monkeypatch.setattr(ledger, "issue_for_period", lambda c, p: next(looks, None) or real(c, p))
    ours = create_or_resume_issue(settings, store, "2026-11-23T08:00", now)
    assert ours == theirs
    assert len(issue_rows(settings)) == 1


def test_concurrent_senders_of_one_period_reach_everyone_once(
    settings: Settings, store: Store
) -> None:
    """Four threads, each with its own connection, send the same period at once (as if
    the lease had been bypassed): one issue, one message per subscriber."""
    build_if_changed(settings, store, datetime.now(UTC))
    fresh = load_settings(settings.config_path, environ={})
    errors: list[Exception] = []

    def send() -> None:
        own = Store(fresh.database_url)
        try:
            cycle.send_digest(fresh, own, {}, "2026-11-23T08:00", SendOptions())
        except Exception as error:
            errors.append(error)
        finally:
            own.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(issue_rows(settings)) == 1
    assert delivery_counts(settings) == {"sent": len(SUBSCRIBERS)}
    assert outbox_messages(settings) == sorted(f"{a}.eml" for a in SUBSCRIBERS)


# --- what a build is made of (gazette.freshness) ---------------------------------------


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


def test_a_build_looks_at_each_source_file_once(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that finds a post edited globs the posts once and looks at an unchanged
    file once: the freshness check and the sync share what they found."""
    build_if_changed(settings, store, datetime.now(UTC))
    write_post(settings.base_dir, "post-1", "Post number 1, edited", 1)
    posts = str(settings.base_dir / "posts")
    looks: list[str] = []
    globs: list[str] = []
    real_stat, real_glob = os.stat, glob.glob

    def counted_stat(path: str, *args: object, **kwargs: object) -> os.stat_result:
        if str(path).startswith(posts) and str(path).endswith(".md") and "*" not in str(path):
            looks.append(str(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    def counted_glob(pattern: str, *args: object, **kwargs: object) -> list[str]:
        globs.append(pattern)
        return real_glob(pattern, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "stat", counted_stat)
    monkeypatch.setattr(glob, "glob", counted_glob)
    outcome = build_if_changed(settings, store, datetime.now(UTC))
    assert outcome.reason == "a source or the config changed"
    assert "edited" in (_output(settings) / "feed.xml").read_text(encoding="utf-8")
    assert globs == [str(settings.base_dir / "posts" / "*.md")]
    assert looks.count(f"{posts}/post-2.md") == 1  # unchanged: looked at, never read


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


def test_a_racy_file_turned_into_a_pipe_does_not_hang_the_check(
    settings: Settings, store: Store
) -> None:
    """A post read by its bytes at the last build (written just before it), then replaced
    by a named pipe: the check does not open the pipe, and sees a change."""
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    last = last_build(store)
    assert last is not None
    post = settings.base_dir / "posts" / "post-1.md"
    assert str(post) in last.racy
    post.unlink()
    os.mkfifo(post)
    found: list[Inputs] = []
    looking = threading.Thread(
        target=lambda: found.append(current_inputs(settings, store, Survey(), last.racy)),
        daemon=True,
    )
    looking.start()
    looking.join(timeout=20)
    assert found, "the check blocked on the pipe"
    assert found[0].compared != last.fingerprint


def test_a_build_that_outlasts_the_racy_window_leaves_its_files_settled(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posts written just before a build that ends once they are racy no longer are
    settled: the next check fingerprints them by size and mtime alone. A post rewritten
    during the build, its size and mtime kept, is still read by the next check, which
    builds it."""
    rewritten = settings.base_dir / "posts" / "post-1.md"
    build_feeds = feeds.build_feeds

    def slow_build(*args: Any) -> Any:
        looked = rewritten.stat()
        text = rewritten.read_text(encoding="utf-8").replace("number 1", "NUMBER 1")
        rewritten.write_text(text, encoding="utf-8")
        os.utime(rewritten, ns=(looked.st_atime_ns, looked.st_mtime_ns))
        time.sleep(RACY_SECONDS + 0.2)
        return build_feeds(*args)

    for post in (settings.base_dir / "posts").glob("*.md"):
        os.utime(post)  # written now: racy to the build that follows
    with monkeypatch.context() as slow:
        slow.setattr(feeds, "build_feeds", slow_build)
        build_if_changed(settings, store, datetime.now(UTC))
    last = last_build(store)
    assert last is not None
    assert last.racy == (str(rewritten),)
    outcome = build_if_changed(settings, store, datetime.now(UTC))
    assert outcome.reason == "a source or the config changed"
    assert "Post NUMBER 1" in (_output(settings) / "feed.xml").read_text(encoding="utf-8")
    assert build_if_changed(settings, store, datetime.now(UTC)).report is None
    settled = last_build(store)
    assert settled is not None
    assert settled.racy == ()


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


def test_a_build_that_finds_more_files_starts_reading_titles_before_the_sync(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build whose sources hold more files than the last one's starts the title reader
    before it loads the catalog; an edit alone starts none, there or in the sync."""
    now = datetime.now(UTC)
    build_if_changed(settings, store, now)
    calls: list[str] = []
    start, update = Reader.start, catalog.update_catalog

    def spy_start(self: Reader) -> None:
        calls.append("start")
        start(self)

    def spy_update(*args: Any, **kwargs: Any) -> Any:
        calls.append("sync")
        return update(*args, **kwargs)

    monkeypatch.setattr(Reader, "start", spy_start)
    monkeypatch.setattr(catalog, "update_catalog", spy_update)
    write_post(settings.base_dir, "post-new", "新的一篇", hours_ago=0.5)
    assert build_if_changed(settings, store, now).report is not None
    assert calls[:2] == ["start", "sync"]
    calls.clear()
    post = settings.base_dir / "posts" / "post-new.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    assert build_if_changed(settings, store, now).report is not None
    assert calls == ["sync"]


def test_a_build_whose_catalog_fails_to_open_ends_its_title_reader(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The title reader a build started before the sync ends when the sync never starts."""
    build_if_changed(settings, store, datetime.now(UTC))
    started: list[Reader] = []
    start = Reader.start

    def spy_start(self: Reader) -> None:
        started.append(self)
        start(self)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the state database cannot be opened")

    monkeypatch.setattr(Reader, "start", spy_start)
    monkeypatch.setattr(catalog, "update_catalog", broken)
    write_post(settings.base_dir, "post-new", "又一篇", hours_ago=0.5)
    with pytest.raises(OSError, match="cannot be opened"):
        build_if_changed(settings, store, datetime.now(UTC))
    assert len(started) == 1
    assert started[0]._process is None  # killed and waited for
