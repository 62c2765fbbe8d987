"""The archive of sent issues: which issues it holds, and their pages.

``issues/index.html`` lists every sent issue, newest first; ``issues/<number>/index.html``
is an issue's web version, the page its "view in browser" link opens (the default
``digest.view_url`` is ``<serve.url>/issues/{number}/``). An issue is sent once any of
its deliveries is: it is sending or done and some reader holds its link, so the page
must exist. A web version is the same for everyone: it has the digest's posts and words
but no unsubscribe link, token or address of any recipient.

The state keeps an issue's post ids, not its text, so a page shows those posts as the
catalog has them now; a post that left the catalog leaves the page too.

Each page comes with an input key (a hash of all it is made from), so the output folder
renders and writes only the pages whose input changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from functools import partial
from typing import Any

from jinja2 import Environment
from sqlalchemy import Connection

from gazette import __version__, i18n
from gazette.catalog import load_posts
from gazette.catalog.tables import present_hashes
from gazette.config import Settings
from gazette.digest import ledger
from gazette.digest.ledger import ARCHIVE_FOLDER, Issue
from gazette.digest.render import (
    IssueView,
    environment,
    post_view,
    render_template,
    view_url,
)
from gazette.math_images import MathImages

# Bump when the bytes written for the same input change.
FORMAT_VERSION = "1"
FOLDER = ARCHIVE_FOLDER
INDEX_PATH = FOLDER + "index.html"
INDEX_TEMPLATE = "issues.html.j2"
ISSUE_TEMPLATE = "issue.html.j2"


def issue_path(number: int) -> str:
    return f"{FOLDER}{number}/index.html"


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    """One page of the archive: where it goes, what it is made from, how to render it."""

    path: str
    key: str
    render: Callable[[], bytes]


@dataclass(frozen=True, slots=True)
class IssueEntry:
    """What the archive's index shows of one issue."""

    number: int
    date: str
    subject: str
    posts: int  # as many as the issue was sent with
    href: str  # relative to issues/index.html


@dataclass(frozen=True, slots=True)
class FeedUrls:
    rss: str
    atom: str
    json: str


def archive_files(
    settings: Settings, connection: Connection, images: MathImages | None = None
) -> list[ArchiveFile]:
    """The index and one page per sent issue; none while no issue has gone out. Formula
    images the pages need and ``images`` lacks are drawn into it."""
    issues = ledger.sent_issues(connection)
    if not issues:
        return []
    env = environment(settings)
    common = _common_input(settings, env)
    files = [_issue_file(settings, connection, env, common, issue, images) for issue in issues]
    entries = [_entry(settings, issue) for issue in issues]
    key = _key(common, INDEX_TEMPLATE, [astuple(entry) for entry in entries])
    context = {**_page_context(settings), "issues": entries}
    files.append(ArchiveFile(INDEX_PATH, key, partial(_page, env, INDEX_TEMPLATE, context)))
    return files


def _issue_file(
    settings: Settings,
    connection: Connection,
    env: Environment,
    common: list[Any],
    issue: Issue,
    images: MathImages | None,
) -> ArchiveFile:
    hashes = present_hashes(connection, issue.post_ids)
    present = [post_id for post_id in issue.post_ids if post_id in hashes]
    material = [issue.number, issue.period, issue.subject, issue.created]
    key = _key(common, ISSUE_TEMPLATE, material, [hashes[p] for p in present])
    render = partial(_render_issue, settings, connection, env, issue, present, images)
    return ArchiveFile(issue_path(issue.number), key, render)


def _render_issue(
    settings: Settings,
    connection: Connection,
    env: Environment,
    issue: Issue,
    post_ids: Sequence[str],
    images: MathImages | None,
) -> bytes:
    posts = load_posts(settings, connection, post_ids)
    view = IssueView(issue.number, issue.period, issue.subject, _date(settings, issue))
    context = {
        **_page_context(settings),
        "issue": view,
        "posts": [post_view(settings, post, images) for post in posts],
        "archive_url": "../",
        "canonical_url": view_url(settings, issue.number, issue.period),
    }
    return _page(env, ISSUE_TEMPLATE, context)


def _page(env: Environment, name: str, context: dict[str, Any]) -> bytes:
    return render_template(env, name, context).encode("utf-8")


def _page_context(settings: Settings) -> dict[str, Any]:
    """What every archive page sees: the site, its feeds and the subscribe page."""
    base = settings.feeds_url
    feeds = FeedUrls(base + "feed.xml", base + "atom.xml", base + "feed.json")
    subscribe = f"{settings.serve.url}/subscribe" if settings.serve.url else ""
    return {"site": settings.site, "feeds": feeds, "subscribe_url": subscribe}


def _entry(settings: Settings, issue: Issue) -> IssueEntry:
    date = _date(settings, issue)
    return IssueEntry(issue.number, date, issue.subject, len(issue.post_ids), f"{issue.number}/")


def _date(settings: Settings, issue: Issue) -> str:
    """The issue's date in the site's time zone: the day it was made, which stays put."""
    created = datetime.fromisoformat(issue.created)
    return created.astimezone(settings.site.zone).strftime("%Y-%m-%d")


def _common_input(settings: Settings, env: Environment) -> list[Any]:
    """What every page is made from besides its issues: versions, settings, templates."""
    sources = [_template_source(env, name) for name in (INDEX_TEMPLATE, ISSUE_TEMPLATE)]
    return [
        FORMAT_VERSION,
        __version__,
        settings.site.model_dump(mode="json"),
        settings.feeds_url,
        settings.serve.url,
        settings.digest.view_url,
        settings.digest.math,
        sources,
        i18n.catalog_version(settings.site.language),
    ]


def _template_source(env: Environment, name: str) -> str:
    assert env.loader is not None, "the digest's environment always has a loader"
    source, _filename, _uptodate = env.loader.get_source(env, name)
    return source


def _key(common: list[Any], *material: object) -> str:
    encoded = json.dumps([common, *material], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
