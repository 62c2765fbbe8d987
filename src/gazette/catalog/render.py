"""A draft's body to safe HTML and plain text, for both its summary and its content."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from gazette.catalog.blocks import render_listing
from gazette.catalog.draft import Draft, Rendering
from gazette.catalog.limits import MAX_NESTING, html_nests_too_deep
from gazette.catalog.markdown_html import render_markdown
from gazette.catalog.math import MathConverter, fallback_html
from gazette.catalog.sanitize import sanitize
from gazette.catalog.text import Placeholders, display_width, excerpt_html, html_to_text
from gazette.models import Figure, Formula

# Bump when rendering changes, so stored renderings are redone once.
RENDER_VERSION = "3"
_TOO_DEEP = (
    f"the HTML nests elements more than {MAX_NESTING} deep, which no post needs: it is "
    "shown as source text; flatten it"
)


@dataclass(frozen=True, slots=True)
class Rendered:
    summary_html: str
    summary_text: str
    content_html: str
    content_text: str
    figures: tuple[Figure, ...]
    warnings: tuple[str, ...]


def render_key(draft: Draft, excerpt_width: int) -> str:
    """Everything a rendering depends on: equal keys give equal renderings."""
    math = ",".join(draft.math)
    parts = (RENDER_VERSION, draft.markup, math, str(excerpt_width), draft.summary, draft.body)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def render_draft(draft: Draft, converter: MathConverter, excerpt_width: int) -> Rendered:
    """Safe HTML and plain text of a draft's content and summary; formulas as MathML."""
    return finish_rendering(draft, render_markup(draft), converter, excerpt_width)


def finish_rendering(
    draft: Draft, rendering: Rendering, converter: MathConverter, excerpt_width: int
) -> Rendered:
    """The second half of render_draft, once the formulas' stored conversions are loaded."""
    if draft.rendered is not None:
        return _rendered_again(draft, excerpt_width)
    formulas = [converter.convert(tex, display) for tex, display in rendering.formulas]
    rendering, too_deep = _flattened(rendering)
    marks = rendering.marks
    content = sanitize(rendering.html, marks)
    summary = sanitize(rendering.summary_html, marks).strip()
    if not summary:
        excerpt, _ = excerpt_html(content, excerpt_width, _width_of(formulas), marks)
        summary = sanitize(excerpt, marks)
    warnings = too_deep + rendering.warnings + tuple(
        f"formula ${f.tex}$ was not converted ({f.error}); it is shown as TeX"
        for f in _unique(formulas)
        if f.error
    )
    return Rendered(
        summary_html=with_formulas(summary, formulas, marks),
        summary_text=html_to_text(summary, _text_of(formulas), marks),
        content_html=with_formulas(content, formulas, marks),
        content_text=html_to_text(content, _text_of(formulas), marks),
        figures=rendering.figures,
        warnings=warnings,
    )


def _flattened(rendering: Rendering) -> tuple[Rendering, tuple[str, ...]]:
    """The rendering, with HTML nested past the limit shown as its source text instead."""
    if not (html_nests_too_deep(rendering.html) or html_nests_too_deep(rendering.summary_html)):
        return rendering, ()
    shown = replace(
        rendering,
        html=_as_source(rendering.html),
        summary_html=_as_source(rendering.summary_html) if rendering.summary_html else "",
    )
    return shown, (_TOO_DEEP,)


def _as_source(markup: str) -> str:
    return f"<pre>{html.escape(markup, quote=False)}</pre>"


def _rendered_again(draft: Draft, excerpt_width: int) -> Rendered:
    """A post that arrives rendered (JSON Lines) is only sanitized again."""
    assert draft.rendered is not None
    post = draft.rendered
    warnings: tuple[str, ...] = ()
    if html_nests_too_deep(post.content_html) or html_nests_too_deep(post.summary_html):
        post = replace(post, content_html=_as_source(post.content_html), summary_html="")
        warnings = (_TOO_DEEP,)
    content = sanitize(post.content_html)
    summary = sanitize(post.summary_html) or sanitize(excerpt_html(content, excerpt_width, _two)[0])
    return Rendered(
        summary_html=summary,
        summary_text=post.summary_text or html_to_text(summary, str),
        content_html=content,
        content_text=post.content_text or html_to_text(content, str),
        figures=post.figures,
        warnings=warnings,
    )


def render_markup(draft: Draft) -> Rendering:
    """The first half: the body as HTML with formula placeholders."""
    if draft.rendered is not None:
        return Rendering("")
    if draft.markup == "listing":
        return render_listing(draft.body)
    if draft.markup == "markdown":
        return render_markdown(draft.body, draft.summary, draft.math)
    return Rendering(draft.body, summary_html=draft.summary)


def _unique(formulas: list[Formula]) -> list[Formula]:
    return list({(f.tex, f.display): f for f in formulas}.values())


def _two(number: int) -> int:
    return 2


def _width_of(formulas: list[Formula]) -> Callable[[int], int]:
    """Columns a formula takes in an excerpt: its TeX's, up to 40, and two for the $."""
    return lambda n: min(display_width(formulas[n].tex), 40) + 2 if n < len(formulas) else 0


def _text_of(formulas: list[Formula]) -> Callable[[int], str]:
    return lambda n: _formula_text(formulas[n]) if n < len(formulas) else ""


def _formula_text(formula: Formula) -> str:
    delimiter = "$$" if formula.display else "$"
    return f"{delimiter}{formula.tex}{delimiter}"


def with_formulas(markup: str, formulas: list[Formula], marks: Placeholders) -> str:
    """Sanitized ``markup`` with each placeholder replaced by its formula: the MathML
    (sanitized on its own) where the placeholder stands in text, the TeX as text where it
    stands in an attribute (an image's alt text), nothing for a number with no formula."""

    def replace(match: re.Match[str]) -> str:
        number = int(match.group(1))
        if number >= len(formulas):
            return ""
        formula = formulas[number]
        # The sanitizer escapes < and > in attribute values: a placeholder after a "<"
        # with no ">" since stands inside a tag.
        if markup.rfind("<", 0, match.start()) > markup.rfind(">", 0, match.start()):
            return html.escape(_formula_text(formula))
        return formula.mathml or fallback_html(formula)

    return marks.pattern.sub(replace, markup)
