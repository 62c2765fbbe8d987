"""A source at a site's top folder is read as its generator reads it, and the generators'
front matter conventions (Jekyll's excerpts, folder categories and published: false;
Hugo's summaries, list pages, expiryDate, aliases, uglyURLs and YAML or JSON configs)
match what the real generator builds from tests/data/sites/.
"""

from __future__ import annotations

import html
import json
import re
import time
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gazette.cli import cli
from gazette.config import Settings, load_settings

from .feedkit import build, catalog_json
from .test_generators import (
    HEXO_URLS,
    HUGO_URLS,
    JEKYLL_URLS,
    Site,
    assert_urls_are_pages,
    catalog,
    copy_site,
)
from .test_init import CASES, HUGO_POSTS

TOP_FOLDER_URLS = {"jekyll": JEKYLL_URLS, "hugo": HUGO_POSTS, "hexo": HEXO_URLS}


def top_folder_source(root: Path) -> str:
    return f'[[sources]]\npath = "{root}"\nformat = "markdown"\n'


def built(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A copy of the fixture site ``name`` built by its generator: (its folder, its pages)."""
    build_site, folder, _, _ = CASES[name]
    root = copy_site(name, tmp_path)
    build_site(root, tmp_path / folder)
    return root, tmp_path / folder


def element_text(page: Path, css_class: str) -> str:
    """The words of the page's <div class=...>, markup and comments stripped."""
    found = re.search(f'<div class="{css_class}">(.*?)</div>', page.read_text(), re.S)
    assert found is not None, page
    return " ".join(html.unescape(re.sub(r"<!--.*?-->|<[^>]+>", " ", found.group(1))).split())


def words(text: object) -> str:
    return " ".join(str(text).split())


def check_findings(settings: Settings) -> str:
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "check"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_source_at_a_sites_top_folder_is_read_by_its_generator(
    name: str, site: Site, tmp_path: Path
) -> None:
    """path = the site's folder, with no generator named: the generator is found, its posts
    are read (Jekyll's _posts folders, Hugo's main section, Hexo's source/_posts) and every
    URL is a page it wrote."""
    root, public = built(tmp_path, name)
    posts = catalog(site, top_folder_source(root))
    assert_urls_are_pages(posts, TOP_FOLDER_URLS[name], public, CASES[name][3])


def test_a_folder_that_is_no_site_is_an_error(site: Site, tmp_path: Path) -> None:
    """A Markdown source at a folder no generator builds says what a site's folder holds,
    where it used to read nothing."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nA.\n")
    settings = site(top_folder_source(tmp_path / "notes"))
    result = CliRunner().invoke(cli, ["--config", str(settings.config_path), "check"])
    assert result.exit_code == 1
    assert "[[sources]] #1: error: " in result.output
    assert "is a folder, but not the top folder of a Jekyll" in result.output


def test_jekyll_excerpts_categories_and_unpublished_posts_are_jekylls(
    site: Site, tmp_path: Path
) -> None:
    """The summary is Jekyll's excerpt (before the site's or the post's excerpt_separator),
    a post under ml/_posts/ is tagged ml, and published: false leaves a post out."""
    root, public = built(tmp_path, "jekyll")
    posts = catalog(site, top_folder_source(root))
    base = "https://notes.example.com/blog/"
    for title in ("An excerpt cut where the site says", "A post with its own separator"):
        page = public / JEKYLL_URLS[title][len(base) :]
        assert words(posts[title]["summary_text"]) == element_text(page, "excerpt")
    assert posts["Filed by its folder"]["tags"] == ["ml", "notes"]
    assert "Not published" not in posts
    assert not (public / "2023" / "04" / "01" / "not-published.html").exists()
    findings = check_findings(site(top_folder_source(root)))
    assert "2023-04-01-not-published.md:1: note: published: false: skipped" in findings


def test_hugo_summaries_list_pages_expiry_and_aliases_are_hugos(
    site: Site, tmp_path: Path
) -> None:
    """The summary is Hugo's .Summary (front matter summary, or the text before
    <!--more-->), updated its .Lastmod; _index.md is no post; an expired post is left out;
    aliases are known."""
    root, public = built(tmp_path, "hugo")
    settings = site(top_folder_source(root))
    posts = catalog(site, top_folder_source(root))
    for title in ("With a summary", "With a divider"):
        page = public / HUGO_URLS[title][len("https://hugo.example.com/") :] / "index.html"
        assert words(posts[title]["summary_text"]) == element_text(page, "summary")
    page = public / HUGO_URLS["With a summary"][len("https://hugo.example.com/") :]
    lastmod = re.search(r'<time class="lastmod">([^<]+)</time>', (page / "index.html").read_text())
    assert lastmod is not None
    updated = datetime.fromisoformat(str(posts["With a summary"]["updated"]))
    assert updated == datetime.fromisoformat(html.unescape(lastmod.group(1)))
    assert "Expired" not in posts
    assert "Posts" not in posts
    assert not (public / "2023" / "08" / "expired").exists()
    findings = check_findings(settings)
    assert "expired.md:1: note: expiryDate 2024-01-01 has passed: skipped" in findings
    assert "aliases" not in findings
    assert "_index.md" not in findings


def test_hugo_ugly_urls_are_the_html_files_hugo_writes(site: Site, tmp_path: Path) -> None:
    """With uglyURLs = true, each URL is the name.html page Hugo writes (a url of its own
    stays as given)."""
    root = copy_site("hugo", tmp_path / "copy")
    config = root / "hugo.toml"
    config.write_text("uglyURLs = true\n" + config.read_text(encoding="utf-8"))
    build_site, _, _, base = CASES["hugo"]
    build_site(root, tmp_path / "ugly")
    posts = catalog(site, top_folder_source(root))
    expected = {
        title: url if "/special/" in url else url.rstrip("/") + ".html"
        for title, url in HUGO_POSTS.items()
    }
    assert_urls_are_pages(posts, expected, tmp_path / "ugly", base)


@pytest.mark.parametrize("form", ["yaml", "json"])
def test_a_hugo_config_in_yaml_or_json_gives_the_same_urls(
    form: str, site: Site, tmp_path: Path
) -> None:
    """hugo.yaml or hugo.json in place of hugo.toml: the same settings, the same pages."""
    root = copy_site("hugo", tmp_path / "copy")
    settings = tomllib.loads((root / "hugo.toml").read_text(encoding="utf-8"))
    (root / "hugo.toml").unlink()
    dump = yaml.safe_dump if form == "yaml" else json.dumps
    (root / f"hugo.{form}").write_text(dump(settings), encoding="utf-8")
    build_site, _, _, base = CASES["hugo"]
    build_site(root, tmp_path / "public")
    posts = catalog(site, top_folder_source(root))
    assert_urls_are_pages(posts, HUGO_POSTS, tmp_path / "public", base)


HEXO_NAMED_POSTS = {
    "2024-05-06-dated-by-name.md": (
        "---\ntitle: Dated by its Name, Café!\ncategories: [Guides, Deep Dives]\n---\n"
        "Hexo reads this post's date from its file name.\n"
    ),
    "unpublished.md": (
        "---\ntitle: Unpublished\ndate: 2024-06-01 08:00:00\npublished: false\n---\nNot here.\n"
    ),
}
HEXO_DATED_URLS = {
    "Dated by its Name, Café!": (
        "Guides/Deep-Dives/2024/5/5/1200/dated-by-its-name-cafe-ac49f53aa091.html"
    ),
    "你好，世界": "%E9%9A%8F%E7%AC%94/2024/1/1/2100/"
    "%E4%BD%A0%E5%A5%BD%EF%BC%8C%E4%B8%96%E7%95%8C-36d2822d12c2.html",
    "A post in a folder": "uncategorized/2024/3/4/1030/a-post-in-a-folder-cf571d893afe.html",
    "A post with its own permalink": "special/own/",
}


@pytest.fixture
def in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process and the generators it starts run in New York's time zone."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("in_new_york")
def test_hexo_file_names_and_permalink_parts_are_hexos(site: Site, tmp_path: Path) -> None:
    """new_post_name dates a post by its file name, and :category, :i_month, :hour,
    :post_title and :hash are Hexo's, its date parts in the zone `hexo generate` runs in
    (New York here, the site's timezone being Shanghai); published: false leaves a post out."""
    root = copy_site("hexo", tmp_path)
    config = root / "_config.yml"
    rule = ":category/:year/:i_month/:i_day/:hour:minute/:post_title-:hash.html"
    text = config.read_text(encoding="utf-8").replace(":year/:month/:day/:title/", rule)
    config.write_text(text + 'new_post_name: ":year-:month-:day-:title.md"\n', encoding="utf-8")
    # Its post_link names a path that new_post_name no longer makes a slug of.
    (root / "source" / "_posts" / "tags.md").unlink()
    for name, post in HEXO_NAMED_POSTS.items():
        (root / "source" / "_posts" / name).write_text(post, encoding="utf-8")
    build_site, _, _, base = CASES["hexo"]
    build_site(root, root / "public")
    posts = catalog(site, top_folder_source(root))
    expected = {title: base + path for title, path in HEXO_DATED_URLS.items()}
    assert_urls_are_pages(posts, expected, root / "public", base)
    findings = check_findings(site(top_folder_source(root)))
    assert "unpublished.md:1: note: published: false: skipped, as Hexo does" in findings


def test_check_names_post_urls_that_are_no_page_of_the_built_site(
    site: Site, tmp_path: Path
) -> None:
    """With the site built into its own _site/ (and only then), `check` counts the post
    URLs found there and warns, at the post's file, of one whose page is missing."""
    root = copy_site("jekyll", tmp_path)
    settings = site(top_folder_source(root))
    assert "built site" not in check_findings(settings)
    CASES["jekyll"][0](root, root / "_site")
    total = len(JEKYLL_URLS)
    before = check_findings(settings)
    assert f"note: {total} of {total} post URLs are pages of the built site in" in before
    assert "is no page" not in before
    page = root / "_site" / "2022" / "01" / "05" / "untitled-post.html"
    page.unlink()
    findings = check_findings(settings)
    url = JEKYLL_URLS["Untitled Post"]
    assert f"2022-01-05-untitled-post.md:1: warning: {url} is no page of the built site" in (
        findings
    )
    assert f"note: {total - 1} of {total} post URLs are pages of the built site in" in findings


def test_a_hugo_config_folder_gives_the_same_urls(site: Site, tmp_path: Path) -> None:
    """Hugo's config/_default/ (hugo.toml, and permalinks.toml for [permalinks]) in place of
    hugo.toml: the site is found, read, and its pages are the ones Hugo writes."""
    root = copy_site("hugo", tmp_path / "copy")
    settings = tomllib.loads((root / "hugo.toml").read_text(encoding="utf-8"))
    (root / "hugo.toml").unlink()
    folder = root / "config" / "_default"
    folder.mkdir(parents=True)
    permalinks = settings.pop("permalinks")
    (folder / "hugo.json").write_text(json.dumps(settings), encoding="utf-8")
    (folder / "permalinks.yaml").write_text(yaml.safe_dump(permalinks), encoding="utf-8")
    build_site, _, _, base = CASES["hugo"]
    build_site(root, tmp_path / "public")
    posts = catalog(site, top_folder_source(root))
    assert_urls_are_pages(posts, HUGO_POSTS, tmp_path / "public", base)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "blog.toml"), "init", str(root)])
    assert "(config/_default/)" in result.output
    assert 'title = "代码与数学"' in (tmp_path / "blog.toml").read_text(encoding="utf-8")


def test_dates_without_an_offset_are_in_the_generators_time_zone(tmp_path: Path) -> None:
    """With site.timezone far from Jekyll's timezone (Kiritimati, UTC+14, against Shanghai),
    dates without an offset are still read in Jekyll's, so every URL is a page Jekyll wrote."""
    root, public = built(tmp_path, "jekyll")
    config = tmp_path / "kiritimati.toml"
    config.write_text(
        '[site]\ntitle = "T"\nurl = "https://t.example.org/"\ntimezone = "Pacific/Kiritimati"\n'
        f"{top_folder_source(root)}"
        f'[state]\ndatabase = "sqlite:///{tmp_path}/k.db"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    build(settings)
    posts = {str(post["title"]): post for post in catalog_json(settings)}
    assert_urls_are_pages(posts, JEKYLL_URLS, public, CASES["jekyll"][3])
