"""Rendering: autoescaping, formulas kept as TeX, Chinese wrapped by display width."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gazette.catalog import iter_posts
from gazette.catalog.blocks import render_listing
from gazette.catalog.text import display_width
from gazette.config import Settings
from gazette.digest.mailsafe import mail_safe
from gazette.digest.render import Rendered, render_issue
from gazette.digest.wrap import wrap

from ..conftest import NOW, sync
from .conftest import DIGEST, MARKDOWN

URL = "https://example.org/a/rather/long/path/that/must/never/be/broken/when/wrapped?x=1&y=2"
CHINESE = (
    "训练一个参数量为$N$的Transformer,使用$D$个token,总计算量约为$C\\approx 6ND$次浮点运算。"
    "经常有朋友问训练一个某某规模的模型大概要花多少钱,精确的答案取决于太多细节,"
    f"但量级上的估计其实只需要一个经验公式,详见{URL} 这里。"
)


def rendered(site: Callable[..., Settings], write: Callable[[str, str], Path],
             title: str, body: str, digest_keys: str = "", tail: str = "") -> Rendered:  # fmt: skip
    write("posts/p.md", f"---\ntitle: {title!r}\ndate: 2026-11-20T10:00:00+08:00\n---\n\n{body}\n")
    settings = site(MARKDOWN, DIGEST.replace("[digest]\n", "[digest]\n" + digest_keys) + tail)
    store = sync(settings)
    with store.transaction() as connection:
        posts = list(iter_posts(settings, connection, NOW))
    return render_issue(settings, 1, "2026-11-21T08", "Subject", posts, NOW)


def test_titles_are_escaped_in_html(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """A title holding <script> stays text in the HTML part and plain in the text part."""
    issue = rendered(site, write, "Why <script>alert(1)</script> & co", "Body.")
    assert "<script>" not in issue.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in issue.html
    assert "Why <script>alert(1)</script> & co" in issue.text


def test_formulas_stay_readable_in_both_parts(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """No MathML reaches the mail; each formula is its TeX in the HTML and the text."""
    issue = rendered(site, write, "Math", "Energy $E = mc^2$ and $a<b$ here.")
    assert "<math" not in issue.html
    assert '<code class="tex"' in issue.html
    assert "E = mc^2" in issue.html
    assert "a&lt;b" in issue.html
    assert "$E = mc^2$" in issue.text
    assert "$a<b$" in issue.text


def test_chinese_wraps_by_display_width_and_urls_stay_whole(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """Text lines fit 72 columns (a CJK character is two); a URL is never broken, so a
    long one gets a line of its own."""
    issue = rendered(site, write, "中文", CHINESE, tail="[catalog]\nexcerpt_width = 2000\n")
    lines = issue.text.splitlines()
    assert URL in lines
    assert all(display_width(line) <= 72 for line in lines if "://" not in line)
    assert any(display_width(line) >= 60 for line in lines)  # lines are filled, not chopped
    assert "$C\\approx 6ND$" in issue.text


def test_wrap_never_starts_a_line_with_closing_punctuation() -> None:
    """Line breaks follow the Chinese rules: no ,or 。 at the start of a line."""
    text = "这是一个很长的句子,其中有很多标点符号。" * 12
    lines = wrap(text, 30).splitlines()
    assert all(display_width(line) <= 30 for line in lines)
    assert not any(re.match(r"^[,。]", line) for line in lines)
    assert "".join(lines) == text


LATIN = (
    "The function from Part 1 lets every position attend to every other position. That "
    "is fine for an encoder, but a language model that predicts the next token must not "
    "peek at it. This part adds a causal mask and then counts what the whole thing costs."
)


@pytest.mark.parametrize("width", [30, 47, 72])
def test_wrapped_latin_text_keeps_within_the_width(width: int) -> None:
    """The space before a word counts: no line of Latin text is one column too wide."""
    lines = wrap(LATIN, width).splitlines()
    assert all(display_width(line) <= width for line in lines), lines
    assert " ".join(lines) == LATIN


def test_every_line_of_the_text_part_keeps_to_72_columns_but_urls(
    site: Callable[..., Settings],
    write: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The footer and the excerpts alike: only a URL may pass 72 columns, on its own line
    or after its label."""
    title = "An exceedingly long site title that, with its address, passes a line"
    monkeypatch.setenv("GAZETTE_SITE_TITLE", title)
    issue = rendered(site, write, "Latin", LATIN, tail="[catalog]\nexcerpt_width = 2000\n")
    assert title in issue.text
    assert any(display_width(line) > 60 for line in issue.text.splitlines())
    long = [line for line in issue.text.splitlines() if display_width(line) > 72]
    assert all(re.fullmatch(r"(\w+( \w+)?: )?https?://\S+", line) for line in long), long


def test_a_numbered_list_is_numbered_in_the_text_part_too(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """An <ol> (Markdown 1. 2., a listing's 1、2、) keeps its numbers in the text part,
    from its start; a <ul> keeps its dashes."""
    body = "Steps:\n\n3. warm up\n4. decay\n\nAnd:\n\n- one\n- two\n"
    issue = rendered(site, write, "Lists", body, tail="[catalog]\nexcerpt_width = 2000\n")
    assert '<ol start="3">' in issue.html
    assert "3. warm up\n\n4. decay" in issue.text
    assert "- one\n\n- two" in issue.text
    listing = render_listing("做法如下:\n1、先预热\n2、再衰减")
    text = mail_safe(listing.html, "https://example.org/p/").text
    assert "1. 先预热\n\n2. 再衰减" in text


def test_user_templates_override_the_bundled_ones(
    site: Callable[..., Settings], write: Callable[[str, str], Path]
) -> None:
    """digest.templates names a folder whose digest.txt.j2 replaces the bundled one."""
    write("mine/digest.txt.j2", "Mine: {% for post in posts %}{{ post.title }}{% endfor %}\n")
    issue = rendered(site, write, "Hello", "Body.", digest_keys='templates = "mine"\n')
    assert issue.text == "Mine: Hello\n"
    assert "Hello" in issue.html  # the HTML template is still the bundled one
