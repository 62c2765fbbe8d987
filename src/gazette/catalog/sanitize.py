"""The allowlist every piece of HTML passes: what an author may write and MathML.

Nothing executable survives: no script, style (but an aligned MathML cell's
``text-align`` and padding), iframe, event handler, ``javascript:`` URL or MathML
``href``. Comments are dropped, and so are the characters XML cannot carry, so nothing
downstream has to remove them (removing them later could join ``java\\x01script:`` into
a scheme the sanitizer never saw), and the formula placeholders' characters, but for the
renderer's own placeholders.

The rule: HTML is sanitized last. After ``sanitize`` only these may touch it, each
checked against the same allowlist:
- ``render.finish_rendering`` puts formulas (MathML sanitized on its own) where their
  placeholders stand in text, never in an attribute;
- ``absolute_url`` rewrites a link, and the result is judged by ``allowed_url``; HTML
  whose links were rewritten is sanitized again (``feeds.items``, ``digest.mailsafe``);
- ``feeds.items.xhtml_inner`` changes the syntax (HTML to XHTML), not the tree;
- ``math_images`` puts a formula's ``<img>`` (its own URL, the TeX escaped as alt, a
  ``vertical-align``) where a ``<math>`` or a formula placeholder stood
  (``digest.mailsafe``, and feeds with ``feeds.math = "image"``).
Anything else that rewrites HTML (an excerpt, the mail version) ends with ``sanitize``.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import nh3
from lxml import etree

from gazette.catalog.text import RESERVED, Placeholders

MATHML_TAGS = frozenset(
    """math semantics annotation mrow mi mo mn ms mtext mspace msub msup msubsup mfrac
    msqrt mroot mover munder munderover mtable mtr mtd mlabeledtr mstyle menclose mpadded
    mphantom merror mfenced mmultiscripts mprescripts none""".split()
)
MATHML_ATTRIBUTES = frozenset(
    """display mathvariant stretchy fence form separator lspace rspace minsize maxsize
    largeop movablelimits accent accentunder columnalign columnspacing rowspacing columnlines
    rowlines frame displaystyle scriptlevel mathcolor mathbackground mathsize linethickness
    width height depth linebreak notation encoding open close separators align rowalign
    columnspan rowspan bevelled symmetric""".split()
)
HTML_TAGS = frozenset(nh3.ALLOWED_TAGS) | {"figure", "figcaption", "section", "sup", "sub"}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_CLASSED = ("code", "pre", "span", "div", "section", "li", "sup", "a", "hr", "ol", "figure", "p")
# Characters XML 1.0 forbids: C0 controls but tab and line ends, surrogates, U+FFFE/U+FFFF.
_UNSAFE_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FORBIDDEN = (*(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"), "\ufffe", "\uffff")
# How a browser reads a URL before it looks for a scheme (the WHATWG URL parser): leading
# and trailing C0 controls and spaces are stripped, tabs and line ends removed anywhere.
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_URL_REMOVED = re.compile("[\t\n\r]")
# Attributes that hold a URL, which a feed reader or mail client resolves against nothing.
URL_ATTRIBUTES = ("href", "src", "cite", "poster")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def _attributes() -> dict[str, set[str]]:
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag in _CLASSED:
        attributes.setdefault(tag, set()).add("class")
    for tag in ("li", "sup", "a", "section"):
        attributes[tag].add("id")  # footnotes link to each other by id
    for tag in ("figure", "img"):
        attributes.setdefault(tag, set()).add("title")
    for tag in MATHML_TAGS:
        attributes[tag] = set(MATHML_ATTRIBUTES)
    attributes["mtd"].add("style")  # an aligned cell's side, which Chromium needs in CSS
    return attributes


# Built once: configuring a cleaner costs twenty times what cleaning a post does.
_CLEANER = nh3.Cleaner(
    tags=set(HTML_TAGS | MATHML_TAGS),
    attributes=_attributes(),
    url_schemes=set(URL_SCHEMES),
    # A namespace declaration is kept only where it is MathML's own, on <math>: any other
    # would move elements into another namespace when a reader parses the feed as XML.
    tag_attribute_values={"math": {"xmlns": {MATHML_NS}}},
    link_rel=None,
    strip_comments=True,
    # Only <mtd> may carry a style, and only these harmless properties of it.
    filter_style_properties={"text-align", "padding-left", "padding-right"},
)


def sanitize(markup: str, marks: Placeholders | None = None) -> str:
    """``markup`` with everything outside the allowlist removed (text is kept, escaped).

    The placeholder characters U+E000/U+E001 are removed too, but for the placeholders
    ``marks`` made (the renderer's own, which no input can spell).
    """
    try:
        cleaned = str(_CLEANER.clean(markup))
    except UnicodeEncodeError:  # a lone surrogate, which the cleaner cannot read
        cleaned = str(_CLEANER.clean(safe_characters(markup)))
    # A character the input held, or a reference such as &#1; that the cleaner decoded:
    # the output is cleaned again without it, so a scheme it split is judged whole. The
    # cleaner writes no references but &amp; &lt; &gt; &quot; &nbsp;, so that pass
    # decodes nothing new.
    if has_unsafe_characters(cleaned):
        cleaned = str(_CLEANER.clean(safe_characters(cleaned)))
    return without_forged_placeholders(cleaned, marks)


def without_forged_placeholders(text: str, marks: Placeholders | None) -> str:
    """``text`` without U+E000/U+E001, except in the placeholders of ``marks``."""
    reserved = text.count("\ue000") + text.count("\ue001")
    if not reserved:
        return text
    if marks is None:
        return RESERVED.sub("", text)
    if reserved == 2 * len(marks.pattern.findall(text)):
        return text  # each one opens or closes a placeholder of this rendering
    return marks.kept.sub(lambda match: match.group(1) or "", text)


def safe_characters(text: str) -> str:
    """``text`` without the characters no output may carry."""
    return _UNSAFE_CHARACTERS.sub("", text)


def has_unsafe_characters(text: str) -> bool:
    """Whether ``text`` (with no lone surrogate, as the cleaner's output never has) holds
    a character XML forbids; looked for one by one, which beats a pattern many times."""
    return any(character in text for character in _FORBIDDEN)


def browser_url(value: str) -> str:
    """``value`` as a browser reads it before parsing (the WHATWG URL parser's first steps)."""
    return _URL_REMOVED.sub("", value.strip(_URL_EDGES))


def allowed_url(value: str) -> bool:
    """Whether a browser following ``value`` stays on the allowlist: no scheme (relative),
    or http, https or mailto."""
    scheme = _SCHEME.match(browser_url(value))
    return scheme is None or scheme.group(1).lower() in URL_SCHEMES


def absolute_url(base_url: str, value: str) -> str | None:
    """``value`` resolved against ``base_url``; None when the result is not allowed."""
    resolved = urljoin(base_url, browser_url(value))
    return resolved if allowed_url(resolved) and allowed_url(value) else None


def make_links_absolute(root: etree._Element, base_url: str) -> bool:
    """Resolves every link under ``root`` against ``base_url`` (a link a browser would
    not follow safely is removed); True when anything changed."""
    changed = False
    for element in root.iter(etree.Element):
        for name in URL_ATTRIBUTES:
            value = element.get(name)
            if value is None or value.startswith("#"):
                continue
            absolute = absolute_url(base_url, value)
            if absolute is None:
                del element.attrib[name]
            elif absolute != value:
                element.set(name, absolute)
            changed |= absolute != value
    return changed
