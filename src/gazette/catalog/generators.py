"""What a static site generator's conventions change in reading its Markdown posts.

A Markdown source may name the generator that builds the blog (``generator = "jekyll"``);
its posts are then read by that generator's rules, not gazette's defaults:

- Jekyll names a post ``YYYY-MM-DD-slug.md``: the date comes from the name with no need
  to say so, and a post without a title is titled from the slug ("Diffusion Models").
- Jekyll reads ``tags`` and ``categories`` given as one string as space-separated words.
- Jekyll's Markdown is kramdown, whose ``$$`` inside a sentence is inline math.
"""

from __future__ import annotations

import re
from typing import Literal

Generator = Literal["jekyll"]
GENERATORS: tuple[Generator, ...] = ("jekyll",)
# Jekyll's own pattern for a post's file name (Jekyll::Document::DATE_FILENAME_MATCHER).
_JEKYLL_POST = re.compile(r"^(?:.+/)*(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$")


def implied_math(generator: str) -> tuple[str, ...]:
    """The math conventions (gazette.catalog.mdmath) a generator's Markdown follows."""
    return ("kramdown",) if generator == "jekyll" else ()


def is_jekyll_post_name(path: str) -> bool:
    """Whether the file is named as Jekyll names posts, its date first."""
    return _JEKYLL_POST.match(path.replace("\\", "/")) is not None


def title_from_file_name(path: str) -> str:
    """Jekyll's title for a post that has none: the slug of its name, words capitalized."""
    found = _JEKYLL_POST.match(path.replace("\\", "/"))
    slug = found.group(2) if found else path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return " ".join(word.capitalize() for word in slug.split("-") if word)


def split_words(value: str, generator: str) -> tuple[str, ...]:
    """Tags or categories given as one string: Jekyll splits them at spaces, others at
    commas."""
    parts = value.split() if generator == "jekyll" else value.split(",")
    return tuple(part.strip() for part in parts if part.strip())
