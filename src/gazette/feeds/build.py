"""`gazette build`: the catalog written out as feeds, archive pages and an index."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from gazette.catalog.tables import iter_post_heads
from gazette.config import Settings
from gazette.digest.ledger import ARCHIVE_FOLDER, sent_issue_numbers
from gazette.feeds.atom import ATOM_TYPE, render_atom
from gazette.feeds.document import FeedDocument, History, Link
from gazette.feeds.documents import Documents
from gazette.feeds.index import FeedLinks, render_index
from gazette.feeds.jsonfeed import render_json_feed
from gazette.feeds.output import OutputFolder, locked_output
from gazette.feeds.plan import (
    FEED_FORMATS,
    ArchivePage,
    BuildPlan,
    FeedSet,
    archive_path,
    input_key,
    make_plan,
)
from gazette.feeds.rss import render_rss
from gazette.feeds.tables import load_feed_files, save_feed_files
from gazette.feeds.workers import (
    PageJob,
    can_render_elsewhere,
    render_page,
    rendered_elsewhere,
)
from gazette.math_images import MathImages, keep_referenced
from gazette.store import Store

RENDERERS: dict[str, Callable[[FeedDocument], bytes]] = {
    "feed.xml": render_rss,
    "atom.xml": render_atom,
    "feed.json": render_json_feed,
}


@dataclass
class BuildReport:
    written: list[str] = field(default_factory=list)
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    pinged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_feeds(settings: Settings, store: Store, now: datetime) -> BuildReport:
    """Writes every feed whose input changed; see the output module for the guarantees."""
    output = settings.resolve(settings.feeds.output)
    with locked_output(output) as root, store.transaction() as connection:
        folder = OutputFolder(root, load_feed_files(connection))
        plan = make_plan(settings, iter_post_heads(connection, now))

        images = _images(settings, root)

        def stage() -> None:
            _Builder(settings, connection, folder, images).build(plan)
            _stage_issue_archive(settings, connection, folder, images)
            _stage_images(folder, images)

        written, removed = _staged_and_committed(folder, connection, stage)
    report = BuildReport(written, len(folder.kept), removed)
    _ping(settings, report)
    return report


def write_issue_archive(settings: Settings, store: Store) -> BuildReport:
    """Writes the archive of sent issues alone, as after a send; every other file the
    last build wrote stays as it is (waiting for a build that holds the folder)."""
    output = settings.resolve(settings.feeds.output)
    with locked_output(output, wait=True) as root, store.transaction() as connection:
        previous = load_feed_files(connection)
        folder = OutputFolder(root, previous)
        for path, record in previous.items():
            if not path.startswith(ARCHIVE_FOLDER):
                folder.records[path] = record
        images = _images(settings, root)

        def stage() -> None:
            _stage_issue_archive(settings, connection, folder, images)
            _stage_images(folder, images)

        written, removed = _staged_and_committed(folder, connection, stage)
    return BuildReport(written, len(folder.kept), removed)


def write_math_images(settings: Settings, store: Store, images: MathImages | None) -> None:
    """Writes the formula images a digest drew; every other file stays as it is."""
    if images is None or not images.fresh:
        return
    output = settings.resolve(settings.feeds.output)
    with locked_output(output, wait=True) as root, store.transaction() as connection:
        previous = load_feed_files(connection)
        folder = OutputFolder(root, previous)
        folder.records.update(previous)
        _staged_and_committed(folder, connection, lambda: images.stage(folder))


def _images(settings: Settings, root: Path) -> MathImages | None:
    if "image" not in (settings.digest.math, settings.feeds.math):
        return None
    return MathImages(root, settings.feeds_url)


def _stage_images(folder: OutputFolder, images: MathImages | None) -> None:
    if images is not None:
        images.stage(folder)
    keep_referenced(folder)


def _staged_and_committed(
    folder: OutputFolder, connection: Connection, stage: Callable[[], None]
) -> tuple[list[str], list[str]]:
    """Runs ``stage``, then puts every staged file in place and records the folder's
    files; when staging fails, nothing staged is kept. (written, removed)."""
    try:
        stage()
    except BaseException:
        folder.discard()
        raise
    written, removed = folder.commit()
    if folder.records != folder.previous:  # else the table holds these very rows
        save_feed_files(connection, folder.records)
    return written, removed


def _stage_issue_archive(
    settings: Settings, connection: Connection, folder: OutputFolder, images: MathImages | None
) -> None:
    """The archive of sent issues: nothing before the first issue goes out (its templates
    and their languages are loaded only then)."""
    if not sent_issue_numbers(connection):
        return
    from gazette.digest.archive import archive_files  # noqa: PLC0415 - see the docstring

    for file in archive_files(settings, connection, images):
        if not folder.keep_if_current(file.path, file.key):
            folder.stage(file.path, file.render(), file.key)


def _ping(settings: Settings, report: BuildReport) -> None:
    hub = settings.feeds.websub_hub
    changed = [path for path in report.written if path.endswith(FEED_FORMATS)]
    if hub and changed:
        from gazette.feeds.websub import ping_hub  # noqa: PLC0415 - httpx, for a hub alone

        urls = [settings.feeds_url + path for path in changed]
        report.warnings.extend(ping_hub(hub, urls, settings.feeds.websub_timeout))
        report.pinged = urls


class _Builder:
    def __init__(
        self,
        settings: Settings,
        connection: Connection,
        folder: OutputFolder,
        images: MathImages | None = None,
    ) -> None:
        self.settings = settings
        self.folder = folder
        self.base = settings.feeds_url
        self.documents = Documents(settings, connection, images)

    def build(self, plan: BuildPlan) -> None:
        newest_archive = archive_path(len(plan.pages)) if plan.pages else ""
        due = self._due_pages(plan.pages)
        with self._rendering(due) as pages:  # many: by workers, as the feeds render here
            for feed_set in plan.feed_sets:
                self._feed_set(feed_set, newest_archive)
            for (job, key), data in zip(due, pages, strict=True):
                self.folder.stage(job.path, data, key)
        self._index(plan, newest_archive)

    def _feed_set(self, feed_set: FeedSet, newest_archive: str) -> None:
        links = self._hub_links()
        if feed_set.kind == "main" and newest_archive:
            links.append(Link("prev-archive", self.base + newest_archive, ATOM_TYPE))
        site_title = self.settings.site.title
        title = f"{site_title} · {feed_set.name}" if feed_set.name else site_title
        for name in FEED_FORMATS:
            path = feed_set.directory + name
            key = input_key(self.settings, path, feed_set.heads, *links)
            if self.folder.keep_if_current(path, key):
                continue
            document = self.documents.document(title, path, feed_set.heads, links)
            self.folder.stage(path, RENDERERS[name](document), key)

    def _due_pages(self, pages: Sequence[ArchivePage]) -> list[tuple[PageJob, str]]:
        """The archive pages whose input changed, with their input keys."""
        due = []
        for page in pages:
            links, history = self._archive_links(page)
            key = input_key(self.settings, page.path, page.heads, history, *links)
            if not self.folder.keep_if_current(page.path, key):
                title = f"{self.settings.site.title} · archive {page.number}"
                due.append((PageJob(title, page.path, page.heads, tuple(links), history), key))
        return due

    def _rendering(self, due: list[tuple[PageJob, str]]) -> AbstractContextManager[Iterator[bytes]]:
        """The pages' bytes, in order: rendered by worker processes when there are many,
        else here, one by one as they are asked for."""
        jobs = [job for job, _ in due]
        if can_render_elsewhere(self.settings, jobs):
            return rendered_elsewhere(self.settings, jobs, self._page)
        return nullcontext(self._page(job) for job in jobs)

    def _page(self, job: PageJob) -> bytes:
        return render_page(self.documents, job)

    def _archive_links(self, page: ArchivePage) -> tuple[list[Link], History]:
        # A lone page holds every post: RFC 5005 calls that a complete feed, and a complete
        # feed carries no archive links (the W3C validator rejects a `current` other than
        # itself there, and warns about an fh:archive page with no prev or next page).
        if page.number == 1 and not page.has_next:
            return [], "complete"
        links = [Link("current", self.base + "atom.xml", ATOM_TYPE)]
        if page.number > 1:
            links.append(Link("prev-archive", self.base + archive_path(page.number - 1)))
        if page.has_next:
            links.append(Link("next-archive", self.base + archive_path(page.number + 1)))
        return links, "archive"

    def _index(self, plan: BuildPlan, newest_archive: str) -> None:
        feeds = [self._feed_links(feed_set) for feed_set in plan.feed_sets]
        key = input_key(self.settings, "index.html", plan.index, newest_archive, *feeds)
        if self.folder.keep_if_current("index.html", key):
            return
        posts = [item.post for item in self.documents.items(plan.index)]
        archive_url = self.base + newest_archive if newest_archive else ""
        self.folder.stage("index.html", render_index(self.settings, posts, feeds, archive_url), key)

    def _feed_links(self, feed_set: FeedSet) -> FeedLinks:
        url = self.base + feed_set.directory
        title = feed_set.name or self.settings.site.title
        return FeedLinks(
            title, feed_set.kind, url + "feed.xml", url + "atom.xml", url + "feed.json"
        )

    def _hub_links(self) -> list[Link]:
        hub = self.settings.feeds.websub_hub
        return [Link("hub", hub)] if hub else []
