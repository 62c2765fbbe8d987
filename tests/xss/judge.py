"""The judge: whether markup, parsed as a browser parses it, holds anything that can run.

HTML is parsed by html5lib the way a browser with scripting on does (``<noscript>`` is
raw text, foreign content keeps its namespaces) into a tree that keeps every character,
control characters included; XML (Atom's xhtml content) is judged as lxml parsed it.
A URL attribute is judged by its scheme after WHATWG URL normalization: leading and
trailing C0 controls and spaces stripped, tab and line ends removed everywhere.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import html5lib

XHTML = "http://www.w3.org/1999/xhtml"
MATHML = "http://www.w3.org/1998/Math/MathML"
SAFE_HTML = frozenset(
    """a abbr acronym area article aside b bdi bdo big blockquote br caption center cite
    code col colgroup data dd del details dfn div dl dt em figcaption figure footer h1 h2
    h3 h4 h5 h6 header hgroup hr i img ins kbd li main map mark nav ol p pre q rp rt rtc ruby s
    samp section small span strike strong sub summary sup table tbody td tfoot th thead
    time tr tt u ul var wbr""".split()
)
SAFE_MATHML = frozenset(
    """math semantics annotation mrow mi mo mn ms mtext mspace msub msup msubsup mfrac
    msqrt mroot mover munder munderover mtable mtr mtd mlabeledtr mstyle menclose mpadded
    mphantom merror mfenced mmultiscripts mprescripts none""".split()
)
# Attributes that run or load something whatever their value.
FORBIDDEN_ATTRIBUTES = frozenset("style srcdoc formaction action".split())
URL_ATTRIBUTES = frozenset(
    """href src action formaction poster cite background data codebase dynsrc lowsrc
    longdesc usemap manifest ping profile icon classid archive srcset imagesrcset
    itemtype""".split()
)
SAFE_SCHEMES = frozenset({"", "http", "https", "mailto"})
MARKERS = ("\ue000", "\ue001")  # gazette's formula placeholders: never in an output
_C0_OR_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_SRCSET_CANDIDATE = re.compile(r"\s*([^\s,]+)[^,]*,?")
_PARSER = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=True)


@dataclass(frozen=True, slots=True)
class Problem:
    """One executable construct: the element it is on and what is wrong."""

    element: Any  # an ElementTree or lxml element
    what: str


def url_scheme(value: str) -> str:
    """The scheme a browser's URL parser finds in ``value`` (lowercase; empty if none)."""
    cleaned = _TAB_OR_NEWLINE.sub("", value.strip(_C0_OR_SPACE))
    found = _SCHEME.match(cleaned)
    return found.group(1).lower() if found else ""


def split_name(name: str) -> tuple[str, str]:
    """(namespace, local name) of a Clark-notation name such as ``{ns}href``."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def parse_fragment(markup: str) -> ET.Element:
    """``markup`` as a browser parses it in a ``<div>`` (scripting on)."""
    return _PARSER.parseFragment(markup, scripting=True)  # type: ignore[no-any-return]


def parse_document(markup: str) -> ET.Element:
    """A whole page as a browser parses it (scripting on)."""
    return _PARSER.parse(markup, scripting=True)  # type: ignore[no-any-return]


def element_problems(element: Any, allowed_styles: frozenset[str] = frozenset()) -> list[str]:
    """What is wrong with this one element (not its children)."""
    tag = element.tag
    if not isinstance(tag, str):
        return []  # comments and processing instructions
    problems = []
    namespace, local = split_name(tag)
    safe = SAFE_HTML if namespace == XHTML else SAFE_MATHML if namespace == MATHML else ()
    if local.lower() not in safe and tag != "DOCUMENT_FRAGMENT":
        problems.append(f"<{local}> element ({namespace or 'no namespace'})")
    for name, value in element.attrib.items():
        problems.extend(attribute_problems(local, name, value, allowed_styles))
    texts = (element.text or "", *element.attrib.values())
    if any(marker in text for text in texts for marker in MARKERS):
        problems.append(f"<{local}> holds a raw U+E000/U+E001 formula marker")
    return problems


def attribute_problems(
    tag: str, name: str, value: str, allowed_styles: frozenset[str] = frozenset()
) -> list[str]:
    """What is wrong with one attribute of a ``tag`` element."""
    _, local = split_name(name)
    local = local.lower().rpartition(":")[2]  # xlink:href parsed without its namespace
    shown = f"<{tag} {name}={value[:60]!r}>"
    if local.startswith("on"):
        return [f"{shown} event handler"]
    if local == "style" and _declarations(value) <= allowed_styles:
        return []
    if local in FORBIDDEN_ATTRIBUTES:
        return [f"{shown} {local} attribute"]
    if local not in URL_ATTRIBUTES:
        return []
    urls = [m.group(1) for m in _SRCSET_CANDIDATE.finditer(value)] if "srcset" in local else [value]
    bad = [url_scheme(url) for url in urls if url_scheme(url) not in SAFE_SCHEMES]
    return [f"{shown} {bad[0]}: URL"] if bad else []


def _declarations(style: str) -> set[str]:
    """A style attribute's declarations, each as ``property: value`` with single spaces
    and single quotes (css-inline writes a template's "Courier New" as 'Courier New')."""
    pieces = (piece.replace('"', "'").partition(":") for piece in style.split(";") if piece.strip())
    return {f"{name.strip().lower()}: {' '.join(value.split())}" for name, _, value in pieces}


def css_declarations(css: str) -> frozenset[str]:
    """Every declaration in a style sheet, as ``_declarations`` writes them."""
    blocks = re.findall(r"\{([^{}]*)\}", css)
    return frozenset(d for block in blocks for d in _declarations(block) if d != ": ")


def tree_problems(root: Any, allowed_styles: frozenset[str] = frozenset()) -> Iterator[Problem]:
    """Every problem in ``root`` and below it."""
    for element in root.iter():
        for what in element_problems(element, allowed_styles):
            yield Problem(element, what)
        tail = getattr(element, "tail", None) or ""
        if any(marker in tail for marker in MARKERS):
            yield Problem(element, "text holds a raw U+E000/U+E001 formula marker")


def judge_html(markup: str, allowed_styles: frozenset[str] = frozenset()) -> list[str]:
    """Every executable construct in an HTML fragment, as a browser would parse it."""
    if not markup.strip():
        return []
    return [problem.what for problem in tree_problems(parse_fragment(markup), allowed_styles)]


def judge_text(text: str) -> list[str]:
    """A plain-text field (a title, a JSON Feed summary) may hold anything but markers."""
    return ["text holds a raw U+E000/U+E001 formula marker"] if any(
        marker in text for marker in MARKERS
    ) else []  # fmt: skip
