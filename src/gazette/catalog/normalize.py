"""Text normalization and series detection, shared by every source format."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from gazette.catalog.draft import Draft, ReadResult
from gazette.models import Figure, Finding, Post

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF), and
# the two private-use characters the renderer uses to mark formulas.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\ue000\ue001]")
# The fields that name a post. A post keeps its id for life, so one holding an illegal
# character is refused: cleaned silently, it could become another post's id.
_NAMING_FIELDS = ("id", "slug")
_LINE_FIELDS = ("title", "series", "lang", "tags")  # trimmed again once cleaned
_TEXT_FIELDS = (*_LINE_FIELDS, "summary", "body", "warnings")
# A JSON Lines draft repeats these fields of its record (named as the record names them);
# the record's other text fields are cleaned on the record.
_RECORD_NAMES = {"title": "title", "body": "content_html", "summary": "summary_html",
                 "warnings": "warnings"}  # fmt: skip
_RECORD_FIELDS = ("summary_text", "content_text", "url", "sources")
SERIES_INDEX_MAX = 1_000_000  # and 0, a prologue: titles such as 系列(零) detect as 0
_CHINESE_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
_ENGLISH_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "i": 1, "ii": 2, "iii": 3,
    "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10,
}  # fmt: skip
_NAME_EDGES = re.compile(r"^[\s,,::\-–—]+|[\s,,::\-–—]+$")
_NUMBER = r"(?:\d{1,3}|[零〇一二两三四五六七八九十百千]{1,6})"


def normalize_text(text: str) -> str:
    """NFC, no BOM, LF line ends, no XML-illegal characters; nothing else changes."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub("", unicodedata.normalize("NFC", text))


def normalize_drafts(read: ReadResult) -> ReadResult:
    """Every reader's drafts with fields that a feed and the state database can hold.

    Escapes (YAML "\\0", TOML and JSON "\\u0000") bring characters that the cleaning of a
    file's text never saw. They are removed with a warning; a post whose id or slug holds
    one is refused with an error. A series index out of range is dropped with a warning.
    """
    result = ReadResult(findings=list(read.findings))
    for draft in read.drafts:
        findings: list[Finding] = []
        normalized = _normalized_draft(draft, findings)
        result.findings.extend(findings)
        if normalized is not None:
            result.drafts.append(normalized)
    return result


def _normalized_draft(draft: Draft, findings: list[Finding]) -> Draft | None:
    findings.extend(_refusals(draft))
    if findings:
        return None
    names = _RECORD_NAMES if draft.rendered is not None else {}
    changes = _cleaned(draft, _TEXT_FIELDS, names, draft.location, findings)
    if changes.get("title") == "":
        changes.update(title="Untitled", title_inferred=True)
    index = draft.series_index
    if index is not None and not 0 <= index <= SERIES_INDEX_MAX:
        shown = str(index) if len(str(index)) <= 20 else f"{str(index)[:20]}…"
        message = (
            f"series_index {shown} is not between 0 and {SERIES_INDEX_MAX}: ignored, so the "
            "post takes its place in the series by date (fix it in the source)"
        )
        findings.append(Finding("warning", message, draft.location))
        changes["series_index"] = None
    if draft.rendered is not None:
        changes["rendered"] = _normalized_record(draft.rendered, changes, draft.location, findings)
    return replace(draft, **changes) if changes else draft


def _refusals(draft: Draft) -> list[Finding]:
    """Errors for the fields that name the post and hold illegal characters."""
    refusals = []
    for name in _NAMING_FIELDS:
        value = getattr(draft, name)
        if found := _illegal_in(value):
            message = (
                f"{name} {value!r} contains {_characters(found)}, which cannot be published; "
                f"fix it in the source (the {name} names the post, so it is not changed for you)"
            )
            refusals.append(Finding("error", message, draft.location))
    return refusals


def _normalized_record(
    rendered: Post, draft_changes: dict[str, Any], location: str, findings: list[Finding]
) -> Post:
    """A JSON Lines record's rendering: the fields its draft repeats as cleaned there,
    the others cleaned here."""
    changes = _cleaned(rendered, _RECORD_FIELDS, {}, location, findings)
    for name, post_name in _RECORD_NAMES.items():
        if name in draft_changes:
            changes[post_name] = draft_changes[name]
    if found := _illegal_in(tuple(f.caption + f.src for f in rendered.figures)):
        findings.append(_removed("figures", found, location))
        changes["figures"] = tuple(
            Figure(_ILLEGAL.sub("", f.caption), _ILLEGAL.sub("", f.src)) for f in rendered.figures
        )
    return replace(rendered, **changes)


def _cleaned(
    item: Draft | Post,
    fields: tuple[str, ...],
    names: dict[str, str],
    location: str,
    findings: list[Finding],
) -> dict[str, Any]:
    """The fields of ``item`` that held illegal characters, without them; a warning each."""
    changes: dict[str, Any] = {}
    for name in fields:
        value = getattr(item, name)
        if not (found := _illegal_in(value)):
            continue
        findings.append(_removed(names.get(name, name), found, location))
        if isinstance(value, tuple):
            texts = (_ILLEGAL.sub("", text).strip() for text in value)
            changes[name] = tuple(text for text in texts if text)
        else:
            text = _ILLEGAL.sub("", value)
            changes[name] = text.strip() if name in _LINE_FIELDS else text
    return changes


def _illegal_in(value: str | tuple[str, ...]) -> list[str]:
    """The illegal characters of a text (or of several), each once, in order."""
    texts = value if isinstance(value, tuple) else (value,)
    return list(dict.fromkeys(c for text in texts for c in _ILLEGAL.findall(text)))


def _removed(name: str, found: list[str], location: str) -> Finding:
    message = f"{name!r} contains {_characters(found)}, which cannot be published: removed"
    return Finding("warning", f"{message} (fix it in the source)", location)


def _characters(found: list[str]) -> str:
    codes = [f"U+{ord(c):04X}" for c in found]
    if len(codes) == 1:
        return f"the character {codes[0]}"
    return f"the characters {', '.join(codes[:-1])} and {codes[-1]}"


def parse_number(text: str) -> int | None:
    """An index written as 3, 三, 十二, 二十三, Three or IV; None when it is not one."""
    text = text.strip()
    if text.isdecimal():
        # int() refuses more than 4300 digits: no index at all, then.
        return int(text) if len(text) <= 4300 else None
    if text.lower() in _ENGLISH_NUMBERS:
        return _ENGLISH_NUMBERS[text.lower()]
    return _parse_chinese_number(text)


def _parse_chinese_number(text: str) -> int | None:
    if not text or any(c not in _CHINESE_DIGITS and c not in _CHINESE_UNITS for c in text):
        return None
    total, digit = 0, None
    for char in text:
        if char in _CHINESE_DIGITS:
            digit = _CHINESE_DIGITS[char]
        else:
            # 十二 is 12: a unit with no digit before it counts once.
            total += (1 if digit is None else digit) * _CHINESE_UNITS[char]
            digit = None
    return total + (digit or 0)


@dataclass(frozen=True, slots=True)
class SeriesMatch:
    name: str
    index: int | None


# Each pattern names the series and, where the title carries one, its index.
_SERIES_PATTERNS = (
    # 重温SSM(二):HiPPO的一些遗留问题 / 变分自编码器(八):…
    re.compile(rf"^(?P<name>.+?)\s*[((]\s*(?P<index>{_NUMBER})\s*[))]\s*(?:[::]|$)"),
    # Transformer升级之路:1、Sinusoidal位置编码追根溯源 / 漫谈系列:第3篇 …
    re.compile(rf"^(?P<name>.+?)\s*[::]\s*第?(?P<index>{_NUMBER})\s*[、.．篇章部]"),
    # Notes on attention, Part 3: … / Part III of …
    re.compile(
        r"^(?P<name>.+?)[\s,:;\-–—]*\b[Pp]art\s+(?P<index>\d{1,3}|[IVXivx]{1,4}|[A-Za-z]+)\b"
    ),
    # 深度学习笔记 第三篇 / 深度学习笔记:第三讲 (a separator, so 新年第一篇 is no series)
    re.compile(rf"^(?P<name>.+?)[\s::]+第(?P<index>{_NUMBER})[篇章部讲期]"),
    # [Series] Title / 【系列】标题: a bracketed prefix names the series.
    re.compile(r"^[\[【]\s*(?P<name>[^\]】]+?)\s*[\]】]"),
)


def detect_series(title: str) -> SeriesMatch | None:
    """The series a title belongs to by the usual conventions, or None."""
    for pattern in _SERIES_PATTERNS:
        match = pattern.match(title)
        if not match:
            continue
        name = _NAME_EDGES.sub("", match.group("name"))
        if not name:
            continue
        raw_index = match.groupdict().get("index")
        index = parse_number(raw_index) if raw_index else None
        if raw_index and index is None:
            continue
        return SeriesMatch(name=name, index=index)
    return None
