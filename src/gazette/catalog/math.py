"""TeX to MathML, each distinct formula converted once and kept.

latex2mathml is lenient: an unknown command comes out as ``<mi>\\foo</mi>``. Such output
is treated as a failure, so a formula is either real MathML or shown as escaped TeX and
reported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import replace
from xml.etree.ElementTree import Element

from gazette.catalog.math_tex import prepare_tex
from gazette.catalog.math_tree import reshape
from gazette.catalog.sanitize import has_unsafe_characters, safe_characters, sanitize
from gazette.catalog.text import RESERVED, strip_reserved
from gazette.models import Formula, formula_key

_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")


class MathConverter:
    """Converts formulas, remembering every result (seeded from the state database)."""

    def __init__(self, known: Mapping[str, Formula] | None = None) -> None:
        self._known = {key: _sanitized_again(f) for key, f in (known or {}).items()}
        self.fresh: dict[str, Formula] = {}

    def convert(self, tex: str, display: bool) -> Formula:
        key = formula_key(tex, display)
        found = self._known.get(key) or self.fresh.get(key)
        if found is None:
            found = _convert(tex, display)
            self.fresh[key] = found
        return found


def _convert(tex: str, display: bool) -> Formula:
    prepared = prepare_tex(tex)
    problem = _precheck(prepared)
    if problem:
        return Formula(tex, display, error=problem)
    # latex2mathml loads its symbol tables on import: a build whose formulas are all
    # stored converts none and never imports it.
    from latex2mathml.converter import convert_to_element  # noqa: PLC0415

    try:
        tree = convert_to_element(prepared, display="block" if display else "inline")
    except Exception as error:
        return Formula(tex, display, error=f"cannot convert: {type(error).__name__}: {error}")
    unknown = _unknown_command(tree)
    if unknown:
        return Formula(tex, display, error=f"unsupported command {unknown}")
    mathml = _with_annotation(reshape(tree), tex)
    # latex2mathml lets \text{...} carry any characters, and attributes (\color) from
    # the TeX, so its output passes the allowlist too.
    return Formula(tex, display, mathml=sanitize(mathml))


def _unknown_command(math: Element) -> str:
    """The first command latex2mathml did not know (it leaves one as an ``<mi>`` or an
    ``<mo>`` of its name); "" if none."""
    for element in math.iter():
        if element.tag[:2] in ("mi", "mo") and element.text:
            found = _UNKNOWN_COMMAND.match(element.text)
            if found:
                return found.group(0)
    return ""


def _sanitized_again(formula: Formula) -> Formula:
    """A stored conversion, sanitized again when it holds what today's sanitizer removes
    (a database written by an earlier gazette)."""
    mathml = formula.mathml
    if mathml and (has_unsafe_characters(mathml) or RESERVED.search(mathml)):
        return replace(formula, mathml=sanitize(mathml))
    return formula


def _precheck(tex: str) -> str:
    if not tex.strip():
        return "empty formula"
    depth = 0
    for match in re.finditer(r"\\.|[{}]", tex, re.S):
        piece = match.group(0)
        depth += 1 if piece == "{" else -1 if piece == "}" else 0
        if depth < 0:
            return "unbalanced braces: a } closes nothing"
    if depth:
        return "unbalanced braces: a { is never closed"
    begins = re.findall(r"\\begin\{([^}]*)\}", tex)
    ends = re.findall(r"\\end\{([^}]*)\}", tex)
    if sorted(begins) != sorted(ends):
        return "unmatched \\begin/\\end"
    return ""


def _with_annotation(mathml: str, tex: str) -> str:
    """Wrap the presentation in <semantics> and keep the TeX as an annotation."""
    open_end = mathml.index(">") + 1
    close_start = mathml.rindex("</math>")
    inner = mathml[open_end:close_start]
    annotation = (
        f'<annotation encoding="application/x-tex">{html.escape(tex, quote=False)}</annotation>'
    )
    return f"{mathml[:open_end]}<semantics><mrow>{inner}</mrow>{annotation}</semantics></math>"


def fallback_html(formula: Formula) -> str:
    """A formula that did not convert: its TeX, escaped, marked for styling."""
    delimiter = "$$" if formula.display else "$"
    tex = html.escape(f"{delimiter}{strip_reserved(safe_characters(formula.tex))}{delimiter}")
    return f'<code class="math-error">{tex}</code>'
