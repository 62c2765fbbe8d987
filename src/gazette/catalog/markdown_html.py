"""Markdown rendered: CommonMark with tables, footnotes, TeX math (as placeholders for
the formula stage) and bare URLs linked; raw HTML that names an HTML element is left to
the sanitizer, anything else that looks like a tag is shown as text."""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from gazette.catalog.draft import Rendering
from gazette.catalog.linkify import CjkLinkify
from gazette.catalog.mdmath import bracket_math_plugin, code_or_math, unconverted_math
from gazette.catalog.text import Placeholders, placeholders
from gazette.models import Figure

MORE = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.M)  # the end of the summary
NESTING_CUT = "nesting_cut"  # env key: body lines where blocks nested past maxNesting
# Every element name of HTML: raw HTML naming one is left to the sanitizer; anything
# else that looks like a tag (<eos>, <T>) is the author's text and is shown as such.
HTML_ELEMENTS = frozenset(
    """a abbr address area article aside audio b base bdi bdo blockquote body br button
    canvas caption center cite code col colgroup data datalist dd del details dfn dialog div
    dl dt em embed fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header
    hgroup hr html i iframe img input ins kbd label legend li link main map mark math menu
    meta meter nav noscript object ol optgroup option output p param picture pre progress q
    rp rt ruby s samp script search section select slot small source span strike strong
    style sub summary sup svg table tbody td template textarea tfoot th thead time title tr
    track tt u ul var video wbr""".split()
)
_TAG_NAME = re.compile(r"^\s*</?([A-Za-z][\w-]*)")


@cache
def _parser(math: tuple[str, ...] = ()) -> MarkdownIt:
    """The parser for a source's math conventions (see gazette.catalog.mdmath)."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(["table", "linkify"])
    md.linkify = CjkLinkify()
    md.use(footnote_plugin).use(dollarmath_plugin, double_inline=True).use(amsmath_plugin)
    md.use(bracket_math_plugin)
    md.add_render_rule("math_inline", _inline_math)
    md.add_render_rule("math_bracket_display", _display_math)
    # kramdown: $$ inside a sentence is inline; a paragraph of its own is a math_block.
    inline_double = _inline_math if "kramdown" in math else _display_math
    md.add_render_rule("math_inline_double", inline_double)
    if "backticks" in math:
        md.add_render_rule("code_inline", code_or_math(_placeholder))
    md.add_render_rule("math_block", _display_math)
    md.add_render_rule("math_block_label", _display_math)
    md.add_render_rule("amsmath", _display_math)
    md.add_render_rule("html_inline", _raw_html)
    md.add_render_rule("html_block", _raw_html)
    md.add_render_rule("image", _image)
    _keep_deep_blocks(md)
    return md


def _keep_deep_blocks(md: MarkdownIt) -> None:
    """Blocks nested past maxNesting become plain paragraphs; markdown-it drops them, and
    everything after them in the file."""
    tokenize = md.block.tokenize

    def tokenize_keeping(state: StateBlock, start: int, end: int) -> None:
        line = state.skipEmptyLines(start)
        too_deep = state.level >= md.options.maxNesting
        if too_deep and line < end and state.sCount[line] >= state.blkIndent:
            _paragraphs(state, line, end)
        else:
            tokenize(state, start, end)

    md.block.tokenize = tokenize_keeping  # type: ignore[method-assign, assignment]


def _paragraphs(state: StateBlock, line: int, end: int) -> None:
    """The lines from ``line`` to the end of their block, as paragraphs of inline text."""
    if isinstance(state.env, dict):
        state.env.setdefault(NESTING_CUT, []).append(line)
    while line < end and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
        stop = line
        while stop < end and not state.isEmpty(stop) and state.sCount[stop] >= state.blkIndent:
            stop += 1
        if stop > line:
            state.push("paragraph_open", "p", 1).map = [line, stop]
            inline = state.push("inline", "", 0)
            inline.content = state.getLines(line, stop, state.blkIndent, False).strip()
            inline.map, inline.children = [line, stop], []
            state.push("paragraph_close", "p", -1)
        line = stop + 1 if stop == line else stop
    state.line = line


def _placeholder(env: dict[str, Any], tex: str, display: bool) -> str:
    formulas: list[tuple[str, bool]] = env["formulas"]
    formulas.append((tex.strip(), display))
    marks: Placeholders = env["marks"]
    return marks.mark(len(formulas) - 1)


def _inline_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    return _placeholder(env, tokens[idx].content, False)


def _display_math(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    block = tokens[idx].block
    mark = _placeholder(env, tokens[idx].content, True)
    return f"<p>{mark}</p>\n" if block else mark


def _raw_html(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    content = tokens[idx].content
    name = _TAG_NAME.match(content)
    if content.lstrip().startswith("<!") or (name and name.group(1).lower() in HTML_ELEMENTS):
        return content
    return html.escape(content, quote=False)


def _image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    title = str(token.attrGet("title") or "")
    env["figures"].append(Figure(caption=title or alt, src=str(token.attrGet("src") or "")))
    return str(self.image(tokens, idx, options, env))


MARKDOWN = _parser()  # the parser of a source without math conventions


def render_markdown(body: str, summary: str, math: tuple[str, ...] = ()) -> Rendering:
    """The body (and the summary, when there is one) as HTML with formula placeholders;
    ``math`` names the source's math conventions (gazette.catalog.mdmath)."""
    parser = _parser(math)
    marks = placeholders()
    env: dict[str, Any] = {"formulas": [], "figures": [], "marks": marks}
    content = parser.render(MORE.sub("", body), env)
    figures = tuple(env["figures"])
    summary_html = parser.render(summary, env) if summary.strip() else ""
    left_over = unconverted_math(content)
    warnings = (left_over,) if left_over else ()
    return Rendering(content, tuple(env["formulas"]), figures, summary_html, marks, warnings)
