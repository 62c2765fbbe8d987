"""Markdown as generators render it: bare URLs linked, stopping where a Chinese sentence
goes on; TeX in every delimiter and convention a blog uses, and a finding for the rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from linkify_it import LinkifyIt

from gazette.catalog import check_catalog, iter_posts
from gazette.catalog.linkify import CjkLinkify
from gazette.catalog.markdown_html import render_markdown
from gazette.config import Settings
from gazette.errors import ConfigError
from gazette.store import Store

from .conftest import NOW, sync

SOURCE = '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n'


def content_of(
    site: Callable[..., Settings], write: Callable[..., Path], body: str, keys: str = ""
) -> str:
    """The content HTML of a one-post Markdown site whose body is ``body`` (``keys``: more
    TOML for its [[sources]] table)."""
    write("posts/a.md", "---\ntitle: A post\ndate: 2024-05-01\n---\n" + body + "\n")
    settings = site(SOURCE + keys)
    with sync(settings).transaction() as connection:
        (post,) = list(iter_posts(settings, connection, NOW))
    return post.content_html


@pytest.mark.parametrize(
    ("body", "link"),
    [
        ("见https://example.org/a/b，然后看看。", "https://example.org/a/b"),
        ("地址：https://example.org/archives/1234。下一句", "https://example.org/archives/1234"),
        ("（https://example.org/q?a=1）", "https://example.org/q?a=1"),
        ("「https://example.org/q」和“https://example.org/r”", "https://example.org/q"),
        ("see https://example.org/x and more", "https://example.org/x"),
        (
            "百科 https://zh.wikipedia.org/wiki/拉普拉斯 后面",
            "https://zh.wikipedia.org/wiki/拉普拉斯",
        ),
    ],
)
def test_bare_urls_are_linked_up_to_cjk_punctuation_or_a_space(
    site: Callable[..., Settings], write: Callable[..., Path], body: str, link: str
) -> None:
    """A bare URL becomes a link whose text ends before the CJK punctuation or space."""
    html = content_of(site, write, body)
    assert f">{link}</a>" in html


def test_two_urls_joined_by_a_chinese_comma_are_two_links(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """Text after the ideographic comma is read again: both URLs become links."""
    html = content_of(site, write, "https://example.org/a、https://example.org/b")
    assert html.count("<a ") == 2
    assert ">https://example.org/a</a>、<a" in html


def test_www_hosts_are_linked_but_bare_file_names_are_not(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """As in GFM, www.example.org is linked over http, setup.py and example.com are text."""
    html = content_of(site, write, "参考 www.example.org/x，或 setup.py 与 example.com")
    assert '<a href="http://www.example.org/x"' in html
    assert ">www.example.org/x</a>，" in html
    assert html.count("<a ") == 1


def test_urls_in_code_and_markdown_links_are_left_alone(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """Beside a bare URL that is linked, one in code stays code and a Markdown link keeps
    its own text."""
    body = "`https://example.org/c`, [the text](https://example.org/d) and https://example.org/e"
    html = content_of(site, write, body)
    assert "<code>https://example.org/c</code>" in html
    assert ">the text</a>" in html
    assert ">https://example.org/e</a>" in html
    assert html.count("<a ") == 2


@pytest.mark.parametrize(
    "text",
    [
        "写信到 someone@example.org 联系",
        "参考 WWW.Example.org/x，然后",
        "协议相对 //example.org/path 的链接",
        "下载 ftp://example.org/file 与 mailto:a@example.org",
        "见https://example.org/a，然后",
        "没有链接的一段中文，只有 example.com 和 setup.py。",
    ],
)
def test_the_quick_link_check_links_what_linkify_it_links(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text is linked as it is with linkify-it's own pretest alone: the quick check before
    it (a colon, //, @ or www.) lets every kept link through."""
    quick = render_markdown(text, "").html
    monkeypatch.setattr(CjkLinkify, "pretest", LinkifyIt.pretest)
    assert render_markdown(text, "").html == quick


# --- math ----------------------------------------------------------------------------

INLINE = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">'
DISPLAY = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'


def test_backslash_parentheses_and_brackets_are_math(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """\\(b^2\\) is inline math (not "(b^2)") and \\[…\\] display math, even with \\| inside."""
    html = content_of(site, write, "由 \\(b^2\\) 可得\n\n\\[\n\\|x\\|_1 \\le 1\n\\]\n")
    assert html.count(INLINE) == 1
    assert html.count(DISPLAY) == 1
    assert "(b^2)" not in html
    assert "\\|x\\|_1 \\le 1" in html  # the TeX annotation keeps \\| as written


def test_kramdown_double_dollars_in_a_sentence_are_inline(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """With math = ["kramdown"], $$…$$ inside a paragraph is inline math and a paragraph of
    its own is display math, as kramdown renders them; without it both are display."""
    body = "the loss $$L = x^2$$ falls\n\n$$\nL = y^2\n$$\n"
    html = content_of(site, write, body, 'math = ["kramdown"]\n')
    assert html.count(INLINE) == 1
    assert html.count(DISPLAY) == 1
    assert html.index(INLINE) < html.index("falls") < html.index(DISPLAY)
    assert content_of(site, write, body).count(DISPLAY) == 2


def test_backticked_dollars_are_math_where_the_source_says_so(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """With math = ["backticks"], `$x_1$` is inline math and `$$y$$` display; other code
    spans stay code, and without the convention all three are code."""
    body = "见 `$x_1$` 与 `$$y^2$$`，代码 `print($x)` 照旧"
    html = content_of(site, write, body, 'math = ["backticks"]\n')
    assert (html.count(INLINE), html.count(DISPLAY)) == (1, 1)
    assert "<code>print($x)</code>" in html
    assert "<code>$x_1$</code>" not in html
    assert content_of(site, write, body).count("<code>") == 3


def test_tex_left_unconverted_is_a_finding(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """TeX outside any delimiter (\\frac with no $) is a warning at the post's file; TeX in
    code is not."""
    write("posts/a.md", "---\ntitle: A\ndate: 2024-05-01\n---\n比值 \\frac{a}{b} 与 `\\alpha`\n")
    write("posts/b.md", "---\ntitle: B\ndate: 2024-05-02\n---\n代码 `\\frac{a}{b}` 与 $\\alpha$\n")
    settings = site(SOURCE)
    findings = check_catalog(settings, Store(settings.database_url), NOW)
    left = [f for f in findings if "looks like TeX" in f.message]
    assert [(f.severity, f.location.rsplit("/", 1)[-1]) for f in left] == [("warning", "a.md:1")]
    assert "\\frac" in left[0].message


def test_math_conventions_on_a_listing_source_are_a_config_error(
    site: Callable[..., Settings],
) -> None:
    """math = [...] on a source that is not Markdown is refused, naming the key."""
    with pytest.raises(ConfigError) as caught:
        site('[[sources]]\npath = "l.txt"\nformat = "listing"\nmath = ["kramdown"]\n')
    assert "math" in str(caught.value)
    assert "markdown" in str(caught.value)
