"""The first user's real listing pages, all the way to feeds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from gazette.catalog import iter_posts, post_as_json
from gazette.config import Settings, load_settings
from gazette.feeds import build_feeds

from .conftest import NOW, SEEDS, sync
from .feedkit import ATOM, MATHML, XHTML, atom_schema

pytestmark = pytest.mark.skipif(
    not SEEDS.is_dir(), reason="the seed pages are not beside the project"
)


@pytest.fixture(scope="module")
def seed_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    """The seeds built with every post in the main feeds; the catalog as `posts --json`."""
    folder = tmp_path_factory.mktemp("seeds")
    config = folder / "gazette.toml"
    config.write_text(
        '[site]\ntitle = "Seeds"\nurl = "https://seeds.example.org/"\nlanguage = "zh-CN"\n'
        'timezone = "Asia/Shanghai"\n'
        f'[[sources]]\npath = "{SEEDS}/*.txt"\nformat = "listing"\nyear = 2019\n'
        '[feeds]\noutput = "public"\nentries = 100\n'
        '[state]\ndatabase = "sqlite:///state.db"\n',
        encoding="utf-8",
    )
    settings: Settings = load_settings(config)
    store = sync(settings)
    build_feeds(settings, store, NOW)
    with store.transaction() as connection:
        posts = [post_as_json(post) for post in iter_posts(settings, connection, NOW)]
    store.close()
    return folder / "public", posts


def test_every_formula_in_the_seed_feeds_is_mathml(
    seed_site: tuple[Path, list[dict[str, object]]],
) -> None:
    """As many <math> elements in the Atom as in the catalog, each with its TeX, none as $."""
    folder, posts = seed_site
    expected = sum(str(p["content_html"]).count("<math") for p in posts)
    assert expected > 50
    atom = etree.parse(str(folder / "atom.xml"))
    maths = list(atom.getroot().iter(f"{MATHML}math"))
    assert len(maths) == expected
    assert atom_schema(with_mathml=True).validate(atom), atom_schema(True).error_log.last_error
    prose = copy.deepcopy(atom.getroot())
    etree.strip_elements(prose, f"{MATHML}math", f"{XHTML}code", with_tail=False)
    text = "".join(prose.itertext())
    assert "$$" not in text
    assert "\\begin{" not in text
    assert "\\frac" not in text
    rss = feedparser.parse((folder / "feed.xml").read_bytes())
    assert not rss.bozo
    assert sum(e.content[0].value.count("<math") for e in rss.entries) == expected


def test_eos_reads_as_text_in_every_format(
    seed_site: tuple[Path, list[dict[str, object]]],
) -> None:
    """The literal <eos> of a post is text a reader shows, never an element."""
    folder, _posts = seed_site
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    assert not list(atom.iter(f"{XHTML}eos"))
    assert "<eos>" in "".join(atom.itertext())
    items = json.loads((folder / "feed.json").read_text(encoding="utf-8"))["items"]
    assert any("&lt;eos&gt;" in item["content_html"] for item in items)
    assert not any("<eos>" in item["content_html"] for item in items)


def test_titles_dates_and_categories_match_posts_json(
    seed_site: tuple[Path, list[dict[str, object]]],
) -> None:
    """Each Atom and RSS entry carries the catalog's title, dates and categories."""
    folder, posts = seed_site
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    entries = list(atom.iter(f"{ATOM}entry"))
    assert len(entries) == len(posts) == 31
    for entry, post in zip(entries, posts, strict=True):
        assert entry.findtext(f"{ATOM}title") == post["title"]
        assert entry.findtext(f"{ATOM}published") == post["published"]
        assert entry.findtext(f"{ATOM}updated") == post["updated"]
        terms = [c.get("term") for c in entry.findall(f"{ATOM}category")]
        series = [post["series"]] if post["series"] else []
        assert terms == list(post["tags"]) + series  # type: ignore[call-overload]
    rss = feedparser.parse((folder / "feed.xml").read_bytes())
    assert [e.title for e in rss.entries] == [p["title"] for p in posts]
    series_feeds = sorted((folder / "series").glob("*/atom.xml"))
    assert len(series_feeds) == len({p["series"] for p in posts if p["series"]})
