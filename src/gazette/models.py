"""The typed data every stage passes on: frozen, tz-aware, free of I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

Severity = Literal["error", "warning", "info"]
SubscriberStatus = Literal["pending", "active", "unsubscribed", "bounced"]
SUBSCRIBER_STATUSES: tuple[str, ...] = get_args(SubscriberStatus)


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure of a post: its caption (or alt text) and, when known, the image's URL."""

    caption: str
    src: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """Something `gazette check` reports: what, where (path:line) and how bad."""

    severity: Severity
    message: str
    location: str = ""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.label}: {self.message}"

    @property
    def label(self) -> str:
        """The severity as `check` words it: error, warning or note."""
        return "note" if self.severity == "info" else self.severity


@dataclass(frozen=True, slots=True)
class Post:
    """One normalized post of the catalog."""

    id: str
    slug: str
    url: str
    title: str
    published: datetime
    updated: datetime
    summary_html: str
    summary_text: str
    content_html: str
    content_text: str
    title_inferred: bool = False
    tags: tuple[str, ...] = ()
    series: str = ""
    series_index: int | None = None
    figures: tuple[Figure, ...] = ()
    authors: tuple[str, ...] = ()  # the post's own; the feeds fall back to site.author
    lang: str = ""
    sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def is_visible(self, now: datetime) -> bool:
        """A post dated in the future stays out of feeds and digests until its time."""
        return self.published <= now


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula as written and, when it converted, its MathML (``error`` otherwise)."""

    tex: str
    display: bool
    mathml: str = ""
    error: str = ""


# Bump when the MathML made from the same TeX changes, so stored conversions are redone.
CONVERSION_VERSION = "3"


def formula_key(tex: str, display: bool) -> str:
    material = f"{CONVERSION_VERSION}:{int(display)}{tex}"
    return hashlib.sha1(material.encode(), usedforsecurity=False).hexdigest()
