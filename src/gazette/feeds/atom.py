"""Atom 1.0 (RFC 4287): content as namespaced XHTML, where MathML is welcome."""

from __future__ import annotations

from typing import Any

from gazette.feeds._feedgen import entry_extension, feed_extension, new_generator
from gazette.feeds.document import FeedDocument
from gazette.feeds.items import FeedItem, xhtml_inner

ATOM_TYPE = "application/atom+xml"


def render_atom(document: FeedDocument) -> bytes:
    generator = new_generator()
    generator.id(document.feed_id)
    generator.title(document.title)
    if document.description:
        generator.subtitle(document.description)
    generator.language(document.language)
    generator.updated(document.updated)
    generator.author(name=document.author or document.site_title)
    generator.link(href=document.self_url, rel="self", type=ATOM_TYPE)
    generator.link(href=document.home_url, rel="alternate", type="text/html")
    for link in document.links:
        generator.link(link.attributes())
    if document.icon:
        generator.icon(document.icon)
    feed_extension(generator).history = document.history
    for item in document.items:
        _add_entry(generator, item, document.language)
    xml: bytes = generator.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return xml


def _add_entry(generator: Any, item: FeedItem, feed_language: str) -> None:
    post = item.post
    entry = generator.add_entry(order="append")
    entry.id(item.entry_id)
    entry.title(item.title)
    entry.published(post.published)
    entry.updated(post.updated)
    link = {"href": post.url, "rel": "alternate", "type": "text/html"}
    entry.link(link)
    extension = entry_extension(entry)
    extension.links = [link]
    if post.lang and post.lang != feed_language:
        extension.lang = post.lang
    if item.summary.strip():
        entry.summary(item.summary, type="text")
    if item.content_html:
        entry.content(xhtml_inner(item.content_html), type="xhtml")
    for term, scheme in item.categories:
        entry.category(term=term, scheme=scheme or None, label=term)
    for name in item.authors:  # without one, the feed's author stands for the entry's
        entry.author(name=name)
