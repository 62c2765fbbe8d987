"""TeX in Markdown beyond dollars: ``\\(…\\)`` and ``\\[…\\]``, the conventions a source may
name (kramdown's inline ``$$``, backticked ``$…$``), and TeX left unconverted.

CommonMark reads ``\\(`` as an escaped parenthesis, so ``\\(b^2\\)`` would print as
``(b^2)``: the bracket rule runs before the escape rule. kramdown (Jekyll's Markdown)
has only ``$$``: it is display math when it stands as a paragraph of its own and
inline math inside a sentence. Some Hugo themes have authors wrap math in backticks,
so that Markdown leaves it alone, and typeset ``<code>$…$</code>`` in the browser.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

MathConvention = Literal["kramdown", "backticks"]
MATH_CONVENTIONS: tuple[MathConvention, ...] = ("kramdown", "backticks")
_CLOSERS = {"(": "\\)", "[": "\\]"}
_BACKTICKED = re.compile(r"^(\$\$?)(?=\S)(.+?)(?<=\S)\1$", re.S)
# Text outside code that still looks like TeX: a dollar pair holding a command, or a
# command that only math has.
_LEFT_OVER = re.compile(
    r"\$[^$\n<]*\\[A-Za-z]+[^$\n<]*\$|\\(?:begin|end)\{[a-z*]+\}|\\(?:frac|sqrt|sum|prod|int|"
    r"mathbb|mathcal|mathrm|mathbf|boldsymbol|alpha|beta|gamma|delta|epsilon|theta|lambda|"
    r"sigma|omega|partial|nabla|infty|cdot|times|leq|geq|neq|approx|left|right)(?![A-Za-z])"
)
_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")


def bracket_math_plugin(md: MarkdownIt) -> None:
    """``\\(…\\)`` as inline math and ``\\[…\\]`` as display math, wherever they stand."""
    md.inline.ruler.before("escape", "math_bracket", _bracket_math)


def _bracket_math(state: StateInline, silent: bool) -> bool:
    start = state.pos
    if state.src[start] != "\\" or start + 1 >= state.posMax:
        return False
    opener = state.src[start + 1]
    closer = _CLOSERS.get(opener)
    if closer is None:
        return False
    end = state.src.find(closer, start + 2, state.posMax)
    if end < 0 or not state.src[start + 2 : end].strip():
        return False
    if not silent:
        token = state.push("math_inline" if opener == "(" else "math_bracket_display", "math", 0)
        token.content = state.src[start + 2 : end]
        token.markup = "\\" + opener
    state.pos = end + 2
    return True


def backticked_math(content: str) -> tuple[str, bool] | None:
    """(TeX, display) of a code span written as ``$…$`` or ``$$…$$``; None for code."""
    found = _BACKTICKED.match(content)
    if found is None:
        return None
    return found.group(2), len(found.group(1)) == 2


def code_or_math(placeholder: Any) -> Any:
    """A code_inline render rule that turns backticked ``$…$`` into a formula."""

    def render(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        math = backticked_math(tokens[idx].content)
        if math is None:
            return str(self.code_inline(tokens, idx, options, env))
        return str(placeholder(env, *math))

    return render


def unconverted_math(html: str) -> str:
    """A warning when the rendered text (code aside) still holds TeX; empty otherwise."""
    text = _TAG.sub(" ", _CODE.sub(" ", html))
    found = [m.group() for m in _LEFT_OVER.finditer(text)]
    if not found:
        return ""
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return (
        f"text that looks like TeX was not converted: {found[0][:60]!r}{more}; write math "
        "as $…$, $$…$$, \\(…\\) or \\[…\\]"
    )
