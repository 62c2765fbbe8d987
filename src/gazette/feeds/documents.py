"""Feed documents made from the catalog: each post loaded and made a feed item once per
build (a bounded number kept), whichever feeds and pages it appears in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urljoin

from sqlalchemy import Connection

from gazette.catalog import load_posts
from gazette.config import Settings
from gazette.feeds.document import FeedDocument, History, Link
from gazette.feeds.items import FeedItem, feed_item
from gazette.feeds.plan import Head
from gazette.math_images import MathImages, with_images
from gazette.models import Post

CACHED_ITEMS = 2000


class Documents:
    """The feed documents of one build; ``images``: formulas drawn as images (when the
    feeds carry them so), else MathML."""

    def __init__(
        self, settings: Settings, connection: Connection, images: MathImages | None = None
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.images = images if settings.feeds.math == "image" else None
        self.base = settings.feeds_url
        self._items: dict[str, FeedItem] = {}

    def document(
        self,
        title: str,
        path: str,
        heads: Sequence[Head],
        links: Sequence[Link],
        history: History = "",
    ) -> FeedDocument:
        site = self.settings.site
        return FeedDocument(
            title=title,
            site_title=site.title,
            description=site.description,
            home_url=site.url,
            self_url=self.base + path,
            language=site.language,
            author=site.author,
            icon=self._icon(),
            items=self.items(heads),
            links=tuple(links),
            history=history,
        )

    def items(self, heads: Sequence[Head]) -> tuple[FeedItem, ...]:
        missing = [head.id for head in heads if head.id not in self._items]
        for post in load_posts(self.settings, self.connection, missing) if missing else ():
            if len(self._items) >= CACHED_ITEMS:
                self._items.pop(next(iter(self._items)))
            self._items[post.id] = self._item(post)
        return tuple(self._items[head.id] for head in heads if head.id in self._items)

    def _item(self, post: Post) -> FeedItem:
        full = self.settings.feeds.content == "full"
        if self.images is not None:
            post = replace(post, content_html=with_images(post.content_html, self.images))
        return feed_item(post, full, self.base + "series/", self.settings.site.authority)

    def _icon(self) -> str:
        icon = self.settings.feeds.icon
        return urljoin(self.base, icon) if icon else ""
