"""A feed's bytes as UTF-8 XML that expat and feedparser both read the same way.

expat decodes only UTF-8, UTF-16 with a byte-order mark, and single-byte encodings; a
feed from the wild may be in any encoding its XML declaration names (GB2312, Big5,
EUC-KR …) or in UTF-16 without a byte-order mark. The bytes are decoded here, labels read
as web browsers read them (the WHATWG Encoding Standard, through webencodings: GB2312
is decoded as GB18030, its superset, as browsers do), and handed on as UTF-8 with the
declaration saying so. HTML's named entities (``&nbsp;``), which XML does not define but
feedparser reads, become character references.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.entities import html5

import webencodings

# Appendix F of XML 1.0: a document that starts "<?xml" in UTF-16 or UTF-32 without a
# byte-order mark shows it in its first bytes.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_STARTS = (
    (b"<\0\0\0", "utf-32-le"),
    (b"\0\0\0<", "utf-32-be"),
    (b"<\0?\0", "utf-16-le"),
    (b"\0<\0?", "utf-16-be"),
)
_DECLARATION = re.compile(
    r"""^\s*<\?xml[^>]*?\sencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1""", re.ASCII
)
_ENCODING_ATTRIBUTE = re.compile(r"""(\sencoding\s*=\s*)(["'])[^"']*\2""")
_XML_ENTITIES = frozenset(("amp", "lt", "gt", "quot", "apos"))
# Entity references outside CDATA sections and comments, where "&" is only text.
_REFERENCE_OR_LITERAL = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->|&([A-Za-z][A-Za-z0-9]*);", re.S)


class XmlEncodingError(ValueError):
    """The bytes cannot be read as text in the encoding the document names."""


@dataclass(frozen=True, slots=True)
class XmlText:
    """The document as text and as UTF-8 bytes, with what was noticed reading it."""

    text: str
    data: bytes
    notes: tuple[str, ...] = ()


def readable_xml(data: bytes) -> XmlText:
    """``data`` as UTF-8 XML, whatever its encoding; raises XmlEncodingError."""
    encoding, start = _sniffed(data)
    notes: list[str] = []
    if encoding is None:
        label, encodings, note = _declared(data)
        notes.extend(note)
    else:
        label, encodings = encoding.upper(), [encoding]
    text = _decoded(data[start:], label, encodings)
    text, entities = _numeric_entities(text)
    if entities:
        notes.append(_entities_note(entities))
    # expat reads UTF-8 named as such (or not named) itself: no copy is needed.
    if label in ("UTF-8", "utf-8") and not start and not notes:
        return XmlText(text, data, ())
    text = _ENCODING_ATTRIBUTE.sub(r"\1\2utf-8\2", text, count=1) if _is_declared(text) else text
    return XmlText(text, text.encode("utf-8"), tuple(notes))


def _sniffed(data: bytes) -> tuple[str | None, int]:
    """(encoding, bytes to skip) from a byte-order mark or UTF-16/32's first bytes."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return encoding, len(mark)
    for start, encoding in _WIDE_STARTS:
        if data.startswith(start):
            return encoding, 0
    # Markup starts with ASCII, which UTF-16 writes with a zero byte beside it.
    if len(data) >= 4 and data[0] and data[2] and not data[1] and not data[3]:
        return "utf-16-le", 0
    if len(data) >= 4 and data[1] and data[3] and not data[0] and not data[2]:
        return "utf-16-be", 0
    return None, 0


def _declared(data: bytes) -> tuple[str, list[str], list[str]]:
    """(label, codecs to try, notes) for the encoding the declaration names (UTF-8 when
    it names none)."""
    found = _DECLARATION.match(data[:1024].decode("latin-1"))
    if found is None:
        return "UTF-8", ["utf-8"], []
    label = found.group(2)
    encodings = _codecs(label)
    if encodings[0].startswith(("utf-16", "utf-32")):
        # Its declaration was just read one byte per character: it is not UTF-16.
        note = (
            f"the XML declaration names {label}, but the feed is written in single bytes: "
            "read as UTF-8; fix the declaration"
        )
        return "UTF-8", ["utf-8"], [note]
    return label, encodings, []


def _codecs(label: str) -> list[str]:
    """Python codecs for a label: as browsers read it first, then Python's own reading
    (ISO-8859-1 is read as windows-1252, which leaves five bytes undefined)."""
    known = webencodings.lookup(label)
    if known is not None and known.name == "replacement":
        raise XmlEncodingError(
            f"its XML declaration names the encoding {label!r}, which browsers refuse to "
            "decode (it can hide markup); re-save the feed as UTF-8"
        )
    found = [] if known is None else ["gb18030" if known.name == "gbk" else known.codec_info.name]
    try:
        "".encode(label)  # only a text encoding: bytes.decode refuses the others
        found.append(codecs.lookup(label).name)
    except (LookupError, UnicodeError):
        pass
    if not found:
        raise XmlEncodingError(
            f"its XML declaration names the encoding {label!r}, which gazette does not know; "
            "re-save the feed as UTF-8, or name its real encoding in the declaration"
        )
    return list(dict.fromkeys(found))


def _decoded(data: bytes, label: str, encodings: list[str]) -> str:
    failure: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            failure = failure or error
        except (LookupError, UnicodeError) as error:
            raise XmlEncodingError(
                f"cannot be decoded as {label} ({error}); re-save the feed as UTF-8"
            ) from None
    assert failure is not None
    line = data[: failure.start].count(b"\n") + 1
    raise XmlEncodingError(
        f"not valid {label} at byte {failure.start} (line {line}); re-save the feed in the "
        "encoding its XML declaration names, or name the one it is in"
    )


def _is_declared(text: str) -> bool:
    return text.lstrip().startswith("<?xml") and bool(
        _ENCODING_ATTRIBUTE.search(text[: text.find("?>") + 1])
    )


def _numeric_entities(text: str) -> tuple[str, dict[str, int]]:
    """HTML's named entities as character references, and how often each was used."""
    if "&" not in text:
        return text, {}
    used: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        characters = html5.get(f"{name};") if name and name not in _XML_ENTITIES else None
        if characters is None:
            return match.group()
        used[name] = used.get(name, 0) + 1
        return "".join(f"&#{ord(c)};" for c in characters)

    return _REFERENCE_OR_LITERAL.sub(replace, text), used


def _entities_note(used: dict[str, int]) -> str:
    names = ", ".join(f"&{name}; ({count}×)" for name, count in sorted(used.items()))
    return (
        f"the feed uses HTML named entities that XML does not define: {names}; read as "
        "feed readers read them"
    )
