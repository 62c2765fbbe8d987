"""feedgen 1.0.0, with its known faults worked around in one place.

- Atom entry links lose ``rel`` and ``type`` (python-feedgen #135): the entry extension
  writes them back from the link data feedgen kept.
- RSS drops every channel link but ``self``, and takes the channel ``<link>`` from the
  last link added (#122): hub and archive links go in through the feed extension, and
  the site link is always added last.
- ``updated`` and ``lastBuildDate`` default to now: callers always set them from content.
- Entries are prepended unless told otherwise: callers add them with ``order="append"``.
- Characters XML 1.0 forbids make lxml raise: callers pass text through ``xml_text``.
- RFC 822 dates are formatted after ``locale.setlocale``, which is process-wide and not
  thread-safe: the formatter below is swapped for the locale-free one of ``email.utils``.
"""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any

import feedgen.entry
import feedgen.feed
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EXTENSION = "gazette"


def _rfc822(moment: datetime) -> str:
    return email.utils.format_datetime(moment)


feedgen.feed.formatRFC2822 = _rfc822
feedgen.entry.formatRFC2822 = _rfc822


class FeedExtension(BaseExtension):  # type: ignore[misc]
    """Channel links RSS would drop, and RFC 5005's marker (``archive`` or ``complete``)."""

    def __init__(self) -> None:
        self.rss_links: list[dict[str, str]] = []
        self.history = ""

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self.history else {}

    def extend_rss(self, rss_feed: etree._Element) -> etree._Element:
        channel = rss_feed[0]
        for link in self.rss_links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", attrib=link)
        return rss_feed

    def extend_atom(self, atom_feed: etree._Element) -> etree._Element:
        if self.history:
            etree.SubElement(atom_feed, f"{{{HISTORY_NS}}}{self.history}")
        return atom_feed


class EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Atom entry links as they were given (#135), and a post's own language."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.lang = ""

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        # feedgen builds Atom elements without a namespace and declares it on the root.
        written = entry.findall("link")
        for element, link in zip(written, self.links, strict=False):
            for name, value in link.items():
                element.set(name, value)
        if self.lang:
            entry.set(XML_LANG, self.lang)
        return entry

    def extend_rss(self, item: etree._Element) -> etree._Element:
        return item


def new_generator() -> FeedGenerator:
    generator = FeedGenerator()
    generator.register_extension(EXTENSION, FeedExtension, EntryExtension)
    generator.generator("gazette")
    return generator


def feed_extension(generator: FeedGenerator) -> FeedExtension:
    extension: FeedExtension = getattr(generator, EXTENSION)
    return extension


def entry_extension(entry: Any) -> EntryExtension:
    extension: EntryExtension = getattr(entry, EXTENSION)
    return extension
