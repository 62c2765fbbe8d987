"""RSS 2.0 with content:encoded, following the RSS Advisory Board's profile."""

from __future__ import annotations

from typing import Any

from gazette.feeds._feedgen import feed_extension, new_generator
from gazette.feeds.document import FeedDocument
from gazette.feeds.items import FeedItem, plain_html

# The profile asks for & and < in plain-text elements as hexadecimal character
# references. lxml writes &amp; and &lt;, so plain text carries stand-ins for them
# (from a private-use plane; XML-legal, so lxml leaves them alone) until serialized.
_AMPERSAND, _LESS_THAN = "\U000f0026", "\U000f003c"


def plain(text: str) -> str:
    return text.replace("&", _AMPERSAND).replace("<", _LESS_THAN)


def render_rss(document: FeedDocument) -> bytes:
    generator = new_generator()
    generator.load_extension("dc", atom=False, rss=True)
    generator.title(plain(document.title))
    generator.description(plain(document.description or document.title))
    generator.language(document.language)
    generator.lastBuildDate(document.updated)
    generator.link(href=document.self_url, rel="self", type="application/rss+xml")
    # The channel <link> is taken from the last link added (python-feedgen #122).
    generator.link(href=document.home_url, rel="alternate")
    feed_extension(generator).rss_links = [link.attributes() for link in document.links]
    if document.icon:
        generator.image(url=document.icon, title=plain(document.title), link=document.home_url)
    for item in document.items:
        _add_item(generator, item, document.author)
    xml: bytes = generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return xml.replace(_AMPERSAND.encode(), b"&#x26;").replace(_LESS_THAN.encode(), b"&#x3C;")


def _add_item(generator: Any, item: FeedItem, author: str) -> None:
    post = item.post
    entry = generator.add_entry(order="append")
    entry.title(plain(item.title))
    entry.link(href=post.url)
    # A guid is a permalink only when it is the post's URL; tag URIs are not links.
    entry.guid(item.entry_id, permalink=item.entry_id == post.url)
    entry.pubDate(post.published)
    if item.summary.strip():
        entry.description(plain_html(item.summary))
    if item.content_html:
        entry.content(item.content_html)
    for term, scheme in item.categories:
        entry.category(term=plain(term), scheme=scheme or None)
    authors = item.authors or ((author,) if author else ())
    if authors:
        entry.dc.dc_creator([plain(name) for name in authors])
