"""A draft's body to safe HTML and plain text, for both its summary and its content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gazette.catalog.blocks import render_listing
from gazette.catalog.draft import Draft, Rendering
from gazette.catalog.markdown import render_markdown
from gazette.catalog.math import MathConverter, fallback_html
from gazette.catalog.sanitize import sanitize
from gazette.catalog.text import PLACEHOLDER, display_width, excerpt_html, html_to_text
from gazette.models import Figure, Formula

# Bump when rendering changes, so stored renderings are redone once.
RENDER_VERSION = "1"


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
    parts = (RENDER_VERSION, draft.markup, str(excerpt_width), draft.summary, draft.body)
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
    content = sanitize(rendering.html)
    summary = sanitize(rendering.summary_html).strip()
    if not summary:
        summary, _ = excerpt_html(content, excerpt_width, lambda n: _formula_width(formulas[n]))
    warnings = tuple(
        f"formula ${f.tex}$ was not converted ({f.error}); it is shown as TeX"
        for f in _unique(formulas)
        if f.error
    )
    return Rendered(
        summary_html=_with_mathml(summary, formulas),
        summary_text=html_to_text(summary, lambda n: _formula_text(formulas[n])),
        content_html=_with_mathml(content, formulas),
        content_text=html_to_text(content, lambda n: _formula_text(formulas[n])),
        figures=rendering.figures,
        warnings=warnings,
    )


def _rendered_again(draft: Draft, excerpt_width: int) -> Rendered:
    """A post that arrives rendered (JSON Lines) is only sanitized again."""
    assert draft.rendered is not None
    post = draft.rendered
    content = sanitize(post.content_html)
    summary = sanitize(post.summary_html) or excerpt_html(content, excerpt_width, lambda n: 2)[0]
    return Rendered(
        summary_html=summary,
        summary_text=post.summary_text or html_to_text(summary, str),
        content_html=content,
        content_text=post.content_text or html_to_text(content, str),
        figures=post.figures,
        warnings=(),
    )


def render_markup(draft: Draft) -> Rendering:
    """The first half: the body as HTML with formula placeholders."""
    if draft.rendered is not None:
        return Rendering("")
    if draft.markup == "listing":
        return render_listing(draft.body)
    if draft.markup == "markdown":
        return render_markdown(draft.body, draft.summary)
    return Rendering(draft.body, summary_html=draft.summary)


def _unique(formulas: list[Formula]) -> list[Formula]:
    return list({f.key: f for f in formulas}.values())


def _formula_width(formula: Formula) -> int:
    return min(display_width(formula.tex), 40) + 2


def _formula_text(formula: Formula) -> str:
    delimiter = "$$" if formula.display else "$"
    return f"{delimiter}{formula.tex}{delimiter}"


def _with_mathml(markup: str, formulas: list[Formula]) -> str:
    def replace(match: object) -> str:
        formula = formulas[int(match.group(1))]  # type: ignore[attr-defined]
        return formula.mathml or fallback_html(formula)

    return PLACEHOLDER.sub(replace, markup)
