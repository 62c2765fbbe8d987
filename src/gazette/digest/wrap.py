"""Wrapping plain text by display width, for the text part of a digest.

Chinese has no spaces: a line may break between any two CJK characters, but not before
closing punctuation (,。)》…) nor after opening punctuation ((《“…). Latin words, URLs
and inline formulas ($…$) are never split; a URL longer than a line gets a line of its
own rather than a break, so it still works when clicked.
"""

from __future__ import annotations

import re

from gazette.catalog.text import display_width

_NO_LINE_START = frozenset(",。、;:?!)》」』”’〉】〕…—%‰,.;:?!)]}'\"")
_NO_LINE_END = frozenset("(《「『“‘〈【〔([{")
_ATOM = re.compile(
    r"https?://[\x21-\x7e]+"  # a URL: printable ASCII up to a space or a CJK character
    r"|\$[^$\n]{1,80}\$"  # an inline formula
    r"|[ \t]+"
    r"|[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+"
    r"|.",
    re.S,
)


def wrap(text: str, width: int = 72) -> str:
    """``text`` with each paragraph line wrapped to ``width`` display columns."""
    return "\n".join(
        "\n".join(_wrap_line(line, width)) if line.strip() else "" for line in text.split("\n")
    )


def _wrap_line(line: str, width: int) -> list[str]:
    indent = re.match(r"^(- |\d{1,4}\. |\s*)", line)
    prefix = " " * len(indent.group(0)) if indent else ""
    lines: list[str] = []
    current = ""
    for atom in _atoms(line):
        fits = display_width(current + atom.rstrip()) <= width
        if fits or not current.strip() or atom.isspace():
            current += atom
            continue
        lines.append(current.rstrip())
        current = prefix + atom.lstrip()
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def _atoms(line: str) -> list[str]:
    """Unbreakable pieces: a word, URL, formula or CJK character, with the punctuation
    that may not be separated from it."""
    atoms: list[str] = []
    for piece in _ATOM.findall(line):
        glued = atoms and (piece[0] in _NO_LINE_START or atoms[-1][-1] in _NO_LINE_END)
        if glued and not piece.isspace() and not atoms[-1].isspace():
            atoms[-1] += piece
        else:
            atoms.append(piece)
    return atoms
