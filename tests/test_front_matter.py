"""Front matter as blogs write it: Jekyll's conventions, per-post authors in every feed,
plain inferred titles, and distinct posts kept apart even when their bodies agree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from gazette.config import Settings, load_settings
from gazette.errors import ConfigError

from .conftest import SITE
from .feedkit import ATOM, build, catalog_json, output

Site = Callable[..., Settings]
Write = Callable[[str, str | bytes], Path]
JEKYLL = '[[sources]]\npath = "_posts/*.md"\nformat = "markdown"\ngenerator = "jekyll"\n'
PLAIN = '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n'
DC = "{http://purl.org/dc/elements/1.1/}"


def posts_by_title(settings: Settings) -> dict[str, dict[str, object]]:
    build(settings)
    return {str(post["title"]): post for post in catalog_json(settings)}


def test_jekyll_tags_and_categories_are_space_separated(site: Site, write: Write) -> None:
    """In a Jekyll source a string of tags is split at spaces; elsewhere at commas."""
    write("_config.yml", "title: A Jekyll site\n")
    write(
        "_posts/2021-07-11-diffusion.md",
        "---\ntitle: Diffusion\ntags: generative-model math-heavy\ncategories: notes ml\n---\nA.\n",
    )
    write("posts/a.md", "---\ntitle: Plain\ndate: 2021-07-12\ntags: one tag, two\n---\nB.\n")
    posts = posts_by_title(site(JEKYLL + PLAIN))
    assert posts["Diffusion"]["tags"] == ["generative-model", "math-heavy", "notes", "ml"]
    assert posts["Plain"]["tags"] == ["one tag", "two"]


def test_a_date_from_a_jekyll_file_name_is_no_warning(site: Site, write: Write) -> None:
    """Jekyll's YYYY-MM-DD-slug.md gives the date without a warning; a date found elsewhere
    in a file name still warns."""
    write("posts/2021-07-11-diffusion-models.md", "---\ntitle: Named\n---\nA.\n")
    write("posts/notes-2021-07-12.md", "---\ntitle: Guessed\n---\nB.\n")
    posts = posts_by_title(site(PLAIN))
    assert posts["Named"]["published"] == "2021-07-11T00:00:00+08:00"
    assert posts["Named"]["warnings"] == []
    assert posts["Guessed"]["warnings"] == [
        "no date in the front matter: took 2021-07-12 from the file name"
    ]


def test_jekyll_titles_a_post_from_its_file_name(site: Site, write: Write) -> None:
    """A Jekyll post with no title is titled from its slug, as Jekyll titles it."""
    write("_config.yml", "title: A Jekyll site\n")
    write(
        "_posts/2021-07-11-diffusion-models.md",
        "---\ntags: x\n---\n> 参考了 [某文](https://a.example/)\n",
    )
    posts = posts_by_title(site(JEKYLL))
    post = posts["Diffusion Models"]
    assert post["title_inferred"] is True
    assert post["warnings"] == [
        "no title: took 'Diffusion Models' from the file name, as Jekyll does"
    ]


def test_inferred_titles_are_plain_text(site: Site, write: Write) -> None:
    """A title guessed from the first sentence has no Markdown left in it: links keep their
    text, and a leading quote is passed over for the author's own first sentence."""
    write(
        "posts/a.md",
        "---\ndate: 2024-05-01\n---\n> 参考了别人的题解\n\n**本题**见[题目链接](https://a.example/p)。其余略。\n",
    )
    posts = posts_by_title(site(PLAIN))
    assert list(posts) == ["本题见题目链接"]


def test_posts_that_share_a_body_stay_distinct(site: Site, write: Write) -> None:
    """Two files with empty bodies, or one body under two titles, are each their own post."""
    write("posts/a.md", "---\ntitle: Empty one\ndate: 2024-05-01\n---\n")
    write("posts/b.md", "---\ntitle: Empty two\ndate: 2024-05-01\n---\n")
    write("posts/c.md", "---\ntitle: Draft A\ndate: 2024-05-02\n---\nTBD\n")
    write("posts/d.md", "---\ntitle: Draft B\ndate: 2024-05-02\n---\nTBD\n")
    posts = posts_by_title(site(PLAIN))
    assert sorted(posts) == ["Draft A", "Draft B", "Empty one", "Empty two"]
    assert all(len(post["sources"]) == 1 for post in posts.values())  # type: ignore[arg-type]


def test_per_post_authors_reach_every_feed(tmp_path: Path, write: Write) -> None:
    """A post's author is its Atom <author>, its RSS dc:creator and its JSON Feed authors;
    a post without one is left to the site's author."""
    write("posts/a.md", "---\ntitle: By Ada\ndate: 2024-05-01\nauthor: Ada Lovelace\n---\nA.\n")
    write("posts/b.md", "---\ntitle: By two\ndate: 2024-05-02\nauthors: [Bo, Cy]\n---\nB.\n")
    write("posts/c.md", "---\ntitle: By the site\ndate: 2024-05-03\n---\nC.\n")
    site_author = SITE.replace("[site]\n", '[site]\nauthor = "Site Owner"\n')
    write("gazette.toml", site_author + PLAIN)
    settings = load_settings(tmp_path / "gazette.toml")
    build(settings)
    folder = output(settings)
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    atom_authors = {
        e.findtext(f"{ATOM}title"): [a.findtext(f"{ATOM}name") for a in e.findall(f"{ATOM}author")]
        for e in atom.iter(f"{ATOM}entry")
    }
    assert atom_authors == {"By Ada": ["Ada Lovelace"], "By two": ["Bo", "Cy"], "By the site": []}
    assert atom.find(f"{ATOM}author/{ATOM}name").text == "Site Owner"  # type: ignore[union-attr]
    rss = etree.parse(str(folder / "feed.xml")).getroot()
    creators = {
        i.findtext("title"): [c.text for c in i.findall(f"{DC}creator")] for i in rss.iter("item")
    }
    assert creators == {
        "By Ada": ["Ada Lovelace"],
        "By two": ["Bo", "Cy"],
        "By the site": ["Site Owner"],
    }
    assert not feedparser.parse((folder / "feed.xml").read_bytes()).bozo
    items = json.loads((folder / "feed.json").read_text("utf-8"))["items"]
    assert {i["title"]: i.get("authors") for i in items} == {
        "By Ada": [{"name": "Ada Lovelace"}],
        "By two": [{"name": "Bo"}, {"name": "Cy"}],
        "By the site": None,
    }
    assert {p["title"]: p["authors"] for p in catalog_json(settings)}["By two"] == ["Bo", "Cy"]


def test_feed_entries_keep_their_authors(site: Site, write: Write) -> None:
    """An Atom entry's author, read from a feed source, is the post's author."""
    write(
        "feeds/a.xml",
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>'
        "<updated>2024-01-01T00:00:00Z</updated><entry><title>E</title><id>urn:e</id>"
        "<updated>2024-01-01T00:00:00Z</updated><author><name>Eve</name></author></entry></feed>",
    )
    posts = posts_by_title(site('[[sources]]\npath = "feeds/a.xml"\nformat = "feed"\n'))
    assert posts["E"]["authors"] == ["Eve"]


def test_a_generator_on_a_listing_source_is_a_config_error(site: Site) -> None:
    """generator = "jekyll" on a source that is not Markdown is refused, naming the key."""
    with pytest.raises(ConfigError) as caught:
        site('[[sources]]\npath = "l.txt"\nformat = "listing"\ngenerator = "jekyll"\n')
    assert 'generator is for format = "markdown" sources only' in str(caught.value)
