"""Bare URLs in Markdown as links, the way generators' Markdown (GFM autolinks) finds them.

linkify-it reads on through CJK punctuation (``见https://example.org/a，然后``), since a
URL may hold other scripts' letters: a URL here ends at a space or at CJK punctuation,
where a Chinese sentence goes on. As in GFM, a link without a scheme must start with
``www.`` (a bare ``setup.py`` is a file name, not a host in Paraguay).
"""

from __future__ import annotations

import re
from typing import Any

from linkify_it import LinkifyIt

# CJK symbols and punctuation, full-width forms' punctuation, and the corner brackets.
_STOPS = re.compile(
    r"[\s\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2026]"
)


# What every link kept here holds: a scheme's colon (or a scheme-relative //), the www. of
# a schemeless one, or an e-mail address's @. linkify-it's own pretest (an expression over
# every top-level domain) is a quarter of rendering a page of CJK prose, which has none.
_MAY_LINK = re.compile(r"[:@]|//|www\.", re.IGNORECASE)


class CjkLinkify(LinkifyIt):  # type: ignore[misc]
    """linkify-it whose links stop at CJK punctuation and keep to GFM's schemeless rule."""

    def pretest(self, text: str) -> bool:
        return _MAY_LINK.search(text) is not None and bool(super().pretest(text))

    def match(self, text: str) -> list[Any] | None:
        found = []
        start = 0
        for stop in [*(m.start() for m in _STOPS.finditer(text)), len(text)]:
            if stop > start:
                found.extend(self._shifted(text[start:stop], start))
            start = stop + 1
        return found or None

    def match_at_start(self, text: str) -> Any:
        cut = _STOPS.search(text)
        match = super().match_at_start(text[: cut.start()] if cut else text)
        return match if match is None or _wanted(match) else None

    def _shifted(self, segment: str, offset: int) -> list[Any]:
        matches = [m for m in super().match(segment) or [] if _wanted(m)]
        for match in matches:
            match.index += offset
            match.last_index += offset
        return matches


def _wanted(match: Any) -> bool:
    return bool(match.schema) or str(match.raw).lower().startswith("www.")
