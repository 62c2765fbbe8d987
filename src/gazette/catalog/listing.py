"""The listing format: a blog's index page as text, one entry per read-more marker.

An entry opens with a ``D Mon`` date line (no year), then a title line when the entry
kept one, then paragraphs. The same line twice in a row is a figure (its alt text and
its caption). Lines indented four spaces are code; ``1、`` lines are a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from gazette.catalog.blocks import ITEM, URL, Block, parse_blocks, render_inline
from gazette.catalog.draft import Draft, ReadResult
from gazette.catalog.text import (
    display_width,
    excerpt_html,
    html_to_text,
    placeholders,
)
from gazette.config import SourceSettings
from gazette.models import Finding

MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DATE_LINE = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s*$")
_TITLE_END_MARKS = tuple("。.,,;;::、…")
TITLE_MAX_WIDTH = 80
INFERRED_TITLE_WIDTH = 60


@dataclass(frozen=True, slots=True)
class _Entry:
    lines: list[tuple[int, str]]
    has_marker: bool


def read_listing(
    text: str, path: str, source: SourceSettings, zone: ZoneInfo, today: date
) -> ReadResult:
    """Drafts from one listing page; findings for every guess that was made."""
    result = ReadResult()
    entries = _split_entries(text, source.more_marker)
    if not text.strip():
        result.findings.append(Finding("warning", "empty listing file: no posts", f"{path}:1"))
        return result
    if not any(entry.has_marker for entry in entries):
        result.findings.append(
            Finding(
                "warning",
                f"no read-more marker {source.more_marker!r} found, so no entries were read; "
                "set more_marker for this source if the page uses another one",
                f"{path}:1",
            )
        )
        return result
    dated = _date_entries(entries, path, source, zone, today, result)
    for entry, (published, inferred) in zip(entries, dated, strict=True):
        draft = _draft(entry, path, published, inferred, source, result)
        if draft is not None:
            result.drafts.append(draft)
    return result


def _split_entries(text: str, marker: str) -> list[_Entry]:
    entries: list[_Entry] = []
    current: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip() == marker:
            entries.append(_Entry(current, True))
            current = []
        else:
            current.append((number, line))
    if any(line.strip() for _, line in current):
        entries.append(_Entry(current, False))
    return [e for e in entries if any(line.strip() for _, line in e.lines)]


def _first_line(entry: _Entry) -> int:
    return next(number for number, line in entry.lines if line.strip())


def _date_line(entry: _Entry) -> tuple[int, int, int] | None:
    """(line number, month, day) of the entry's opening date line."""
    for number, line in entry.lines:
        if not line.strip():
            continue
        match = _DATE_LINE.match(line)
        if match and match.group(2).lower() in MONTHS:
            return number, MONTHS[match.group(2).lower()], int(match.group(1))
        return None
    return None


def _date_entries(
    entries: list[_Entry],
    path: str,
    source: SourceSettings,
    zone: ZoneInfo,
    today: date,
    result: ReadResult,
) -> list[tuple[datetime | None, bool]]:
    """Each entry's date with its year worked out, and whether it was borrowed."""
    days = [_date_line(entry) for entry in entries]
    offsets = _year_offsets([(m, d) for _, m, d in filter(None, days)], source.order)
    base = source.year
    if base is None and offsets:
        base = _year_for_newest(days, offsets, today)
        result.findings.append(
            Finding(
                "warning",
                f"no year given for this listing: assumed its first dated entry is from {base} "
                f"so that no entry is in the future; set year = {base} for this source to confirm",
                f"{path}:1",
            )
        )
    exact = _exact_dates(days, offsets, base, zone, path, result)
    return _borrow_missing(exact, entries, path, result)


def _year_offsets(days: list[tuple[int, int]], order: str) -> list[int]:
    """Years after the first dated entry: ascending pages roll forward when the month goes back."""
    offsets, offset, previous = [], 0, None
    for month_day in days:
        if previous is not None:
            if order == "ascending" and month_day < previous:
                offset += 1
            elif order == "descending" and month_day > previous:
                offset -= 1
        offsets.append(offset)
        previous = month_day
    return offsets


def _year_for_newest(
    days: list[tuple[int, int, int] | None], offsets: list[int], today: date
) -> int:
    dated = [(offset, m, d) for offset, (_, m, d) in zip(offsets, filter(None, days), strict=True)]
    offset, month, day = max(dated)
    year = today.year - offset
    if (month, day) > (today.month, today.day):
        year -= 1
    return year


def _exact_dates(
    days: list[tuple[int, int, int] | None],
    offsets: list[int],
    base: int | None,
    zone: ZoneInfo,
    path: str,
    result: ReadResult,
) -> list[datetime | None]:
    exact: list[datetime | None] = []
    offset_iter = iter(offsets)
    for day in days:
        if day is None or base is None:
            exact.append(None)
            continue
        number, month, mday = day
        year = base + next(offset_iter)
        try:
            exact.append(datetime.combine(date(year, month, mday), time(), zone))
        except ValueError:
            result.findings.append(
                Finding(
                    "error",
                    f"{mday} {month:02d}/{year} is not a date; fix the line",
                    f"{path}:{number}",
                )
            )
            exact.append(None)
    return exact


def _borrow_missing(
    exact: list[datetime | None], entries: list[_Entry], path: str, result: ReadResult
) -> list[tuple[datetime | None, bool]]:
    """An entry without a date takes its neighbour's (the one before, else the one after)."""
    dated: list[tuple[datetime | None, bool]] = []
    for index, value in enumerate(exact):
        if value is not None:
            dated.append((value, False))
            continue
        before = next((v for v in reversed(exact[:index]) if v is not None), None)
        after = next((v for v in exact[index + 1 :] if v is not None), None)
        neighbour = before or after
        if neighbour is None:
            result.findings.append(
                Finding(
                    "error",
                    "entry has no date and no dated neighbour; add a 'D Mon' line before it",
                    f"{path}:{_first_line(entries[index])}",
                )
            )
        dated.append((neighbour, True))
    return dated


def _draft(
    entry: _Entry,
    path: str,
    published: datetime | None,
    date_inferred: bool,
    source: SourceSettings,
    result: ReadResult,
) -> Draft | None:
    if published is None:
        return None
    first = next(i for i, (_, line) in enumerate(entry.lines) if line.strip())
    start = _first_line(entry)
    lines = entry.lines[first + 1 :] if _date_line(entry) is not None else entry.lines[first:]
    blocks = parse_blocks(lines)
    if not blocks:
        result.findings.append(
            Finding("warning", "entry has a date but no text; skipped", f"{path}:{start}")
        )
        return None
    warnings: list[str] = []
    if not entry.has_marker:
        warnings.append(f"entry has no read-more marker {source.more_marker!r} after it")
    if date_inferred:
        warnings.append(f"no date line: took the neighbouring entry's date {published:%Y-%m-%d}")
    title, title_inferred, body_lines = _title(blocks, lines)
    if title_inferred:
        warnings.append(f"no title line: inferred the title {title!r} from the first sentence")
    return Draft(
        location=f"{path}:{start}",
        title=title,
        body="\n".join(line for _, line in body_lines),
        markup="listing",
        published=published,
        title_inferred=title_inferred,
        date_inferred=date_inferred,
        lang=source.lang,
        warnings=tuple(warnings),
    )


def _title(
    blocks: list[Block], lines: list[tuple[int, str]]
) -> tuple[str, bool, list[tuple[int, str]]]:
    """The entry's title line when it has one, else a title inferred from its first sentence."""
    first = blocks[0]
    if first.kind == "paragraph" and looks_like_title(first.text):
        return first.text.strip(), False, [(n, s) for n, s in lines if n > first.line]
    paragraph = next((b for b in blocks if b.kind in ("paragraph", "item")), first)
    return infer_title(paragraph.text), True, lines


def looks_like_title(text: str) -> bool:
    """A single short line that does not end like a sentence."""
    text = text.strip()
    return (
        "\n" not in text
        and 0 < display_width(text) <= TITLE_MAX_WIDTH
        and not text.endswith(_TITLE_END_MARKS)
        and not ITEM.match(text)
        and not URL.fullmatch(text)
        and "$$" not in text
        and "\\begin{" not in text
    )


def infer_title(text: str) -> str:
    """The first sentence of ``text``, cut at a clause when it is too long for a title."""
    formulas: list[tuple[str, bool]] = []
    marks = placeholders()
    first_line = render_inline(text.strip().split("\n")[0], formulas, marks)
    cut, _ = excerpt_html(
        f"<p>{first_line}</p>",
        INFERRED_TITLE_WIDTH,
        lambda n: display_width(formulas[n][0]) + 2,
        marks,
    )
    plain = html_to_text(cut, lambda n: f"${formulas[n][0]}$", marks)
    sentence = re.match(r"^(.+?[。!?!?])(?=[^”’」』)）》]|$)", plain)
    if sentence:
        plain = sentence.group(1)
    plain = re.sub(r"[,,、;;::]…$", "…", plain)
    return plain.rstrip("。.") or plain
