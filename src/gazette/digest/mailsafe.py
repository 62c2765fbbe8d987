"""A post's HTML made fit for mail clients, and its plain text.

Gmail and most webmail strip MathML, which would leave a formula as a jumble of its
symbols or nothing at all. Each ``<math>`` becomes its TeX (kept by the catalog in the
``application/x-tex`` annotation): a ``<code>`` element in the HTML, ``$…$`` in the
text, so it stays readable in both. Footnotes lose their targets in an excerpt and are
dropped; relative links and images are made absolute against the post's URL. The HTML
made here is sanitized again, last (see gazette.catalog.sanitize).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from lxml import html as lxml_html
from lxml.etree import ParserError

from gazette.catalog.sanitize import make_links_absolute, sanitize
from gazette.catalog.text import Placeholders, html_to_text, placeholders

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


def mail_safe(fragment: str, base_url: str) -> MailText:
    """``fragment`` with formulas as TeX, footnotes dropped and every link absolute."""
    formulas: list[tuple[str, bool]] = []
    marks = placeholders()
    marked = _marked(fragment, base_url, formulas, marks)

    def as_html(match: re.Match[str]) -> str:
        tex, display = formulas[int(match.group(1))]
        kind = "tex display" if display else "tex"
        return f'<code class="{kind}">{html.escape(tex)}</code>'

    def as_text(index: int) -> str:
        tex, display = formulas[index]
        return f"\n$${tex}$$\n" if display else f"${tex}$"

    mail_html = sanitize(marks.pattern.sub(as_html, marked))
    return MailText(mail_html, html_to_text(marked, as_text, marks))


def _marked(
    fragment: str, base_url: str, formulas: list[tuple[str, bool]], marks: Placeholders
) -> str:
    """The cleaned fragment with each formula replaced by a numbered placeholder."""
    if not fragment.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except ParserError:
        return ""
    for math in list(root.iter("math")):
        formulas.append((formula_tex(math), math.get("display") == "block"))
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
