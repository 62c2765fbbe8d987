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
"""

from __future__ import annotations

import unicodedata
from functools import cache

from lxml import etree

_NS = "{http://www.w3.org/1998/Math/MathML}"
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


def reshape(mathml: str) -> str:
    """latex2mathml's ``<math>`` with the changes above."""
    root = etree.fromstring(mathml)
    for element in list(root.iter()):
        name = etree.QName(element).localname
        if name in ("mi", "mn"):
            _letters_in_variant(element)
        elif name == "mtd":
            _aligned_cell(element)
        elif name in _BARS:
            _stretchy_bar(element, name)
        elif name in _LIMITS:
            _limits_under_and_over(element, name)
        elif name == "mo":
            _without_inferred_attributes(element)
        elif name == "mspace":
            element.attrib.pop("linebreak", None)
        elif name == "mstyle" and not len(element) and not (element.text or "").strip():
            _drop(element)
    return str(etree.tostring(root, encoding="unicode"))


def _letters_in_variant(element: etree._Element) -> None:
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


def _aligned_cell(element: etree._Element) -> None:
    style = _ALIGN.get(element.get("columnalign", ""))
    if style:
        element.set("style", style)


def _stretchy_bar(element: etree._Element, name: str) -> None:
    script = element[-1] if len(element) == 2 else None
    if script is None or etree.QName(script).localname != "mo":
        return
    if (script.text or "").strip() == _HORIZONTAL_BAR:
        script.text = _BARS[name]
        script.set("stretchy", "true")
        script.attrib.pop("accent", None)


def _limits_under_and_over(element: etree._Element, name: str) -> None:
    base = element[0] if len(element) else None
    if base is not None and base.get("movablelimits") == "true":
        element.tag = f"{_NS}{_LIMITS[name]}"


def _without_inferred_attributes(element: etree._Element) -> None:
    parent = element.getparent()
    siblings = list(parent) if parent is not None else [element]
    parent_name = etree.QName(parent).localname if parent is not None else ""
    form = element.get("form")
    if (form, element) in (("prefix", siblings[0]), ("postfix", siblings[-1])):
        del element.attrib["form"]
    # An accent is the over- or underscript's role, which Chromium reads on its parent.
    accent = element.attrib.pop("accent", None) == "true"
    over = parent_name in ("mover", "munderover") and element is siblings[-1]
    if accent and over and parent is not None:
        parent.set("accent", "true")
    if not (parent_name in _LIMITS.values() and siblings[0] is element):
        element.attrib.pop("movablelimits", None)
    if element.text == "\\|":  # latex2mathml's \big\| keeps the TeX
        element.text = "‖"


def _drop(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
