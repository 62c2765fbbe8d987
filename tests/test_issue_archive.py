"""The archive of sent issues: issues/index.html and each issue's web version, written
into feeds.output by a send and by `gazette build`, with nothing of any recipient."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import html5lib
import httpx
import lxml.html
import pytest
from sqlalchemy import delete, update

from gazette.catalog import update_catalog
from gazette.config import Settings
from gazette.cycle import SendOptions, send_digest
from gazette.digest import create_or_resume_issue
from gazette.digest.tables import deliveries, issue_posts, issues
from gazette.feeds.tables import load_feed_files
from gazette.store import Store

from .conftest import NOW
from .digest.conftest import (
    DIGEST,
    MARKDOWN,
    cli_env,
    free_port,
    run_cli,
    subscribe,
    wait_for,
    write_post,
)
from .digest.test_hostile_html import unsafe_in_html
from .test_index_browser import CHROMIUM, QUIET_FLAGS

READER = "reader@example.org"
SERVE = '\n[serve]\nurl = "https://news.test.example.org"\n'
POSTS = [("one", "First post", 1.0), ("two", "Second post", 2.0)]


@pytest.fixture
def archive_site(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> Callable[..., Settings]:
    """A Markdown site with [digest], [mail] and serve.url set, and one active reader."""

    def make(posts: list[tuple[str, str, float]]) -> Settings:
        for slug, title, days_ago in posts:
            write_post(write, slug, title, days_ago)
        settings = site(MARKDOWN, DIGEST + SERVE)
        store = Store(settings.database_url)
        update_catalog(settings, store, NOW)
        store.close()
        subscribe(settings, READER).close()
        return settings

    return make


def output(settings: Settings) -> Path:
    return settings.resolve(settings.feeds.output)


def send(settings: Settings, env: dict[str, str] | None = None) -> EmailMessage:
    """`gazette digest --send`; the newest message the outbox wrote for READER."""
    result = run_cli(settings.config_path, "digest", "--send", env=env)
    assert result.returncode == 0, result.stderr
    newest = sorted(settings.resolve("outbox").rglob(f"{READER}.eml"))[-1]
    message = email.message_from_bytes(newest.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def token_of(message: EmailMessage) -> str:
    https = str(message["List-Unsubscribe"]).split(",")[0].strip()[1:-1]
    return parse_qs(urlsplit(https).query)["token"][0]


def page(settings: Settings, relative: str) -> str:
    return (output(settings) / relative).read_text(encoding="utf-8")


def strictly_parsed(text: str) -> None:
    html5lib.HTMLParser(strict=True).parse(text)


def mtimes(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_mtime_ns
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def build(settings: Settings, env: dict[str, str] | None = None) -> None:
    result = run_cli(settings.config_path, "build", env=env)
    assert result.returncode == 0, result.stderr


def test_send_writes_the_archive_without_anything_of_the_recipient(
    archive_site: Callable[..., Settings],
) -> None:
    """After `digest --send` both pages exist, list the subject and posts, parse as HTML
    and hold neither the address nor the unsubscribe token."""
    settings = archive_site(POSTS)
    message = send(settings)
    token = token_of(message)
    mail_html = message.get_body(("html",))
    assert mail_html is not None
    assert "https://news.test.example.org/issues/1/" in mail_html.get_content()
    index, issue = page(settings, "issues/index.html"), page(settings, "issues/1/index.html")
    for text in (index, issue):
        strictly_parsed(text)
        assert str(message["Subject"]) in text
        assert READER not in text
        assert token not in text
        assert "unsubscribe" not in text.lower()
        assert "token=" not in text
    assert "First post" in issue
    assert "Second post" in issue
    assert 'href="1/"' in index
    assert "2 篇文章" in index  # the site's language, zh-CN
    assert "https://news.test.example.org/subscribe" in issue
    assert '<link rel="canonical" href="https://news.test.example.org/issues/1/">' in issue


def test_issue_page_has_the_digest_posts_and_words(
    archive_site: Callable[..., Settings],
) -> None:
    """The web version shows every post of the mail, with the same links and excerpts."""
    settings = archive_site(POSTS)
    message = send(settings)
    mail_html = message.get_body(("html",))
    assert mail_html is not None
    mail = lxml.html.fromstring(mail_html.get_content())
    web = lxml.html.fromstring(page(settings, "issues/1/index.html"))
    assert web.xpath("//article/h3/a/text()") == mail.xpath("//td[@class='post']/h2/a/text()")
    assert web.xpath("//article/h3/a/@href") == mail.xpath("//td[@class='post']/h2/a/@href")
    mail_excerpts = [e.text_content() for e in mail.xpath("//div[@class='excerpt']")]
    assert [e.text_content() for e in web.xpath("//div[@class='excerpt']")] == mail_excerpts
    assert web.xpath("//link[@rel='alternate']/@href") == [
        "https://test.example.org/feed.xml",
        "https://test.example.org/atom.xml",
        "https://test.example.org/feed.json",
    ]


def test_pages_are_byte_stable_across_builds(archive_site: Callable[..., Settings]) -> None:
    """Two builds after a send leave every archive page (and every feed) as it was."""
    settings = archive_site(POSTS)
    build(settings)
    send(settings)
    before = mtimes(output(settings))
    build(settings)
    build(settings)
    assert mtimes(output(settings)) == before
    assert {"issues/index.html", "issues/1/index.html", "feed.xml"} <= set(before)


def test_send_keeps_the_feeds_and_their_records(archive_site: Callable[..., Settings]) -> None:
    """The archive written after a send leaves the feeds' files and their records alone."""
    settings = archive_site(POSTS)
    build(settings)
    store = Store(settings.database_url)
    with store.transaction() as connection:
        built = load_feed_files(connection)
    send(settings)
    with store.transaction() as connection:
        after = load_feed_files(connection)
    assert {p: r for p, r in after.items() if not p.startswith("issues/")} == built
    assert {"issues/index.html", "issues/1/index.html"} <= set(after)


def test_second_issue_adds_a_page_and_updates_the_index(
    archive_site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """A second issue writes issues/2/, lists it first, and leaves issue 1's page alone."""
    settings = archive_site(POSTS)
    send(settings)
    first = (output(settings) / "issues/1/index.html").stat().st_mtime_ns
    write_post(write, "three", "Third post", 0.5)
    store = Store(settings.database_url)
    update_catalog(settings, store, NOW)
    run = send_digest(settings, store, {}, "2026-11-22T08", SendOptions())
    assert [s.count("sent") for s in run.summaries] == [1]
    assert run.note == ""
    assert (output(settings) / "issues/1/index.html").stat().st_mtime_ns == first
    second = page(settings, "issues/2/index.html")
    strictly_parsed(second)
    assert "Third post" in second
    assert "First post" not in second
    index = lxml.html.fromstring(page(settings, "issues/index.html"))
    assert index.xpath("//main/ol/li/a/@href") == ["2/", "1/"]


def test_publish_leaves_the_pages_written(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """`gazette publish` with a digest due builds, sends and writes both archive pages."""
    for slug, title, days_ago in POSTS:
        write_post(write, slug, title, days_ago)
    every_minute = DIGEST.replace("[digest]\n", '[digest]\nschedule = "* * * * *"\n')
    settings = site(MARKDOWN, every_minute + SERVE)
    subscribe(settings, READER).close()
    result = run_cli(settings.config_path, "publish")
    assert result.returncode == 0, result.stderr
    assert "1 sent" in result.stdout
    assert "First post" in page(settings, "issues/1/index.html")
    assert 'href="1/"' in page(settings, "issues/index.html")
    assert (output(settings) / "feed.xml").is_file()


def test_build_writes_the_archive_from_the_state(archive_site: Callable[..., Settings]) -> None:
    """`gazette build` writes the pages of the issues sent, even into an empty folder."""
    settings = archive_site(POSTS)
    send(settings)
    shutil.rmtree(output(settings))
    build(settings)
    assert "First post" in page(settings, "issues/1/index.html")
    assert 'href="1/"' in page(settings, "issues/index.html")


def test_a_vanished_issue_loses_its_page_and_nothing_else(
    archive_site: Callable[..., Settings],
) -> None:
    """An issue gone from the state loses its pages on the next build; a file the build
    never wrote stays."""
    settings = archive_site(POSTS)
    send(settings)
    foreign = output(settings) / "issues" / "notes.txt"
    foreign.write_text("mine", encoding="utf-8")
    with Store(settings.database_url).transaction() as connection:
        for table in (deliveries, issue_posts, issues):
            connection.execute(delete(table))
    build(settings)
    assert not (output(settings) / "issues/1").exists()
    assert not (output(settings) / "issues/index.html").exists()
    assert foreign.read_text(encoding="utf-8") == "mine"
    assert (output(settings) / "index.html").is_file()


def test_an_issue_nobody_got_has_no_page(archive_site: Callable[..., Settings]) -> None:
    """An issue with no delivery sent (pending, or every one failed) is not in the archive."""
    settings = archive_site(POSTS)
    store = Store(settings.database_url)
    issue = create_or_resume_issue(settings, store, "2026-11-22T08", NOW)
    assert issue is not None
    build(settings)
    assert not (output(settings) / "issues").exists()
    with store.transaction() as connection:
        connection.execute(update(deliveries).values(status="failed"))
        connection.execute(update(issues).values(status="done"))
    build(settings)
    assert not (output(settings) / "issues").exists()


def test_hostile_post_html_stays_harmless(
    archive_site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """A post's script, handlers and javascript: links never reach the issue page."""
    hostile = (
        '<script>alert(1)</script><img src="x.png" onerror="alert(2)">'
        '<a href="javascript:alert(3)">click</a> <b onclick="alert(4)">bold</b>'
    )
    write_post(write, "bad", "Hostile post", 0.5, body=hostile)
    settings = archive_site(POSTS)
    send(settings)
    text = page(settings, "issues/1/index.html")
    assert "Hostile post" in text
    assert unsafe_in_html(text) == []
    assert "<script" not in text.lower()
    assert "alert(" not in text


def test_templates_are_overridable_and_a_change_rewrites_the_page(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """issue.html.j2 in digest.templates replaces the bundled one; editing it rewrites
    the page on the next build, and only that page."""
    for slug, title, days_ago in POSTS:
        write_post(write, slug, title, days_ago)
    write("mine/issue.html.j2", "<!DOCTYPE html><title>{{ issue.subject }}</title><p>v1</p>\n")
    settings = site(MARKDOWN, DIGEST.replace("[digest]\n", '[digest]\ntemplates = "mine"\n'))
    update_catalog(settings, Store(settings.database_url), NOW)
    subscribe(settings, READER)
    send(settings)
    assert "<p>v1</p>" in page(settings, "issues/1/index.html")
    index = (output(settings) / "issues/index.html").stat().st_mtime_ns
    write("mine/issue.html.j2", "<!DOCTYPE html><title>{{ issue.subject }}</title><p>v2</p>\n")
    build(settings)
    assert "<p>v2</p>" in page(settings, "issues/1/index.html")
    assert (output(settings) / "issues/index.html").stat().st_mtime_ns == index


def test_archive_on_postgresql(
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    site: Callable[..., Settings],
    write: Callable[[str, str], Path],
) -> None:
    """With the state on PostgreSQL a send and two builds write the same stable pages."""
    monkeypatch.setenv("GAZETTE_STATE_DATABASE", postgres_url)
    for slug, title, days_ago in POSTS:
        write_post(write, slug, title, days_ago)
    settings = site(MARKDOWN, DIGEST + SERVE)
    env = {"GAZETTE_STATE_DATABASE": postgres_url}
    build(settings, env)
    subscribe(settings, READER).close()
    message = send(settings, env)
    before = mtimes(output(settings))
    build(settings, env)
    assert mtimes(output(settings)) == before
    text = page(settings, "issues/1/index.html")
    assert str(message["Subject"]) in text
    assert token_of(message) not in text


def test_serve_answers_the_archive_paths(archive_site: Callable[..., Settings]) -> None:
    """`gazette serve` answers /issues/ and /issues/1/ with the pages the send wrote, at
    the path the mail's view link names."""
    settings = archive_site(POSTS)
    message = send(settings)
    port = free_port()
    env = cli_env({"GAZETTE_SERVE_LISTEN": f"127.0.0.1:{port}"})
    command = [sys.executable, "-m", "gazette", "--config", str(settings.config_path), "serve"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(base + "/healthz"))
        index = httpx.get(base + "/issues/")
        issue = httpx.get(base + "/issues/1/")
    finally:
        process.terminate()
        process.wait(20)
    assert index.status_code == issue.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert str(message["Subject"]) in issue.text
    assert issue.content == (output(settings) / "issues/1/index.html").read_bytes()


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (.ci/run installs it)",
)


def screenshot(target: Path, shot: Path, profile: Path, width: int) -> None:
    assert CHROMIUM is not None, "CI must install chromium"
    subprocess.run(
        [CHROMIUM, *QUIET_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},1200",
         "--hide-scrollbars", f"--screenshot={shot}", target.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@chromium
def test_chromium_shows_both_pages(archive_site: Callable[..., Settings], tmp_path: Path) -> None:
    """Headless Chromium renders the index and the issue page, wide and narrow; the
    screenshots are kept in the test's folder."""
    settings = archive_site(POSTS)
    send(settings)
    for name, relative in (("issues", "issues/index.html"), ("issue-1", "issues/1/index.html")):
        for width in (1200, 390):
            shot = tmp_path / f"{name}-{width}.png"
            screenshot(output(settings) / relative, shot, tmp_path / "profile", width)
            assert shot.stat().st_size > 5000
