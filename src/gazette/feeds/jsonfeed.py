"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), from the same document."""

from __future__ import annotations

import json
from typing import Any

from gazette.feeds.document import FeedDocument
from gazette.feeds.items import FeedItem

VERSION = "https://jsonfeed.org/version/1.1"


def render_json_feed(document: FeedDocument) -> bytes:
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": document.title,
        "home_page_url": document.home_url,
        "feed_url": document.self_url,
    }
    if document.description:
        feed["description"] = document.description
    if document.icon:
        feed["icon"] = document.icon
    if document.author:
        feed["authors"] = [{"name": document.author}]
    feed["language"] = document.language
    hub = document.link("hub")
    if hub:
        feed["hubs"] = [{"type": "WebSub", "url": hub}]
    feed["items"] = [_item(item, document.language) for item in document.items]
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _item(item: FeedItem, feed_language: str) -> dict[str, Any]:
    post = item.post
    entry: dict[str, Any] = {"id": item.entry_id, "url": post.url, "title": item.title}
    if item.content_html:
        entry["content_html"] = item.content_html
    else:
        entry["content_text"] = item.summary
    if item.summary.strip():
        entry["summary"] = item.summary
    entry["date_published"] = post.published.isoformat()
    entry["date_modified"] = post.updated.isoformat()
    if item.categories:
        entry["tags"] = [term for term, _scheme in item.categories]
    if item.authors:  # without them, the feed's authors stand for the item's
        entry["authors"] = [{"name": name} for name in item.authors]
    if post.lang and post.lang != feed_language:
        entry["language"] = post.lang
    return entry
