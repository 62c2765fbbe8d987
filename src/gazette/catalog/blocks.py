"""The body of a listing entry: its blocks (paragraphs, code, list items, figures)
and their HTML, with formulas left as placeholders for the renderer."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

from gazette.catalog.draft import Rendering
from gazette.catalog.text import Placeholders, placeholders
from gazette.models import Figure

ITEM = re.compile(r"^\s*(\d{1,3})、\s*")
_CODE_INDENT = re.compile(r"^( {4}|\t)")
_MATH = re.compile(
    r"\$\$(?P<dd>.+?)\$\$"
    r"|(?P<env>\\begin\{(?P<name>[A-Za-z]+\*?)\}.*?\\end\{(?P=name)\})"
    r"|\\\[(?P<bracket>.+?)\\\]"
    r"|\\\((?P<paren>.+?)\\\)"
    r"|(?<![\\$])\$(?P<d>[^\s$](?:[^$]*?[^\s\\$])?)\$(?!\$)",
    re.S,
)
URL = re.compile(r"https?://[^\s<>\"'()()\[\]{},,。、;;!!??“”‘’]+")


@dataclass(frozen=True, slots=True)
class Block:
    kind: Literal["paragraph", "code", "item", "figure"]
    text: str
    line: int
    number: int = 0


def parse_blocks(lines: list[tuple[int, str]]) -> list[Block]:
    """Paragraphs, code, list items and figures of an entry's lines."""
    blocks: list[Block] = []
    for kind, group in _groups(lines):
        if kind == "code":
            blocks.append(Block("code", _dedent([s for _, s in group]), group[0][0]))
        else:
            blocks.extend(_paragraph_blocks(group))
    return _merge_figures(blocks)


def _groups(lines: list[tuple[int, str]]) -> list[tuple[str, list[tuple[int, str]]]]:
    groups: list[tuple[str, list[tuple[int, str]]]] = []
    current: list[tuple[int, str]] = []
    kind, open_env = "", False
    for number, line in lines:
        if not line.strip():
            if kind == "code" or open_env:
                current.append((number, line))
                continue
            _close(groups, kind, current)
            current, kind = [], ""
            continue
        line_kind = "code" if _CODE_INDENT.match(line) and not open_env else "paragraph"
        if line_kind != kind and current:
            _close(groups, kind, current)
            current = []
        kind = line_kind
        current.append((number, line))
        if kind == "paragraph":
            open_env = _opens_environment(current)
    _close(groups, kind, current)
    return groups


def _opens_environment(group: list[tuple[int, str]]) -> bool:
    text = "\n".join(s for _, s in group)
    return text.count("\\begin{") > text.count("\\end{")


def _close(
    groups: list[tuple[str, list[tuple[int, str]]]], kind: str, current: list[tuple[int, str]]
) -> None:
    while current and not current[-1][1].strip():
        current.pop()
    if current:
        groups.append((kind, list(current)))


def _dedent(lines: list[str]) -> str:
    return "\n".join(line[4:] if line.startswith("    ") else line.lstrip("\t") for line in lines)


def _paragraph_blocks(group: list[tuple[int, str]]) -> list[Block]:
    """A paragraph, or list items when its lines start with ``1、``."""
    blocks: list[Block] = []
    for number, line in group:
        item = ITEM.match(line)
        if item:
            blocks.append(Block("item", line[item.end() :].strip(), number, int(item.group(1))))
        elif blocks:
            previous = blocks[-1]
            blocks[-1] = Block(
                previous.kind, previous.text + "\n" + line.strip(), previous.line, previous.number
            )
        else:
            blocks.append(Block("paragraph", line.strip(), number))
    return blocks


def _merge_figures(blocks: list[Block]) -> list[Block]:
    """The same one-line paragraph twice in a row is one figure: alt text, then caption."""
    merged: list[Block] = []
    for block in blocks:
        lines = block.text.split("\n")
        if block.kind == "paragraph" and len(lines) == 2 and lines[0] == lines[1]:
            merged.append(Block("figure", lines[0], block.line))
            continue
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.kind == block.kind == "paragraph"
            and "\n" not in block.text
            and previous.text == block.text
        ):
            merged[-1] = Block("figure", block.text, previous.line)
            continue
        merged.append(block)
    return merged


# --- rendering -----------------------------------------------------------------------


def render_listing(body: str) -> Rendering:
    """A listing entry's body as HTML with formula placeholders."""
    formulas: list[tuple[str, bool]] = []
    marks = placeholders()
    figures: list[Figure] = []
    parts: list[str] = []
    items: list[Block] = []
    for block in parse_blocks(list(enumerate(body.split("\n"), 1))):
        if block.kind == "item":
            items.append(block)
            continue
        if items:
            parts.append(_render_list(items, formulas, marks))
            items = []
        if block.kind == "code":
            parts.append(f"<pre><code>{html.escape(block.text, quote=False)}</code></pre>")
        elif block.kind == "figure":
            figures.append(Figure(caption=block.text))
            caption = render_inline(block.text, formulas, marks)
            parts.append(f"<figure><figcaption>{caption}</figcaption></figure>")
        else:
            parts.append(f"<p>{render_inline(block.text, formulas, marks)}</p>")
    if items:
        parts.append(_render_list(items, formulas, marks))
    return Rendering("\n".join(parts), tuple(formulas), tuple(figures), marks=marks)


def _render_list(items: list[Block], formulas: list[tuple[str, bool]], marks: Placeholders) -> str:
    start = f' start="{items[0].number}"' if items[0].number != 1 else ""
    lis = "".join(f"<li>{render_inline(item.text, formulas, marks)}</li>" for item in items)
    return f"<ol{start}>{lis}</ol>"


def render_inline(text: str, formulas: list[tuple[str, bool]], marks: Placeholders) -> str:
    """Escaped text with links for bare URLs and placeholders for formulas."""
    parts: list[str] = []
    position = 0
    for match in _MATH.finditer(text):
        parts.append(_render_text(text[position : match.start()]))
        tex, display = _formula(match)
        parts.append(marks.mark(len(formulas)))
        formulas.append((tex, display))
        position = match.end()
    parts.append(_render_text(text[position:]))
    joined = "".join(parts)
    if "\n" not in joined:
        return joined
    # A formula on lines of its own sits inside the sentence around it.
    joined = re.sub(f"\n*({marks.pattern.pattern})\n*", r"\1", joined)
    return joined.replace("\n", "<br>\n")


def _formula(match: re.Match[str]) -> tuple[str, bool]:
    if match.group("env") is not None:
        return match.group("env").strip(), True
    for group, display in (("dd", True), ("bracket", True), ("paren", False), ("d", False)):
        if match.group(group) is not None:
            return match.group(group).strip(), display
    raise AssertionError("unreachable: the pattern has no other group")


def _render_text(text: str) -> str:
    parts: list[str] = []
    position = 0
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".")
        parts.append(_escape(text[position : match.start()]))
        parts.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
        position = match.start() + len(url)
    parts.append(_escape(text[position:]))
    return "".join(parts)


def _escape(text: str) -> str:
    return html.escape(text.replace("\\$", "$"), quote=False)
