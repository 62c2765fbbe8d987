"""Front matter: libyaml's loader, where PyYAML has it, reads exactly what the pure one does."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gazette.catalog import markdown
from gazette.catalog.draft import ReadResult

ZONE = ZoneInfo("Asia/Shanghai")
needs_libyaml = pytest.mark.skipif(
    not getattr(yaml, "__with_libyaml__", False), reason="PyYAML built without libyaml"
)

# Pieces of YAML that the two loaders are known to read differently, or to refuse with
# other messages, next to ordinary keys, values, dates, tags, anchors and escapes.
FRAGMENTS = [
    "title: ", "date: ", "tags: ", "series: ", "slug: ", "draft: ", "summary: ", "\n", "\n  ",
    "\n- ", "- ", ": ", "? ", "[", "]", "{", "}", ", ", "'", '"', "#", "|", ">", "&a ", "*a",
    "!", "! ", "!!str ", "%", "@", "`", "\t", "\ufeff", "\x85", "\u2028",
    "\xa0", "\\", "\\u00e9", "\\x41", "~", "null", "yes", "no", "0x1f", "0o7", "1e3", ".inf",
    "1_000", "12:30", "2024-05-01", "2024-13-01", "2024-05-01T08:00:00+08:00", "<<", "---",
    "...", "中文", "标签", "😀", "a", "b", "1", " ",
]  # fmt: skip
fragment_documents = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)
post_documents = st.fixed_dictionaries(
    {
        "title": st.text(max_size=20),
        "date": st.dates().map(str) | st.datetimes().map(str),
        "tags": st.lists(st.text(max_size=8), max_size=3),
    },
    optional={"series": st.text(max_size=8), "draft": st.booleans(), "slug": st.text(max_size=8)},
).map(lambda meta: yaml.safe_dump(meta, allow_unicode=True))


def _read(document: str) -> ReadResult:
    text = f"---\n{document}\n---\n\nThe body, $x^2$.\n"
    return markdown.read_markdown(text, "posts/a.md", ZONE, "zh-CN")


def _read_both(document: str) -> tuple[ReadResult, ReadResult]:
    """(read with the default loader, read with the pure-Python one)."""
    fast = _read(document)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(markdown, "YAML_LOADER", yaml.SafeLoader)
        pure = _read(document)
    return fast, pure


@needs_libyaml
def test_libyaml_loader_is_the_one_used() -> None:
    """Front matter is read by PyYAML's libyaml loader when PyYAML was built with it."""
    assert markdown.YAML_LOADER is yaml.CSafeLoader


@needs_libyaml
@settings(max_examples=2000, deadline=None)
@given(fragment_documents)
def test_libyaml_reads_any_text_as_the_pure_loader_does(document: str) -> None:
    """Any front matter, broken or not, gives the same drafts and the same findings
    (messages and lines) with libyaml as with the pure-Python loader."""
    fast, pure = _read_both(document)
    assert fast.drafts == pure.drafts
    assert fast.findings == pure.findings


@needs_libyaml
@settings(max_examples=500, deadline=None)
@given(post_documents)
def test_libyaml_reads_posts_as_the_pure_loader_does(document: str) -> None:
    """Front matter as people write it (titles, dates, tags) reads the same with either loader."""
    fast, pure = _read_both(document)
    assert fast.drafts == pure.drafts
    assert fast.findings == pure.findings
