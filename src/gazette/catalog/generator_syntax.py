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
from pathlib import Path
from typing import Any

from gazette.catalog.expansion import Expansion, LinkedOf, cached
from gazette.catalog.generators import GeneratorSite
from gazette.catalog.liquid import expand_liquid
from gazette.catalog.shortcodes import expand_shortcodes
from gazette.models import Finding


def expand_generator_syntax(
    body: str,
    site: GeneratorSite,
    path: Path,
    shown: str,
    body_line: int,
    linked_of: LinkedOf,
    front_matter: Callable[[Path], dict[str, Any]],
) -> tuple[str, list[Finding]]:
    """The body with its generator's tags or shortcodes expanded, and the findings about
    those left out."""
    if "{{" not in body and "{%" not in body:
        return body, []
    expansion = Expansion(body, site, path, shown, body_line, cached(linked_of), front_matter)
    text = expand_shortcodes(expansion) if site.generator == "hugo" else expand_liquid(expansion)
    return text, expansion.noted()
