"""A generator's own syntax in a post's Markdown, turned into what the generator makes of it.

Each generator runs a template language over a post before (Jekyll's Liquid, Hexo's
Nunjucks tags) or around (Hugo's shortcodes) its Markdown. gazette renders the parts
whose output it can know from the site alone: links to other posts and pages, the site's
URLs, figures, highlighted code, text kept literal. Any other tag or shortcode would print
as syntax or need the site's theme, so it is left out and named in a finding at its
``path:line``. Liquid and Hugo apply everywhere in the body, code included; Hexo leaves
code spans and fenced code alone (gazette.catalog.liquid, gazette.catalog.shortcodes).

Only a source that names its generator is read this way; other Markdown keeps its text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gazette.catalog.expansion import Expansion, Linked, LinkedOf, cached
from gazette.catalog.generators import GeneratorSite
from gazette.catalog.liquid import expand_liquid
from gazette.catalog.shortcodes import expand_shortcodes
from gazette.models import Finding


@dataclass(frozen=True, slots=True)
class Expanded:
    """A body with its generator syntax expanded, the findings about what was left out,
    and the posts it links to (``"URL path"``: an unchanged file is read again when a post
    it links to has another URL now)."""

    body: str
    findings: list[Finding]
    links: tuple[str, ...]


def expand_generator_syntax(
    body: str,
    site: GeneratorSite,
    path: Path,
    shown: str,
    body_line: int,
    linked_of: LinkedOf,
    front_matter: Callable[[Path], dict[str, Any]],
) -> Expanded:
    """The body with its generator's tags or shortcodes expanded."""
    if "{{" not in body and "{%" not in body:
        return Expanded(body, [], ())
    links: list[str] = []
    reading = cached(linked_of)

    def linked(target: Path) -> Linked | None:
        found = reading(target)
        if found is not None:
            links.append(f"{found.url} {target}")
        return found

    expansion = Expansion(body, site, path, shown, body_line, linked, front_matter)
    text = expand_shortcodes(expansion) if site.generator == "hugo" else expand_liquid(expansion)
    return Expanded(text, expansion.noted(), tuple(dict.fromkeys(links)))
