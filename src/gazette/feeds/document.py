"""One feed document, fully resolved: what the RSS, Atom and JSON Feed writers share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from gazette.feeds.items import FeedItem

# RFC 5005's marker in a feed's head: an archive page (fh:archive), or a document that
# holds every entry of the feed (fh:complete). RFC 5005 leaves a document carrying both
# undefined, so a page is one or the other.
History = Literal["", "archive", "complete"]

# The date of a feed with no entries: a constant, so an empty feed is byte-stable too.
EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Link:
    rel: str
    href: str
    type: str = ""

    def attributes(self) -> dict[str, str]:
        attributes = {"rel": self.rel, "href": self.href}
        if self.type:
            attributes["type"] = self.type
        return attributes


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """A feed's metadata and entries, newest first. ``links`` are those beyond
    self and alternate: the WebSub hub and RFC 5005's archive links."""

    title: str
    site_title: str  # who the feed is by when the site names no author
    description: str
    home_url: str
    self_url: str
    language: str
    author: str
    icon: str
    items: tuple[FeedItem, ...]
    links: tuple[Link, ...] = ()
    history: History = ""  # RFC 5005 pages only; subscription feeds carry no marker

    @property
    def updated(self) -> datetime:
        """The newest change among the entries: derived from content, never the clock."""
        return max((item.post.updated for item in self.items), default=EMPTY_FEED_DATE)

    @property
    def feed_id(self) -> str:
        return self.self_url

    def link(self, rel: str) -> str:
        return next((link.href for link in self.links if link.rel == rel), "")
