"""What a source reader yields: a post as written, before rendering and identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from gazette.catalog.text import Placeholders, placeholders
from gazette.models import Figure, Finding, Post

Markup = Literal["listing", "markdown", "html"]


@dataclass(frozen=True, slots=True)
class Draft:
    """A post as one source states it. ``location`` is ``path:line``."""

    location: str
    title: str
    body: str
    markup: Markup
    published: datetime | None
    updated: datetime | None = None
    summary: str = ""
    title_inferred: bool = False
    date_inferred: bool = False
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    series: str = ""
    series_index: int | None = None
    slug: str = ""
    url: str = ""  # the page a static site generator makes of it; else site.post_url's
    id: str = ""
    lang: str = ""
    warnings: tuple[str, ...] = ()
    rendered: Post | None = None  # a jsonl record carries its rendering
    math: tuple[str, ...] = ()  # Markdown math conventions the source names (catalog.mdmath)
    links: tuple[str, ...] = ()  # "URL path" of each post the generator syntax linked to


@dataclass(frozen=True, slots=True)
class Rendering:
    """A body turned into HTML whose formulas are placeholders (``marks``)."""

    html: str
    formulas: tuple[tuple[str, bool], ...] = ()  # (TeX, display) for placeholder N
    figures: tuple[Figure, ...] = ()
    summary_html: str = ""  # an explicit summary (same placeholders), when the source has one
    marks: Placeholders = field(default_factory=placeholders)
    warnings: tuple[str, ...] = ()


@dataclass
class ReadResult:
    """Everything read from one source: its drafts and what was noticed on the way."""

    drafts: list[Draft] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
