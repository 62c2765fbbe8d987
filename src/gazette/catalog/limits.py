"""What one source may ask of the machine: how large a file is, how deep a document nests.

A blog post nests a few levels (a feed, its items, an item's tags); a document nested
hundreds deep is an attack on the parser, and Python's parsers recurse. Past the limit a
document is refused with a finding, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_NESTING = 100  # JSON arrays and objects, XML elements, front matter values
MEGABYTE = 1024 * 1024
# HTML elements that nest no content, or that the parser closes by itself when the next
# one starts: they do not count towards a post's depth.
_FLAT_ELEMENTS = frozenset(
    """area base br col embed hr img input link meta param source track wbr p li dt dd
    option optgroup tr td th tbody thead tfoot rt rp""".split()
)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")


class TooDeep(ValueError):
    """A document nests deeper than MAX_NESTING."""

    def __init__(self) -> None:
        super().__init__(
            f"nested more than {MAX_NESTING} levels deep, which no post needs; "
            "flatten the structure"
        )


def load_json(text: str | bytes) -> Any:
    """``json.loads``, with nesting past MAX_NESTING raising TooDeep."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise TooDeep from None
    check_nesting(value)
    return value


def check_nesting(value: Any) -> None:
    """Raises TooDeep when lists and dicts in ``value`` nest past MAX_NESTING."""
    # YAML anchors share one list among many parents (and can make a list contain itself):
    # a container is walked again only when reached deeper than before.
    deepest: dict[int, int] = {}
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, (dict, list)) or deepest.get(id(item), 0) >= depth:
            continue
        if depth > MAX_NESTING:
            raise TooDeep
        deepest[id(item)] = depth
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)


def size_limit(max_file_mb: float) -> int:
    """``catalog.max_file_mb`` in bytes."""
    return int(max_file_mb * MEGABYTE)


def too_large(what: str, max_file_mb: float, config: Path) -> str:
    """The message of a source over ``catalog.max_file_mb``; ``what`` says how large it is."""
    return (
        f"{what}, over catalog.max_file_mb = {max_file_mb:g}; skipped. Split it, or raise "
        f"max_file_mb in the [catalog] table of {config}"
    )


def megabytes(size: int) -> str:
    """A size as people read it: 52.43 MB (54,976,512 bytes)."""
    return f"{size / MEGABYTE:.2f} MB ({size:,} bytes)"


def html_nests_too_deep(markup: str) -> bool:
    """Whether ``markup`` nests elements more than MAX_NESTING deep (HTML parsers, and
    the sanitizer's, slow down with the square of the depth)."""
    if markup.count("<") <= MAX_NESTING:
        return False
    depth = 0
    for tag in _TAG.finditer(markup):
        if tag.group(2).lower() in _FLAT_ELEMENTS:
            continue
        depth += -1 if tag.group(1) else 1
        if depth > MAX_NESTING:
            return True
    return False
