"""What a static site generator's front matter means beyond gazette's own keys: which
keys it gives a meaning to, where a Jekyll post's excerpt ends, when a post has a newer
date under another name, and which posts the generator publishes no page for."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

from gazette.catalog.draft import Draft
from gazette.catalog.generators import GeneratorSite, jekyll_folder_categories

# Front matter keys a generator gives meaning to that gazette reads, or leaves on purpose
# (Hugo's aliases are redirects to the page: its one URL is the one feeds carry).
GENERATOR_KEYS: dict[str, frozenset[str]] = {
    "jekyll": frozenset(
        {"excerpt", "excerpt_separator", "last_modified_at", "layout", "published"}
    ),
    "hugo": frozenset({"aliases", "expirydate", "lastmod"}),
    "hexo": frozenset({"layout", "published"}),
}


# Where a generator's posts say when they were last changed, besides gazette's "updated"
# (Hugo's lastmod; jekyll-feed, Jekyll's feed, writes last_modified_at as <updated>).
_UPDATED_KEYS = {"hugo": "lastmod", "jekyll": "last_modified_at"}


def updated_key(generator: str, meta: dict[str, Any]) -> str:
    """The front matter key of the post's last change: "updated", or the generator's."""
    own = _UPDATED_KEYS.get(generator)
    if "updated" in meta or own is None:
        return "updated"
    return next((str(k) for k in meta if str(k).lower() == own), "updated")


def unused_keys(generator: str, keys: set[str]) -> set[str]:
    """Of ``keys`` (not gazette's own), those the generator gives no meaning to either."""
    known = GENERATOR_KEYS.get(generator, frozenset())
    return {key for key in keys if key not in known and key.lower() not in known}


def jekyll_excerpt(site: GeneratorSite | None, meta: dict[str, Any], body: str) -> str:
    """A Jekyll post's excerpt when it says where it ends: front matter ``excerpt``, else
    the text before ``excerpt_separator`` (the post's, else _config.yml's); "" otherwise."""
    if isinstance(meta.get("excerpt"), str):
        return str(meta["excerpt"])
    separator = meta.get("excerpt_separator") or (site.excerpt_separator if site else "")
    if isinstance(separator, str) and separator and separator in body:
        return body[: body.index(separator)]
    return ""


def left_out(generator: str, meta: dict[str, Any], start_of_today: datetime) -> str:
    """Why the generator publishes no page for this post today ("" when it does)."""
    if generator in ("jekyll", "hexo") and meta.get("published") is False:
        return f"published: false: skipped, as {generator.capitalize()} does"
    if generator == "hugo":
        expiry = next((v for k, v in meta.items() if str(k).lower() == "expirydate"), None)
        when = _as_datetime(expiry, start_of_today.tzinfo or UTC)
        if when is not None and when <= start_of_today:
            return f"expiryDate {when:%Y-%m-%d} has passed: skipped, as Hugo does"
    return ""


def _as_datetime(value: Any, zone: tzinfo) -> datetime | None:
    """A front matter date (YAML and TOML give dates, datetimes or text)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def site_conventions(
    draft: Draft, meta: dict[str, Any], site: GeneratorSite | None, path: Path
) -> Draft:
    """What a generator's site adds to a post: Jekyll's excerpt and folder categories."""
    if site is None or site.generator != "jekyll":
        return draft
    excerpt = "" if meta.get("summary") else jekyll_excerpt(site, meta, draft.body)
    tags = tuple(dict.fromkeys(jekyll_folder_categories(site, path) + draft.tags))
    return replace(draft, summary=excerpt or draft.summary, tags=tags)
