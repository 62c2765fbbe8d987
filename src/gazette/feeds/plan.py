"""Which files a build writes, and from which posts: decided from post heads alone.

Every file gets an input key: a hash of everything it is made from. A file whose key
and size and mtime match the last build is neither rendered nor written again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from gazette import __version__
from gazette.catalog.identity import legacy_slug
from gazette.catalog.tables import PostHead
from gazette.config import Settings

# Bump when the bytes written for the same input change.
FORMAT_VERSION = "2"
FeedKind = Literal["main", "tag", "series"]
FEED_FORMATS = ("feed.xml", "atom.xml", "feed.json")


Head = PostHead  # a post as planning sees it: no rendered text


@dataclass(frozen=True, slots=True)
class FeedSet:
    """One subscription feed, written in each of FEED_FORMATS under ``directory``."""

    kind: FeedKind
    name: str  # the tag or series; empty for the main feed
    directory: str  # "", "tags/<slug>/" or "series/<slug>/"
    heads: tuple[Head, ...]  # newest first


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """RFC 5005 archive page ``number`` (1 is the oldest), entries newest first."""

    number: int
    heads: tuple[Head, ...]
    has_next: bool

    @property
    def path(self) -> str:
        return archive_path(self.number)


@dataclass
class BuildPlan:
    feed_sets: list[FeedSet] = field(default_factory=list)
    pages: list[ArchivePage] = field(default_factory=list)
    index: tuple[Head, ...] = ()


def archive_path(number: int) -> str:
    return f"archive/{number}.xml"


def make_plan(settings: Settings, heads: Iterable[Head]) -> BuildPlan:
    """``heads`` newest first."""
    config = settings.feeds
    newest: list[Head] = []
    by_tag: dict[str, list[Head]] = {}
    by_series: dict[str, list[Head]] = {}
    oldest_first: list[Head] = []
    for head in heads:
        if len(newest) < max(config.entries, config.index_posts):
            newest.append(head)
        for tag in head.tags:
            _keep_newest(by_tag.setdefault(tag, []), head, config.entries)
        if head.series:
            _keep_newest(by_series.setdefault(head.series, []), head, config.entries)
        oldest_first.append(head)
    oldest_first.reverse()
    plan = BuildPlan(index=tuple(newest[: config.index_posts]))
    plan.feed_sets.append(FeedSet("main", "", "", tuple(newest[: config.entries])))
    if config.tag_feeds:
        plan.feed_sets.extend(_named_sets("tag", "tags", by_tag))
    if config.series_feeds:
        plan.feed_sets.extend(_named_sets("series", "series", by_series))
    if config.archives:
        plan.pages = _archive_pages(oldest_first, config.archive_size)
    return plan


def _keep_newest(heads: list[Head], head: Head, limit: int) -> None:
    if len(heads) < limit:
        heads.append(head)


def _named_sets(kind: FeedKind, folder: str, groups: dict[str, list[Head]]) -> list[FeedSet]:
    """One set per name, in name order; names that slugify alike get -2, -3."""
    sets: list[FeedSet] = []
    taken: set[str] = set()
    for name in sorted(groups):
        # A feed's URL is in its subscribers' readers: tag and series folders keep the
        # character-by-character reading they have been published under.
        slug = base = legacy_slug(name)
        suffix = 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        sets.append(FeedSet(kind, name, f"{folder}/{slug}/", tuple(groups[name])))
    return sets


def _archive_pages(oldest_first: list[Head], size: int) -> list[ArchivePage]:
    # Pages fill from the oldest post, so a new post only ever lands on the last page
    # and a full page never changes again.
    chunks = [oldest_first[start : start + size] for start in range(0, len(oldest_first), size)]
    return [
        ArchivePage(number, tuple(reversed(chunk)), has_next=number < len(chunks))
        for number, chunk in enumerate(chunks, 1)
    ]


def input_key(settings: Settings, path: str, heads: Iterable[Head], *extra: object) -> str:
    """A hash of everything the file at ``path`` is made from."""
    material = [
        FORMAT_VERSION,
        __version__,
        settings.site.model_dump(),
        settings.feeds.model_dump(exclude={"output"}),
        path,
        [head.record_hash for head in heads],
        [str(part) for part in extra],
    ]
    encoded = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()
