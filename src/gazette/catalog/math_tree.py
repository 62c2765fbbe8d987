"""latex2mathml's MathML reshaped into what browsers render (MathML Core, as Chromium
implements it) and what the W3C Feed Validation Service knows.

- Chromium ignores ``mathvariant`` but "normal": a bold or double-struck letter is the
  Unicode mathematical letter itself (U+1D400 on), the attribute kept for the rest.
- Chromium ignores ``columnalign``: a cell of an aligned environment also gets CSS
  ``text-align`` (and no padding toward its neighbour, since ``&`` joins the halves).
- An over- or underbar stretches only when its operator is one the operator dictionary
  marks stretchy: U+203E OVERLINE and U+005F LOW LINE, not U+2015 HORIZONTAL BAR.
- An operator with movable limits (``\\operatorname*``, ``\\mathop``) takes its scripts
  under and over (they move to the side in inline style), as TeX places them.
- Attributes the validator does not know are dropped where they repeat what MathML
  infers: ``form`` that matches the operator's place in its row, ``accent`` on an
  operator, ``movablelimits`` where no limit is, ``linebreak`` (no renderer breaks).
  Kept, because rendering needs them: ``accent`` on ``mover``, ``accentunder`` on
  ``munder``, ``movablelimits`` on an operator with limits, ``style`` on ``mtd``.

latex2mathml builds an ElementTree whose text holds character references (``&#x02009;``)
and serializes it with every reference, and every ``<`` or ``&`` of a ``\\text{...}``,
unescaped. Reshaping its tree instead decodes the references where they stand, and the
serializer escapes what is text as text: there is no string to parse again.
"""

from __future__ import annotations

import html
import unicodedata
from functools import cache
from xml.etree.ElementTree import Element, tostring

_VARIANTS = {
    "bold": "BOLD", "italic": "ITALIC", "bold-italic": "BOLD ITALIC",
    "double-struck": "DOUBLE-STRUCK", "script": "SCRIPT", "bold-script": "BOLD SCRIPT",
    "fraktur": "FRAKTUR", "bold-fraktur": "BOLD FRAKTUR", "sans-serif": "SANS-SERIF",
    "bold-sans-serif": "SANS-SERIF BOLD", "sans-serif-italic": "SANS-SERIF ITALIC",
    "sans-serif-bold-italic": "SANS-SERIF BOLD ITALIC", "monospace": "MONOSPACE",
}  # fmt: skip
# Letters Unicode had before the mathematical block, which leaves holes where they go.
_OLDER_LETTERS = {("ITALIC", "h"): "ℎ"} | {
    ("FRAKTUR", letter): unicodedata.lookup(f"BLACK-LETTER CAPITAL {letter}") for letter in "CHIRZ"
}
_BARS = {"mover": "‾", "munder": "_"}
_HORIZONTAL_BAR = "―"
_LIMITS = {"msub": "munder", "msup": "mover", "msubsup": "munderover"}
_ALIGN = {"right": "text-align:right;padding-right:0", "left": "text-align:left;padding-left:0"}


def reshape(math: Element) -> str:
    """latex2mathml's ``<math>`` tree with the changes above, serialized."""
    for element in math.iter():
        _decoded(element)
    _reshape_children(math)
    return tostring(math, encoding="unicode")


def _reshape_children(parent: Element) -> None:
    """Each element under ``parent`` reshaped, parents before their children (an
    operator's role depends on what its parent has become)."""
    for element in list(parent):
        name = element.tag
        if name in ("mi", "mn"):
            _letters_in_variant(element)
        elif name == "mtd":
            _aligned_cell(element)
        elif name in _BARS:
            _stretchy_bar(element, name)
        elif name in _LIMITS:
            _limits_under_and_over(element, name)
        elif name == "mo":
            _without_inferred_attributes(element, parent)
        elif name == "mspace":
            element.attrib.pop("linebreak", None)
        elif name == "mstyle" and not len(element) and not (element.text or "").strip():
            _drop(element, parent)
            continue
        _reshape_children(element)


def _decoded(element: Element) -> None:
    """The element's text, tail and attribute values with their references decoded."""
    if element.text and "&" in element.text:
        element.text = html.unescape(element.text)
    if element.tail and "&" in element.tail:
        element.tail = html.unescape(element.tail)
    for name, value in element.attrib.items():
        if "&" in value:
            element.set(name, html.unescape(value))


def _letters_in_variant(element: Element) -> None:
    variant = _VARIANTS.get(element.get("mathvariant", ""))
    if variant and element.text:
        element.text = "".join(_variant_letter(variant, c) for c in element.text)


@cache
def _variant_letter(variant: str, character: str) -> str:
    """``character`` as the mathematical letter or digit of ``variant`` (itself when
    Unicode has none, such as a double-struck Greek letter)."""
    older = _OLDER_LETTERS.get((variant, character))
    if older:
        return older
    try:
        name = unicodedata.name(character)
    except ValueError:
        return character
    for prefix in ("LATIN ", "GREEK "):
        name = name.removeprefix(prefix)
    name = name.replace("LETTER ", "")
    try:
        return unicodedata.lookup(f"MATHEMATICAL {variant} {name}")
    except KeyError:
        return character


def _aligned_cell(element: Element) -> None:
    style = _ALIGN.get(element.get("columnalign", ""))
    if style:
        element.set("style", style)


def _stretchy_bar(element: Element, name: str) -> None:
    script = element[-1] if len(element) == 2 else None
    if script is None or script.tag != "mo":
        return
    if (script.text or "").strip() == _HORIZONTAL_BAR:
        script.text = _BARS[name]
        script.set("stretchy", "true")
        script.attrib.pop("accent", None)


def _limits_under_and_over(element: Element, name: str) -> None:
    base = element[0] if len(element) else None
    if base is not None and base.get("movablelimits") == "true":
        element.tag = _LIMITS[name]


def _without_inferred_attributes(element: Element, parent: Element) -> None:
    siblings = list(parent)
    form = element.get("form")
    if (form, element) in (("prefix", siblings[0]), ("postfix", siblings[-1])):
        del element.attrib["form"]
    # An accent is the over- or underscript's role, which Chromium reads on its parent.
    accent = element.attrib.pop("accent", None) == "true"
    over = parent.tag in ("mover", "munderover") and element is siblings[-1]
    if accent and over:
        parent.set("accent", "true")
    if not (parent.tag in _LIMITS.values() and siblings[0] is element):
        element.attrib.pop("movablelimits", None)
    if element.text == "\\|":  # latex2mathml's \big\| keeps the TeX
        element.text = "‖"


def _drop(element: Element, parent: Element) -> None:
    if element.tail:
        index = list(parent).index(element)
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
