"""Text normalization and series detection, shared by every source format."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF), and
# the two private-use characters the renderer uses to mark formulas.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\ue000\ue001]")
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


def parse_number(text: str) -> int | None:
    """An index written as 3, 三, 十二, 二十三, Three or IV; None when it is not one."""
    text = text.strip()
    if text.isdigit():
        return int(text)
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
