"""Plain text and display-width excerpts of rendered HTML.

Both work on the renderer's HTML while formulas are still placeholders, so a formula
is one atom that is never cut.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser

from wcwidth import wcswidth, wcwidth

# U+E000 and U+E001 open and close a placeholder; input never carries them (see strip_reserved).
RESERVED = re.compile("[\ue000\ue001]")
_BLOCKS = frozenset(
    """p div li ul ol pre figure figcaption blockquote table tr h1 h2 h3 h4 h5 h6 section hr
    dl dt dd""".split()
)
_VOID = frozenset("br hr img wbr col area".split())
# A sentence ends at these marks (and any closing quotes or brackets right after them).
_SENTENCE_END = frozenset("。!?!?…")
_CLOSERS = frozenset("”’」』)）》\"'")
_CLAUSE_END = frozenset(",,、;;::")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Placeholders:
    """Formula placeholders: ``\\ue000<key>:N\\ue001``.

    The key is random and never shown, so no post or feed can spell a placeholder: text
    that looks like one stays text and is never replaced by a formula. A rendering
    carries its own, so the processes that finish it need not share one.
    """

    key: str = field(default_factory=lambda: secrets.token_hex(8))

    def mark(self, number: int) -> str:
        return f"\ue000{self.key}:{number}\ue001"

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(f"\ue000{self.key}:(\\d+)\ue001")

    @cached_property
    def atoms(self) -> re.Pattern[str]:
        return re.compile(f"\ue000{self.key}:\\d+\ue001|.", re.S)

    @cached_property
    def kept(self) -> re.Pattern[str]:
        """This rendering's placeholders (group 1), else a lone placeholder character."""
        return re.compile(f"(\ue000{self.key}:\\d+\ue001)|[\ue000\ue001]")


@functools.cache
def placeholders() -> Placeholders:
    """This process's placeholders: one key, its patterns compiled once."""
    return Placeholders()


def strip_reserved(text: str) -> str:
    """``text`` without the placeholder characters, which no input may bring."""
    return RESERVED.sub("", text)


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


def html_to_text(
    markup: str, formula_text: Callable[[int], str], marks: Placeholders | None = None
) -> str:
    """Readable plain text: one paragraph a block, formulas (``marks``) as their TeX."""
    blocks: list[str] = []
    current: list[str] = []
    in_pre = 0
    lists: list[int | None] = []  # the open lists, innermost last: an <ol>'s next number
    for event in _events(markup):
        if event.kind == "text":
            text = event.raw if in_pre else re.sub(r"[ \t\n]+", " ", event.raw)
            if marks is not None:
                text = marks.pattern.sub(lambda m: formula_text(int(m.group(1))), text)
            current.append(text)
        elif event.tag == "pre":
            in_pre += 1 if event.kind == "start" else -1
        elif event.tag == "br":
            current.append("\n")
        if event.kind != "text" and event.tag in _BLOCKS:
            _flush(current, blocks, keep_indent=event.tag == "pre")
        if event.tag in ("ol", "ul", "li") and event.kind != "text":
            current.append(_list_marker(event, lists))
    _flush(current, blocks, keep_indent=False)
    return "\n\n".join(blocks)


def _list_marker(event: _Event, lists: list[int | None]) -> str:
    """Tracks the open lists; an item's marker as the HTML shows it: ``- `` in a <ul>,
    its number in an <ol> (from its ``start``), so ``1、`` items stay numbered."""
    if event.tag != "li":
        if event.kind == "end":
            lists[-1:] = []
        else:
            start = re.search(r'\bstart="?(\d+)', event.raw) if event.tag == "ol" else None
            lists.append(None if event.tag == "ul" else int(start.group(1)) if start else 1)
        return ""
    if event.kind == "end":
        return ""
    number = lists[-1] if lists else None
    if number is None:
        return "- "
    lists[-1] = number + 1
    return f"{number}. "


def _flush(current: list[str], blocks: list[str], keep_indent: bool) -> None:
    text = "".join(current)
    text = text.strip("\n") if keep_indent else text.strip()
    if text and not re.fullmatch(r"-|\d+\.", text):  # an empty list item
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


def excerpt_html(
    markup: str, width: int, atom_width: Callable[[int], int], marks: Placeholders | None = None
) -> tuple[str, bool]:
    """The leading part of ``markup`` within ``width`` columns; True when it was cut.

    It ends at a sentence (or block) boundary, never inside a tag, a formula or a
    《》 title; when no sentence ends in time it ends at a clause with an ellipsis.
    """
    walk = _Walk(_events(markup), width, atom_width, marks or placeholders())
    cut = walk.run()
    if cut is None:
        return markup, False
    return cut, True


class _Walk:
    """Walks the events, remembering the last place where the excerpt could end."""

    def __init__(
        self,
        events: list[_Event],
        width: int,
        atom_width: Callable[[int], int],
        marks: Placeholders,
    ) -> None:
        self.events, self.width, self.atom_width, self.marks = events, width, atom_width, marks
        self.stack: list[str] = []
        self.used = self.title_depth = self.code_depth = 0
        self.sentence: _Cut | None = None
        self.clause: _Cut | None = None
        self.safe = _Cut(0, 0, ())

    def run(self) -> str | None:
        for index, event in enumerate(self.events):
            if event.kind == "start":
                self._open(event.tag)
            elif event.kind == "end":
                self._close(index, event.tag)
            else:
                over = self._text(index, self.marks.atoms.findall(event.raw))
                if over:
                    return self._cut()
        return None

    def _open(self, tag: str) -> None:
        if tag not in _VOID:
            self.stack.append(tag)
        self.code_depth += tag in ("pre", "code")

    def _close(self, index: int, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        self.code_depth -= tag in ("pre", "code")
        if tag in _BLOCKS and self.title_depth == 0:
            self.sentence = _Cut(index + 1, 0, tuple(self.stack))

    def _text(self, index: int, atoms: list[str]) -> bool:
        """Counts the atoms of one text; True when the width ran out inside it."""
        for position, atom in enumerate(atoms):
            if self.title_depth == 0:
                self.safe = _Cut(index, position, tuple(self.stack))
            placeholder = self.marks.pattern.fullmatch(atom)
            self.used += (
                self.atom_width(int(placeholder.group(1))) if placeholder else display_width(atom)
            )
            if self.used > self.width:
                return True
            self.title_depth += (atom == "《") - (atom == "》")
            if not (self.title_depth or self.code_depth):
                self._note_boundary(index, atoms, position)
        return False

    def _note_boundary(self, index: int, atoms: list[str], position: int) -> None:
        atom = atoms[position]
        following = atoms[position + 1] if position + 1 < len(atoms) else ""
        previous = atoms[position - 1] if position else ""
        ends = atom in _SENTENCE_END or (atom == "." and following in ("", " ", "\n"))
        closes = atom in _CLOSERS and previous in _SENTENCE_END
        here = _Cut(index, position + 1, tuple(self.stack))
        if (ends or closes) and following not in _CLOSERS and following not in _SENTENCE_END:
            self.sentence = here
        elif atom in _CLAUSE_END:
            self.clause = here

    def _cut(self) -> str:
        if self.sentence is not None:
            return self._render(self.sentence, ellipsis=False)
        return self._render(self.clause or self.safe, ellipsis=True)

    def _render(self, cut: _Cut, ellipsis: bool) -> str:
        return _render_cut(self.events, cut, ellipsis, self.marks.atoms)


def _render_cut(
    events: list[_Event], cut: _Cut, ellipsis: bool, atoms: re.Pattern[str]
) -> str:
    parts = [_serialize(event) for event in events[: cut.events]]
    if cut.chars:
        kept = "".join(atoms.findall(events[cut.events].raw)[: cut.chars])
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
