"""TeX rewritten, before conversion, into what latex2mathml reads as the author meant.

Blogs write TeX for MathJax, which reads some commands differently from LaTeX and
knows some latex2mathml lacks. Each rewrite keeps the formula's meaning and is local:
the TeX shown as an annotation, an alt text or a fallback is always the author's own.
"""

from __future__ import annotations

import re

# Environments that only number or label an equation: MathML gets their body.
_NUMBERED = re.compile(
    r"^\s*\\begin\{(equation|displaymath)\*?\}(?P<body>.*)\\end\{\1\*?\}\s*$", re.S
)
# Environments latex2mathml lacks, rewritten to ones it has with the same layout.
_ENVIRONMENTS = {
    "align": ("align*", ""), "flalign": ("align*", ""), "flalign*": ("align*", ""),
    "aligned": ("split", ""), "eqnarray": ("array", "{rcl}"), "eqnarray*": ("array", "{rcl}"),
    "gather": ("array", "{c}"), "gather*": ("array", "{c}"), "gathered": ("array", "{c}"),
    "multline": ("array", "{c}"), "multline*": ("array", "{c}"),
}  # fmt: skip
_ROW_SPACING = re.compile(r"\\\\\s*\[[^\]]*\]")
_LABELS = re.compile(r"\\(?:label|tag\*?)\{[^{}]*\}|\\(?:nonumber|notag)\b")
# Text sizes are invalid in LaTeX math and make an empty <mstyle mathsize> at a cell's
# start; a reader's own font size is the right one.
_SIZES = re.compile(
    r"\\(?:tiny|scriptsize|footnotesize|small|normalsize|large|Large|LARGE|huge|Huge)"
    r"(?![A-Za-z])\s*"
)
# MathJax's \color{red}{x} colours its argument; latex2mathml's, like LaTeX's, is a
# switch that colours everything after it, so the argument form becomes \textcolor.
_COLOR_WITH_ARGUMENT = re.compile(r"\\color\s*(\{[^{}]*\})(?=\s*\{)")
_COLOR_SWITCH = re.compile(r"\\color\s*\{[^{}]*\}")
# An operator name spelt as text: latex2mathml drops the text inside \mathop.
_TEXT_OPERATOR = re.compile(
    r"\\mathop\s*\{\s*(?:\\(?:text|mathrm|operatorname)\s*\{([^{}]*)\}|\\rm\s+([^{}]*?))\s*\}"
)
_MISSING_OPERATORS = re.compile(r"\\(arg)(?![A-Za-z])")
_DELIMITERS = {
    r"\vert": "|", r"\lvert": "|", r"\rvert": "|",
    r"\Vert": r"\|", r"\lVert": r"\|", r"\rVert": r"\|",
}  # fmt: skip
_DELIMITER = re.compile(r"\\[lr]?[vV]ert(?![A-Za-z])")
# Where a switch inside an environment's cell stops: the cell's end.
_CELL_END = re.compile(r"\\\\|\\end\{|&|\\.|[{}]", re.S)


def prepare_tex(tex: str) -> str:
    """The TeX latex2mathml is given: numbering and labels stripped, equation unwrapped,
    environments and commands it lacks rewritten to ones it has."""
    tex = _LABELS.sub("", tex).strip()
    numbered = _NUMBERED.match(tex)
    if numbered:
        tex = numbered.group("body").strip()
    for env, (replacement, columns) in _ENVIRONMENTS.items():
        tex = tex.replace(f"\\begin{{{env}}}", f"\\begin{{{replacement}}}{columns}")
        tex = tex.replace(f"\\end{{{env}}}", f"\\end{{{replacement}}}")
    tex = _ROW_SPACING.sub(r"\\\\", tex)
    tex = _SIZES.sub("", tex)
    tex = _COLOR_WITH_ARGUMENT.sub(r"\\textcolor\1", tex)
    tex = _scoped_switches(tex)
    tex = _TEXT_OPERATOR.sub(lambda m: f"\\operatorname*{{{m.group(1) or m.group(2)}}}", tex)
    tex = _MISSING_OPERATORS.sub(r"\\operatorname{\1}", tex)
    return _DELIMITER.sub(lambda m: _DELIMITERS[m.group(0)], tex)


def _scoped_switches(tex: str) -> str:
    """Each colour switch inside an environment closed at its cell's end, as LaTeX
    scopes it; latex2mathml would carry it over ``\\\\`` and ``&`` and lose the rows."""
    if "\\begin{" not in tex:
        return tex
    pieces: list[str] = []
    position = 0
    for switch in _COLOR_SWITCH.finditer(tex):
        if switch.start() < position:
            continue
        end = _cell_end(tex, switch.end())
        pieces.append(f"{tex[position : switch.start()]}{{{tex[switch.start() : end]}}}")
        position = end
    return "".join(pieces) + tex[position:]


def _cell_end(tex: str, start: int) -> int:
    depth = 0
    for token in _CELL_END.finditer(tex, start):
        piece = token.group(0)
        if piece == "{":
            depth += 1
        elif piece == "}":
            depth -= 1
            if depth < 0:
                return token.start()
        elif depth == 0 and piece in ("\\\\", "\\end{", "&"):
            return token.start()
    return len(tex)
