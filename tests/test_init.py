"""`gazette init`: the config it writes for a Jekyll, Hugo or Hexo site's folder, or for a
feed served on loopback, builds that blog's feeds with the generator's URLs; it never
overwrites a file.

The sites are tests/data/sites/, each built with its real generator (as in
tests/test_generators.py) so that every URL is checked against a page it wrote.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from gazette.cli import cli
from gazette.config import load_settings

from .feedkit import build, catalog_json
from .test_generators import (
    HEXO_MODULES,
    HEXO_URLS,
    HUGO_URLS,
    JEKYLL_URLS,
    built_page,
    copy_site,
    generator,
)

# Hugo's posts are its main section's: the note in notes/ is another section's page.
HUGO_POSTS = {title: url for title, url in HUGO_URLS.items() if "/notes/" not in url}


@pytest.fixture(autouse=True)
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder init runs in: tmp_path/work."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def init(tmp_path: Path, *args: str, config: str = "gazette.toml") -> Result:
    """`gazette --config CONFIG init ARGS` run in tmp_path/work."""
    return CliRunner().invoke(cli, ["--config", config, "init", *args])


def build_jekyll(root: Path, public: Path) -> None:
    command = generator("jekyll")
    subprocess.run([command, "build", "-q", "-s", str(root), "-d", str(public)], check=True)


def build_hugo(root: Path, public: Path) -> None:
    command = generator("hugo")
    subprocess.run([command, "--quiet", "-s", str(root), "-d", str(public)], check=True)


def build_hexo(root: Path, public: Path) -> None:
    command = generator(str(HEXO_MODULES / ".bin" / "hexo"))
    (root / "node_modules").symlink_to(HEXO_MODULES)
    subprocess.run([command, "generate", "--silent"], cwd=root, check=True)
    assert public == root / "public"


CASES = {
    "jekyll": (build_jekyll, "jekyll-site", JEKYLL_URLS, "https://notes.example.com/blog/"),
    "hugo": (build_hugo, "hugo-site", HUGO_POSTS, "https://hugo.example.com/"),
    "hexo": (build_hexo, "hexo/public", HEXO_URLS, "https://hexo.example.com/notes/"),
}
SITE_VALUES = {
    "jekyll": ("Field Notes", "https://notes.example.com/blog/", "en", "Asia/Shanghai"),
    "hugo": ("代码与数学", "https://hugo.example.com/", "zh-CN", "Asia/Shanghai"),
    "hexo": ("六边形笔记", "https://hexo.example.com/notes/", "zh-CN", "Asia/Shanghai"),
}


def config_in(tmp_path: Path) -> Path:
    (found,) = tmp_path.glob("*/gazette.toml")
    return found


@pytest.mark.parametrize("name", sorted(CASES))
def test_init_on_a_site_builds_its_feeds_with_the_generators_urls(
    name: str, tmp_path: Path
) -> None:
    """init on a site's folder writes a config whose `gazette build` gives every post the
    URL of a page the real generator wrote, with the site's title, URL, language and zone."""
    build_site, built, urls, base = CASES[name]
    root = copy_site(name, tmp_path)
    build_site(root, tmp_path / built)
    result = init(tmp_path, str(root))
    assert result.exit_code == 0, result.output
    config = config_in(tmp_path)
    site = tomllib.loads(config.read_text(encoding="utf-8"))["site"]
    assert (site["title"], site["url"], site["language"], site["timezone"]) == SITE_VALUES[name]
    built_by_gazette = CliRunner().invoke(cli, ["--config", str(config), "build"])
    assert built_by_gazette.exit_code == 0, built_by_gazette.output
    settings = load_settings(config)
    posts = {str(post["title"]): str(post["url"]) for post in catalog_json(settings)}
    assert posts == urls
    feed = (settings.resolve(settings.feeds.output) / "feed.xml").read_text(encoding="utf-8")
    for url in urls.values():
        assert built_page(tmp_path / built, url, base).is_file(), url
        assert f"<link>{url}</link>" in feed


def test_init_says_what_to_run_next_and_what_it_guessed(tmp_path: Path) -> None:
    """A Hugo site without title or timeZone gets guesses marked in the file and listed,
    and the next commands name the config written."""
    root = copy_site("hugo", tmp_path)
    (root / "hugo.toml").write_text('baseURL = "https://hugo.example.com/"\n', encoding="utf-8")
    result = init(tmp_path, str(root), config="blog.toml")
    assert result.exit_code == 0, result.output
    text = config_in_named(tmp_path, "blog.toml")
    assert 'title = "hugo"' in text
    assert "GUESSED: title is not in hugo.toml" in text
    assert 'timezone = "UTC"' in text
    assert "GUESSED: timeZone is not in hugo.toml" in text
    assert "guessed: title is not in hugo.toml" in result.output
    assert "blog.toml check" in result.output
    assert "blog.toml build" in result.output


def config_in_named(tmp_path: Path, name: str) -> str:
    (found,) = tmp_path.glob(f"*/{name}")
    return found.read_text(encoding="utf-8")


def test_init_never_overwrites_a_file(tmp_path: Path) -> None:
    """With a file where the config would go, init stops, names it and the fix, and leaves
    it as it was."""
    root = copy_site("jekyll", tmp_path)
    Path("gazette.toml").write_text("# mine\n", encoding="utf-8")
    result = init(tmp_path, str(root))
    kept = Path("gazette.toml").read_text(encoding="utf-8")
    assert result.exit_code == 2
    assert "gazette.toml: already exists, and init never overwrites a file" in result.output
    assert "gazette --config OTHER.toml init" in result.output
    assert kept == "# mine\n"


def test_init_on_a_folder_that_is_no_site_says_what_a_site_is(tmp_path: Path) -> None:
    """A folder of Markdown that no generator builds is an error naming what was looked for."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# A\n", encoding="utf-8")
    result = init(tmp_path, str(tmp_path / "notes"))
    assert result.exit_code == 2
    assert "is a folder, but not the top folder of a Jekyll (_config.yml and _posts/)" in (
        result.output
    )
    assert not list(tmp_path.glob("*/gazette.toml"))


def test_init_inside_the_site_keeps_gazettes_files_out_of_what_it_publishes(
    tmp_path: Path,
) -> None:
    """With the config in a Jekyll site's folder, init puts state, feeds and outbox under
    _gazette/, which Jekyll does not copy into _site, the source is the folder itself, and
    it warns that Jekyll would publish the config file."""
    root = copy_site("jekyll", tmp_path)
    config = root / "gazette.toml"
    result = init(tmp_path, str(root), config=str(config))
    assert result.exit_code == 0, result.output
    written = tomllib.loads(config.read_text(encoding="utf-8"))
    assert written["feeds"]["output"] == "_gazette/public"
    assert written["state"]["database"] == "sqlite:///_gazette/state/gazette.db"
    assert written["sources"] == [{"path": ".", "format": "markdown", "generator": "jekyll"}]
    assert "warning: Jekyll copies gazette.toml into the site it builds: add it to exclude" in (
        result.output
    )


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Loopback Letters</title><link>https://letters.example.net/</link>
<description>A feed for the init test.</description><language>fr-fr</language>
<item><title>Premier</title><link>https://letters.example.net/2024/premier/</link>
<guid>https://letters.example.net/2024/premier/</guid>
<pubDate>Tue, 02 Jan 2024 09:00:00 +0000</pubDate><description>Un.</description></item>
<item><title>Second</title><link>https://letters.example.net/2024/second/</link>
<guid>https://letters.example.net/2024/second/</guid>
<pubDate>Wed, 03 Jan 2024 09:00:00 +0000</pubDate><description>Deux.</description></item>
</channel></rss>
"""


def test_init_on_a_feed_url_builds_its_feeds(tmp_path: Path, httpserver: HTTPServer) -> None:
    """init on a feed served over HTTP takes the site's title, link and language from it,
    and the config it writes builds feeds whose posts link to the feed's pages."""
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    url = httpserver.url_for("/feed.xml")
    result = init(tmp_path, url)
    assert result.exit_code == 0, result.output
    assert "2 posts" in result.output
    config = config_in(tmp_path)
    written = tomllib.loads(config.read_text(encoding="utf-8"))
    site = written["site"]
    assert (site["title"], site["url"], site["language"]) == (
        "Loopback Letters",
        "https://letters.example.net/",
        "fr-FR",
    )
    assert written["sources"] == [{"path": url, "format": "feed"}]
    settings = load_settings(config)
    build(settings)
    posts = {str(post["title"]): post["url"] for post in catalog_json(settings)}
    assert posts == {
        "Second": "https://letters.example.net/2024/second/",
        "Premier": "https://letters.example.net/2024/premier/",
    }


def test_init_on_a_url_that_is_no_feed_is_an_error(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A page that is not a feed stops init with the URL and what to give instead."""
    httpserver.expect_request("/").respond_with_data("<html><p>hi</p></html>")
    result = init(tmp_path, httpserver.url_for("/"))
    assert result.exit_code == 1
    assert httpserver.url_for("/") in result.output
    assert "give the URL of the blog's feed" in result.output


def test_init_writes_where_every_command_looks(tmp_path: Path, work: Path) -> None:
    """Without --config, init writes config/gazette.toml (the default every command
    reads), keeps gazette's files beside config/, and says to run plain `gazette check`."""
    root = copy_site("hexo", tmp_path)
    result = CliRunner().invoke(cli, ["init", str(root)], env={"GAZETTE_CONFIG": None})
    assert result.exit_code == 0, result.output
    written = tomllib.loads((work / "config" / "gazette.toml").read_text(encoding="utf-8"))
    assert written["state"]["database"] == "sqlite:///../state/gazette.db"
    assert written["sources"][0]["path"] == str(root)
    assert "\n  gazette check " in result.output


def test_init_on_a_json_feed_takes_its_title_home_page_and_language(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A JSON Feed gives the site's title, home_page_url and language; with no time zone
    in any feed, UTC is written as a guess."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Loopback JSON",
        "home_page_url": "https://json.example.net/",
        "language": "zh_TW",
        "items": [
            {
                "id": "1",
                "url": "https://json.example.net/one/",
                "title": "One",
                "content_text": "One.",
                "date_published": "2024-01-02T09:00:00Z",
            }
        ],
    }
    httpserver.expect_request("/feed.json").respond_with_json(feed)
    result = init(tmp_path, httpserver.url_for("/feed.json"))
    assert result.exit_code == 0, result.output
    text = config_in(tmp_path).read_text(encoding="utf-8")
    site = tomllib.loads(text)["site"]
    assert (site["title"], site["url"], site["language"], site["timezone"]) == (
        "Loopback JSON",
        "https://json.example.net/",
        "zh-TW",
        "UTC",
    )
    assert "GUESSED: a feed does not say its time zone" in text
    settings = load_settings(config_in(tmp_path))
    build(settings)
    assert [post["url"] for post in catalog_json(settings)] == ["https://json.example.net/one/"]
