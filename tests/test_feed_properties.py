"""Property tests of the feed reader: any bytes, in any supported encoding, declared or
not, give posts or a clear error, never an exception."""

from __future__ import annotations

import codecs
from xml.sax.saxutils import escape

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gazette.catalog.draft import ReadResult
from gazette.catalog.feed import read_feed

# (label a declaration names, the Python codec that writes it, a byte-order mark to put first)
ENCODINGS = [
    ("UTF-8", "utf-8", b""),
    ("UTF-8", "utf-8", codecs.BOM_UTF8),
    ("UTF-16", "utf-16-le", b""),
    ("UTF-16", "utf-16-be", b""),
    ("UTF-16", "utf-16-le", codecs.BOM_UTF16_LE),
    ("UTF-16", "utf-16-be", codecs.BOM_UTF16_BE),
    ("UTF-32", "utf-32-le", codecs.BOM_UTF32_LE),
    ("GB2312", "gb2312", b""),
    ("GBK", "gbk", b""),
    ("GB18030", "gb18030", b""),
    ("Big5", "big5", b""),
    ("EUC-KR", "euc-kr", b""),
    ("Shift_JIS", "shift_jis", b""),
    ("EUC-JP", "euc-jp", b""),
    ("ISO-2022-JP", "iso2022_jp", b""),
    ("ISO-8859-1", "latin-1", b""),
    ("windows-1252", "cp1252", b""),
    ("windows-1251", "cp1251", b""),
    ("KOI8-R", "koi8-r", b""),
]
LABELS = [label for label, _, _ in ENCODINGS]
TEXT = st.text(
    st.sampled_from(list("中文標題한국어日本語éü&<>;'\" \n\t"))
    | st.characters(exclude_categories=("Cs",)),
    max_size=30,
)
ITEM = """<rss version="2.0"><channel><title>{title}</title><link>https://x.example/</link>
<description>d</description><item><title>{title}</title><guid>{guid}</guid>
<pubDate>Mon, 06 May 2024 08:00:00 GMT</pubDate><description>{body}</description></item>
</channel></rss>"""


def assert_posts_or_clear_error(result: ReadResult) -> None:
    """What every read gives: drafts, or an error finding with a one-line message."""
    errors = [f for f in result.findings if f.severity == "error"]
    assert result.drafts or errors
    for finding in result.findings:
        assert finding.message.strip()
        assert "\n" not in finding.message
        assert "Traceback" not in finding.message


def declaration(label: str | None) -> str:
    return "" if label is None else f'<?xml version="1.0" encoding="{label}"?>\n'


@settings(max_examples=200, deadline=None)
@given(
    encoding=st.sampled_from(ENCODINGS),
    declared=st.sampled_from(["own", "none", "other"]),
    other=st.sampled_from(LABELS),
    title=TEXT,
    body=TEXT,
    guid=TEXT,
    escaped=st.booleans(),
    noise=st.binary(max_size=8),
    at=st.floats(0, 1),
)
@example(ENCODINGS[2], "own", "UTF-8", "中文", "", "", True, b"", 0.0)  # UTF-16, no BOM
@example(ENCODINGS[7], "own", "UTF-8", "镕", "&nbsp;", "", False, b"", 0.0)  # GBK in GB2312
def test_a_feed_in_any_encoding_gives_posts_or_a_clear_error(
    encoding: tuple[str, str, bytes],
    declared: str,
    other: str,
    title: str,
    body: str,
    guid: str,
    escaped: bool,
    noise: bytes,
    at: float,
) -> None:
    """A one-item feed written in any supported encoding, declared rightly, wrongly or
    not at all, with its text escaped or raw and a few random bytes put anywhere, is read."""
    label, codec, mark = encoding
    fields = {"title": title, "body": body, "guid": guid}
    if escaped:
        fields = {name: escape(value) for name, value in fields.items()}
    named = {"own": label, "none": None, "other": other}[declared]
    text = declaration(named) + ITEM.format(**fields)
    data = mark + text.encode(codec, errors="xmlcharrefreplace")
    cut = int(len(data) * at)
    data = data[:cut] + noise + data[cut:]
    assert_posts_or_clear_error(read_feed(data, "feed.xml", "en"))


@settings(max_examples=200, deadline=None)
@given(
    label=st.sampled_from(LABELS) | st.from_regex(r"\A[A-Za-z][A-Za-z0-9._-]{0,15}\Z"),
    mark=st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
    declared=st.booleans(),
    data=st.binary(max_size=200),
)
@example("x-made-up", b"", True, b"<rss/>")
@example("rot13", b"", True, b"<rss/>")
@example("base64", b"", True, b"<rss/>")
@example("undefined", b"", True, b"<rss/>")
@example("hz-gb-2312", b"", True, b"<rss/>")
def test_random_bytes_under_any_declaration_never_raise(
    label: str, mark: bytes, declared: bool, data: bytes
) -> None:
    """Random bytes, after any declaration (a real label or any name XML allows) and any
    byte-order mark, give a result and never an exception; an error names the label."""
    head = declaration(label if declared else None).encode("ascii")
    result = read_feed(mark + head + data, "feed.xml", "en")
    for finding in result.findings:
        assert finding.message.strip()
        assert "\n" not in finding.message
    unknown = [f for f in result.findings if "names the encoding" in f.message]
    assert all(repr(label) in f.message for f in unknown)
