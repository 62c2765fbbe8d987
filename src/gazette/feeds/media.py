"""What each file of the output folder is, for a server: its media type."""

from __future__ import annotations

import mimetypes

from gazette.feeds.plan import FEED_FORMATS

# Every feed set is written as these three names; archive pages (archive/<n>.xml) are Atom.
FEED_TYPES = dict(
    zip(
        FEED_FORMATS,
        ("application/rss+xml", "application/atom+xml", "application/feed+json"),
        strict=True,
    )
)
ARCHIVE_FOLDER = "archive/"
_TEXTUAL = ("application/xml", "application/json", "application/javascript", "image/svg+xml")


def media_type(path: str) -> str:
    """The Content-Type of ``path`` (relative to the output folder, with /), with the
    charset for text: every text the build writes is UTF-8."""
    name = path.rpartition("/")[2]
    found = FEED_TYPES.get(name)
    if found is None and path.startswith(ARCHIVE_FOLDER) and name.endswith(".xml"):
        found = FEED_TYPES["atom.xml"]
    if found is None:
        found = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    if is_textual(found):
        return f"{found}; charset=utf-8"
    return found


def is_textual(media: str) -> bool:
    """Whether a media type is text (and worth compressing)."""
    media = media.partition(";")[0]
    return media.startswith("text/") or media in _TEXTUAL or media.endswith(("+xml", "+json"))
