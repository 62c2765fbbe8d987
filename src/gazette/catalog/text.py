"""Plain text and display-width excerpts of rendered HTML.

Both work on the renderer's HTML while formulas are still placeholders
(``\\ue000N\\ue001``), so a formula is one atom that is never cut.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser

from wcwidth import wcswidth, wcwidth

PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")
_ATOMS = re.compile("\ue000\\d+\ue001|.", re.S)
_BLOCKS = frozenset(
    "p div li ul ol pre figure figcaption blockquote table tr h1 h2 h3 h4 h5 h6 section hr dl dt dd".split()
)
_VOID = frozenset("br hr img wbr col area".split())
# A sentence ends at these marks (and any closing quotes or brackets right after them).
_SENTENCE_END = frozenset("。!?!?…")
_CLOSERS = frozenset("”’」』)）》\"'")
_CLAUSE_END = frozenset(",,、;;::")
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class _Event:
    kind: str  # "start", "end", "text"
    tag: str = ""
    raw: str = ""


class _Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[_Event] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(_Event("start", tag, self.get_starttag_text() or f"<{tag}>"))
        if tag in _VOID:
            self.events.append(_Event("end", tag))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(_Event("start", tag, self.get_starttag_text() or f"<{tag}>"))
        self.events.append(_Event("end", tag))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.events.append(_Event("end", tag))

    def handle_data(self, data: str) -> None:
        self.events.append(_Event("text", raw=data))


def _events(markup: str) -> list[_Event]:
    parser = _Events()
    parser.feed(markup)
    parser.close()
    return parser.events


def html_to_text(markup: str, formula_text: Callable[[int], str]) -> str:
    """Readable plain text: one paragraph a block, formulas as their TeX."""
    blocks: list[str] = []
    current: list[str] = []
    in_pre = 0
    for event in _events(markup):
        if event.kind == "text":
            text = event.raw if in_pre else re.sub(r"[ \t\n]+", " ", event.raw)
            current.append(PLACEHOLDER.sub(lambda m: formula_text(int(m.group(1))), text))
        elif event.tag == "pre":
            in_pre += 1 if event.kind == "start" else -1
        elif event.tag == "br":
            current.append("\n")
        if event.kind != "text" and event.tag in _BLOCKS:
            _flush(current, blocks, keep_indent=event.tag == "pre")
        if event.kind == "start" and event.tag == "li":
            current.append("- ")
    _flush(current, blocks, keep_indent=False)
    return "\n\n".join(blocks)


def _flush(current: list[str], blocks: list[str], keep_indent: bool) -> None:
    text = "".join(current)
    text = text.strip("\n") if keep_indent else text.strip()
    if text and text != "-":
        blocks.append(text)
    current.clear()


def display_width(text: str) -> int:
    """Columns on a terminal: a CJK character takes two."""
    width = wcswidth(text)
    return width if width >= 0 else sum(max(wcwidth(c), 0) for c in text)


@dataclass
class _Cut:
    events: int  # how many events precede the cut
    chars: int  # how much of the text event at that index is kept
    stack: tuple[str, ...]


def excerpt_html(markup: str, width: int, atom_width: Callable[[int], int]) -> tuple[str, bool]:
    """The leading part of ``markup`` within ``width`` columns; True when it was cut.

    It ends at a sentence (or block) boundary, never inside a tag, a formula or a
    《》 title; when no sentence ends in time it ends at a clause with an ellipsis.
    """
    events = _events(markup)
    stack: list[str] = []
    used = title_depth = code_depth = 0
    sentence: _Cut | None = None
    clause: _Cut | None = None
    safe: _Cut | None = None
    for index, event in enumerate(events):
        if event.kind == "start":
            stack.append(event.tag) if event.tag not in _VOID else None
            code_depth += event.tag in ("pre", "code")
            continue
        if event.kind == "end":
            if stack and stack[-1] == event.tag:
                stack.pop()
            code_depth -= event.tag in ("pre", "code")
            if event.tag in _BLOCKS and title_depth == 0:
                sentence = _Cut(index + 1, 0, tuple(stack))
            continue
        atoms = _ATOMS.findall(event.raw)
        for position, atom in enumerate(atoms):
            if title_depth == 0:
                safe = _Cut(index, position, tuple(stack))
            placeholder = PLACEHOLDER.fullmatch(atom)
            used += atom_width(int(placeholder.group(1))) if placeholder else display_width(atom)
            if used > width:
                if sentence is not None:
                    return _render_cut(events, sentence, ellipsis=False), True
                return _render_cut(events, clause or safe or _Cut(0, 0, ()), ellipsis=True), True
            title_depth += (atom == "《") - (atom == "》")
            if title_depth or code_depth:
                continue
            following = atoms[position + 1] if position + 1 < len(atoms) else ""
            if atom in _SENTENCE_END or (atom == "." and following in ("", " ", "\n")):
                if following not in _CLOSERS and following not in _SENTENCE_END:
                    sentence = _Cut(index, position + 1, tuple(stack))
            elif atom in _CLOSERS and atoms[position - 1 if position else 0] in _SENTENCE_END:
                if following not in _CLOSERS:
                    sentence = _Cut(index, position + 1, tuple(stack))
            elif atom in _CLAUSE_END:
                clause = _Cut(index, position + 1, tuple(stack))
    return markup, False


def _render_cut(events: list[_Event], cut: _Cut, ellipsis: bool) -> str:
    parts = [_serialize(event) for event in events[: cut.events]]
    if cut.chars:
        kept = "".join(_ATOMS.findall(events[cut.events].raw)[: cut.chars])
        parts.append(html.escape(kept, quote=False))
    if ellipsis:
        parts.append(ELLIPSIS)
    parts.extend(f"</{tag}>" for tag in reversed(cut.stack))
    return "".join(parts)


def _serialize(event: _Event) -> str:
    if event.kind == "start":
        return event.raw
    if event.kind == "end":
        return "" if event.tag in _VOID else f"</{event.tag}>"
    return html.escape(event.raw, quote=False)
