"""Markdown as generators render it: bare URLs linked, stopping where a Chinese sentence goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gazette.catalog import iter_posts
from gazette.config import Settings

from .conftest import NOW, sync

SOURCE = '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n'


def content_of(site: Callable[..., Settings], write: Callable[..., Path], body: str) -> str:
    """The content HTML of a one-post Markdown site whose body is ``body``."""
    write("posts/a.md", "---\ntitle: A post\ndate: 2024-05-01\n---\n" + body + "\n")
    settings = site(SOURCE)
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
