"""The real listing pages of the first user's blog: the catalog they must turn into."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from gazette.catalog import check_catalog, iter_posts
from gazette.catalog.text import display_width
from gazette.config import Settings
from gazette.store import Store

from .conftest import NOW, SEEDS, sync

pytestmark = pytest.mark.skipif(
    not SEEDS.is_dir(), reason="the seed pages are not beside the project"
)
MARKER = "点击阅读全文..."
DATE_LINE = re.compile(r"^\d{1,2} [A-Z][a-z]{2}$")


@pytest.fixture
def seeds(site: Callable[..., Settings]) -> Settings:
    return site(f'[[sources]]\npath = "{SEEDS}/*.txt"\nformat = "listing"\nyear = 2019\n')


def _posts(settings: Settings, store: Store) -> list:
    with store.transaction() as connection:
        return list(iter_posts(settings, connection, NOW))


def _entries() -> list[list[str]]:
    """Each entry of every seed page, as its non-blank lines (read independently of gazette)."""
    entries = []
    for path in sorted(SEEDS.glob("*.txt")):
        for chunk in path.read_text(encoding="utf-8").split(MARKER):
            lines = [line.strip() for line in chunk.splitlines() if line.strip()]
            if lines:
                entries.append(lines)
    return entries


def test_seeds_give_31_posts_from_32_entries(seeds: Settings) -> None:
    """Four pages hold 32 entries; one post is listed twice, so the catalog has 31."""
    assert len(_entries()) == 32
    posts = _posts(seeds, sync(seeds))
    assert len(posts) == 31
    duplicate = [p for p in posts if len(p.sources) == 2]
    assert len(duplicate) == 1
    assert {s.split("/")[-1].split(":")[0][:3] for s in duplicate[0].sources} == {"000", "001"}


def test_every_title_in_the_text_is_kept_exactly(seeds: Settings) -> None:
    """An entry whose line after the date reads as a title keeps that line, byte for byte."""
    titles = {p.title for p in _posts(seeds, sync(seeds)) if not p.title_inferred}
    expected = set()
    for lines in _entries():
        body = lines[1:] if DATE_LINE.match(lines[0]) else lines
        first, second = body[0], body[1] if len(body) > 1 else ""
        if len(first) <= 40 and not first.endswith(("。", ",", ",")) and first != second:
            expected.add(first)
    assert expected
    assert titles == expected


def test_five_untitled_entries_are_inferred_and_reported(seeds: Settings) -> None:
    """Untitled entries get a title from their first sentence, flagged by check at path:line."""
    store = sync(seeds)
    inferred = [p for p in _posts(seeds, store) if p.title_inferred]
    assert len(inferred) == 5
    findings = check_catalog(seeds, store, NOW)
    flagged = [f for f in findings if "inferred the title" in f.message]
    assert len(flagged) == 5
    for finding in flagged:
        path, line = finding.location.rsplit(":", 1)
        assert Path(path).name.endswith(".txt")
        text_lines = Path(path).read_text(encoding="utf-8").splitlines()
        assert text_lines[int(line) - 1].strip(), "the location points at the entry's first line"
    for post in inferred:
        assert 0 < len(post.title) <= 40
        assert post.title.rstrip("…")[:8] in post.content_text


def test_no_marker_and_no_caption_twice(seeds: Settings) -> None:
    """The read-more marker never reaches a post and a figure caption appears once."""
    for post in _posts(seeds, sync(seeds)):
        assert MARKER not in post.content_html
        assert MARKER not in post.content_text
        blocks = [b.strip() for b in post.content_text.split("\n\n") if b.strip()]
        assert all(a != b for a, b in itertools.pairwise(blocks)), post.title
    captions = [f.caption for p in _posts(seeds, Store(seeds.database_url)) for f in p.figures]
    assert "gelu函数图像" in captions
    assert "BYOL示意图" in captions


def test_eos_is_visible_text(seeds: Settings) -> None:
    """The literal <eos> in a post is escaped into text, never dropped as a tag."""
    posts = _posts(seeds, sync(seeds))
    post = next(p for p in posts if "根本停不下来" in p.title)
    assert "<eos>" in post.content_text
    assert "&lt;eos&gt;" in post.content_html
    text = lxml.html.fragment_fromstring(post.content_html, create_parent="div").text_content()
    assert "<eos>" in text


def test_every_formula_is_mathml_or_reported(seeds: Settings) -> None:
    """Each $…$ and \\begin{…} of the seeds becomes MathML with its TeX kept, or is reported."""
    store = sync(seeds)
    posts = _posts(seeds, store)
    reported = {w for p in posts for w in p.warnings if "formula" in w}
    converted = 0
    for post in posts:
        tree = lxml.html.fragment_fromstring(post.content_html, create_parent="div")
        annotations = tree.xpath("//annotation")
        converted += len(annotations)
        assert "$" not in "".join(
            tree.xpath("//text()[not(ancestor::math) and not(ancestor::code)]")
        )
    assert converted >= 60
    assert not reported, reported


def test_code_block_is_not_math(seeds: Settings) -> None:
    """An indented line that holds TeX stays verbatim code, not MathML."""
    post = next(p for p in _posts(seeds, sync(seeds)) if "MathJax" in p.title)
    tree = lxml.html.fragment_fromstring(post.content_html, create_parent="div")
    code = "".join(tree.xpath("//pre//text()"))
    assert "\\begin{equation}一个超长的数学公式\\end{equation}" in code


def test_series_from_chinese_titles(seeds: Settings) -> None:
    """重温SSM(二) and Transformer升级之路:1、 name their series and index."""
    by_title = {p.title: p for p in _posts(seeds, sync(seeds))}
    ssm = by_title["重温SSM(二):HiPPO的一些遗留问题"]
    assert (ssm.series, ssm.series_index) == ("重温SSM", 2)
    upgrade = by_title["Transformer升级之路:1、Sinusoidal位置编码追根溯源"]
    assert (upgrade.series, upgrade.series_index) == ("Transformer升级之路", 1)
    vae = by_title["变分自编码器(八):估计样本概率密度"]
    assert (vae.series, vae.series_index) == ("变分自编码器", 8)


def test_years_roll_forward_in_ascending_pages(seeds: Settings) -> None:
    """With year = 2019, the first page's dates run 2019-07-21 … 2021-03-08 in order."""
    posts = _posts(seeds, sync(seeds))
    first_page = sorted(
        (p for p in posts if any("000_" in s for s in p.sources)), key=lambda p: p.sources[0]
    )
    dates = [p.published.date().isoformat() for p in first_page]
    assert dates[0] == "2019-07-21"
    assert dates == sorted(dates)
    undated = next(p for p in first_page if "有限的学习率" in p.title)
    assert undated.published == first_page[1].published
    assert any("neighbouring entry's date" in w for w in undated.warnings)


def test_excerpts_respect_display_width(seeds: Settings) -> None:
    """A summary fits the excerpt width in columns and ends at a sentence, never inside 《》."""
    for post in _posts(seeds, sync(seeds)):
        text = post.summary_text
        assert display_width(text.replace("\n", "")) <= 240 + 40 * text.count("$") // 2
        assert text.count("《") == text.count("》"), text
        if text != post.content_text:
            assert text.rstrip().endswith(("。", "!", "?", "!", "?", "…", "”", ")", ":", ":"))
