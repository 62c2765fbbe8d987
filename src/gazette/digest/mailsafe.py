"""A post's HTML made fit for mail clients, and its plain text.

Gmail and most webmail strip MathML, which would leave a formula as a jumble of its
symbols or nothing at all. Each ``<math>`` becomes, in the HTML, its typeset image (with
``digest.math = "image"``, see gazette.math_images) or its TeX (kept by the catalog
in the ``application/x-tex`` annotation) in a ``<code>`` element, and ``$…$`` in the
text, so it stays readable in both. Footnotes lose their targets in an excerpt and are
dropped; relative links and images are made absolute against the post's URL. The HTML
made here is sanitized again, last (see gazette.catalog.sanitize); only the formulas'
images are put in after, where their placeholders stand in text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from lxml import html as lxml_html
from lxml.etree import ParserError

from gazette.catalog.sanitize import make_links_absolute, sanitize
from gazette.catalog.text import Placeholders, html_to_text, placeholders
from gazette.math_images import MathImages

_DROPPED = (
    "//section[contains(@class, 'footnotes')]",
    "//hr[contains(@class, 'footnotes-sep')]",
    "//sup[contains(@class, 'footnote-ref')]",
)


@dataclass(frozen=True, slots=True)
class MailText:
    """One fragment for mail: safe HTML and readable plain text, formulas as TeX."""

    html: str
    text: str


def mail_safe(fragment: str, base_url: str, images: MathImages | None = None) -> MailText:
    """``fragment`` with formulas as images (given ``images``) or TeX, footnotes dropped
    and every link absolute."""
    formulas: list[_Formula] = []
    marks = placeholders()
    marked = _marked(fragment, base_url, formulas, marks)

    def as_html(match: re.Match[str]) -> str:
        tex, display, mathml = formulas[int(match.group(1))]
        image = images.html(tex, display, mathml) if images is not None else None
        if image is not None:
            return image
        kind = "tex display" if display else "tex"
        return f'<code class="{kind}">{html.escape(tex)}</code>'

    def as_text(index: int) -> str:
        tex, display, _mathml = formulas[index]
        return f"\n$${tex}$$\n" if display else f"${tex}$"

    mail_html = marks.pattern.sub(as_html, sanitize(marked, marks))
    return MailText(mail_html, html_to_text(marked, as_text, marks))


_Formula = tuple[str, bool, str]  # TeX, display, the <math> element


def _marked(fragment: str, base_url: str, formulas: list[_Formula], marks: Placeholders) -> str:
    """The cleaned fragment with each formula replaced by a numbered placeholder."""
    if not fragment.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except ParserError:
        return ""
    for math in list(root.iter("math")):
        mathml = lxml_html.tostring(math, encoding="unicode", method="xml", with_tail=False)
        formulas.append((formula_tex(math), math.get("display") == "block", mathml))
        _replace(math, marks.mark(len(formulas) - 1))
    for path in _DROPPED:
        for element in root.xpath(path):
            element.drop_tree()
    make_links_absolute(root, base_url)
    inner = html.escape(root.text or "", quote=False) + "".join(
        lxml_html.tostring(child, encoding="unicode") for child in root
    )
    return inner.strip()


def formula_tex(math: lxml_html.HtmlElement) -> str:
    """The TeX a ``<math>`` element was made from (its text when it has no annotation)."""
    for annotation in math.iter("annotation"):
        if annotation.get("encoding") == "application/x-tex":
            return str(annotation.text_content()).strip()
    return " ".join(math.text_content().split())


def _replace(element: lxml_html.HtmlElement, text: str) -> None:
    """Puts ``text`` where ``element`` was (drop_tree keeps the element's tail)."""
    previous = element.getprevious()
    parent = element.getparent()
    if previous is not None:
        previous.tail = (previous.tail or "") + text
    elif parent is not None:
        parent.text = (parent.text or "") + text
    element.drop_tree()
