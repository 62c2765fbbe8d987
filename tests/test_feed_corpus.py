"""Feeds in the shapes the wild has: every encoding a declaration names, HTML entities,
html and xhtml titles, undated entries, odd ids, empty elements, RSS 0.91 to Atom 1.0.

The corpus in tests/data/feeds/ is kept in UTF-8 so it can be read and reviewed; each
test writes a file in the bytes its feed is published in (BYTE_FORMS) before reading it.
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from gazette.catalog import check_catalog
from gazette.config import Settings
from gazette.errors import SourceError
from gazette.models import Finding
from gazette.store import Store

from .conftest import NOW, ROOT
from .feedkit import ATOM, atom_schema, build, catalog_json, output

Site = Callable[..., Settings]
Write = Callable[[str, str | bytes], Path]
CORPUS = ROOT / "tests" / "data" / "feeds"
# The bytes each file is published in; the rest are UTF-8. GB2312 is written as GBK (its
# 镕 is not in GB2312), as the servers that label GBK pages GB2312 do.
BYTE_FORMS = {
    "rss091-netscape.xml": "cp1252",  # declared ISO-8859-1, with Windows' curly quotes
    "rss20-gb2312.xml": "gbk",
    "rss20-gb18030.xml": "gb18030",
    "rss20-big5.xml": "big5",
    "rss20-euc-kr.xml": "euc-kr",
    "rss20-shift-jis.xml": "shift_jis",
    "rss20-not-utf8.xml": "gb18030",  # declared UTF-8
    "atom10-utf16le-nobom.xml": "utf-16-le",
    "atom10-utf16be-bom.xml": "utf-16-be+bom",
}
TITLES = {
    "atom03.xml": ["Before the RFC"],
    "atom10-empty-summary.xml": ["An undated entry", "Nothing but a title"],
    "atom10-titles.xml": ["Plain a < b & c", "An xhtml title & bold", "Example Atom & friends"],
    "atom10-utf16be-bom.xml": ["Big end first"],
    "atom10-utf16le-nobom.xml": ["Wide characters, little end first"],
    "jsonfeed-undated.json": ["Undated JSON item", "Dated JSON item"],
    "rss091-netscape.xml": ["“Smart quotes” and a naïve résumé", "Second entry & more"],
    "rss092-undated.xml": ["Show one", "Untitled"],
    "rss10-rdf.xml": ["Second RDF item", "First RDF item"],
    "rss20-big5.xml": ["線性代數筆記（一）"],
    "rss20-cdata-entities.xml": ["Outside CDATA", "Résumé – café …"],
    "rss20-empty-elements.xml": [
        "An empty pubDate",
        "Empty description, empty content",
        "Untitled",
    ],
    "rss20-euc-kr.xml": ["첫 번째 글: 행렬"],
    "rss20-gb18030.xml": ["生僻字：𠮷与𩸽"],
    "rss20-gb2312.xml": ["第二篇：镕的写法", "第一篇：矩阵的秩"],
    "rss20-no-declaration.xml": ["Über naïve"],
    "rss20-odd-ids.xml": [
        "An IRI in Chinese",
        "A URL with a space and a lone percent",
        "A scheme with angle brackets",
        "A number for a guid",
        "A guid with a space",
    ],
    "rss20-shift-jis.xml": ["行列の話"],
}
ERRORS = {
    "rss20-unknown-encoding.xml": "names the encoding 'x-made-up-charset', which gazette does not",
    "rss20-not-utf8.xml": "not valid UTF-8 at byte 197 (line 3)",
}


def published_bytes(name: str) -> bytes:
    """The corpus file as its feed is published: in the encoding of BYTE_FORMS."""
    text = (CORPUS / name).read_text(encoding="utf-8")
    form = BYTE_FORMS.get(name, "utf-8")
    if form == "utf-16-be+bom":
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return text.encode(form)


def feed_site(site: Site, write: Write, name: str) -> Settings:
    """A site whose one source is the corpus file ``name``, written as published."""
    write(f"feeds/{name}", published_bytes(name))
    return site(f'[[sources]]\npath = "feeds/{name}"\nformat = "feed"\n')


def test_the_corpus_is_all_covered() -> None:
    """Every file of the corpus has its expected titles or its expected error."""
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted({*TITLES, *ERRORS})


@pytest.mark.parametrize("name", sorted(TITLES))
def test_each_feed_builds_and_its_atom_validates(site: Site, write: Write, name: str) -> None:
    """The feed's entries arrive with their titles as text, and every Atom file the build
    writes validates against RFC 4287's grammar (RSS parses without a fault)."""
    settings = feed_site(site, write, name)
    build(settings)
    assert [post["title"] for post in catalog_json(settings)] == TITLES[name]
    schema = atom_schema(with_mathml=False)
    atoms = [p for p in output(settings).rglob("*.xml") if p.name != "feed.xml"]
    assert atoms
    for path in atoms:
        assert schema.validate(etree.parse(str(path))), (path, schema.error_log.last_error)
    assert not feedparser.parse((output(settings) / "feed.xml").read_bytes()).bozo


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_unreadable_feeds_are_a_clear_error(site: Site, write: Write, name: str) -> None:
    """A feed that cannot be decoded stops the build with an error naming file and encoding."""
    settings = feed_site(site, write, name)
    with pytest.raises(SourceError) as caught:
        build(settings)
    assert f"feeds/{name}:1: " in str(caught.value)
    assert ERRORS[name] in str(caught.value)


def test_an_unknown_encoding_is_one_line_from_the_cli_not_a_traceback(
    site: Site, write: Write, tmp_path: Path
) -> None:
    """`gazette check` on a feed naming an unknown encoding exits 1 and names it, with no
    LookupError traceback."""
    feed_site(site, write, "rss20-unknown-encoding.xml")
    result = subprocess.run(
        [sys.executable, "-m", "gazette", "--config", str(tmp_path / "gazette.toml"), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert result.returncode == 1
    assert "x-made-up-charset" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_html_named_entities_are_read_with_a_note(site: Site, write: Write) -> None:
    """&nbsp; and friends are read as feedparser reads them; `check` notes which were used,
    and inside CDATA they stay the HTML they are."""
    settings = feed_site(site, write, "rss20-cdata-entities.xml")
    build(settings)
    posts = {post["title"]: post for post in catalog_json(settings)}
    assert "<p>x&nbsp;×&nbsp;y → z</p>" in str(posts["Outside CDATA"]["content_html"])
    assert "a&nbsp;b ©" in str(posts["Résumé – café …"]["content_html"])
    notes = [f for f in _check(settings) if "HTML named entities" in f.message]
    assert [f.severity for f in notes] == ["info"]
    assert notes[0].location.endswith("feeds/rss20-cdata-entities.xml:1")
    assert "&nbsp; (3×)" in notes[0].message


def _check(settings: Settings) -> list[Finding]:
    return check_catalog(settings, Store(settings.database_url), NOW)


def test_undated_entries_are_dated_when_first_seen_and_keep_that_date(
    site: Site, write: Write
) -> None:
    """An entry without a date is dated by the sync that first sees it, says so, and keeps
    that date on later runs; dated entries keep theirs."""
    settings = feed_site(site, write, "atom10-empty-summary.xml")
    build(settings)
    build(settings, NOW + timedelta(days=3))
    posts = {post["title"]: post for post in catalog_json(settings)}
    undated = posts["An undated entry"]
    assert undated["published"] == NOW.astimezone(UTC).isoformat()
    assert undated["warnings"] == ["entry has no date: dated when first seen"]
    assert posts["Nothing but a title"]["published"] == "2022-01-01T00:00:00+00:00"


def test_ids_that_are_not_uris_are_kept_and_atom_gets_a_tag_uri(site: Site, write: Write) -> None:
    """A guid that is not a URI stays the post's id in the catalog; the feeds' ids (Atom,
    and JSON Feed the same) are a tag URI minted from it, while a real IRI is copied."""
    settings = feed_site(site, write, "rss20-odd-ids.xml")
    build(settings)
    ids = {post["title"]: post["id"] for post in catalog_json(settings)}
    assert ids["A guid with a space"] == "post 12"
    assert ids["A scheme with angle brackets"] == "urn:odd:<14>"
    atom = etree.parse(str(output(settings) / "atom.xml")).getroot()
    atom_ids = {
        entry.findtext(f"{ATOM}title"): entry.findtext(f"{ATOM}id")
        for entry in atom.iter(f"{ATOM}entry")
    }
    authority = "test.example.org"
    assert atom_ids["A guid with a space"] == f"tag:{authority},2021:post%2012"
    assert atom_ids["A number for a guid"] == f"tag:{authority},2021:13"
    assert atom_ids["A scheme with angle brackets"] == f"tag:{authority},2021:urn%3Aodd%3A%3C14%3E"
    assert atom_ids["A URL with a space and a lone percent"].startswith(f"tag:{authority},2021:")
    assert atom_ids["An IRI in Chinese"] == "https://odd.example.org/文章/16"
    json_ids = {
        item["title"]: item["id"]
        for item in json.loads((output(settings) / "feed.json").read_text("utf-8"))["items"]
    }
    assert json_ids["A guid with a space"] == f"tag:{authority},2021:post%2012"


def test_empty_summaries_are_left_out_of_every_format(site: Site, write: Write) -> None:
    """A post with no text has no blank <summary>, <description> or "summary"."""
    settings = feed_site(site, write, "atom10-empty-summary.xml")
    build(settings)
    folder = output(settings)
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    entries = {e.findtext(f"{ATOM}title"): e for e in atom.iter(f"{ATOM}entry")}
    assert entries["Nothing but a title"].find(f"{ATOM}summary") is None
    assert entries["An undated entry"].findtext(f"{ATOM}summary") == "Has a summary but no date."
    rss = etree.parse(str(folder / "feed.xml")).getroot()
    items = {i.findtext("title"): i for i in rss.iter("item")}
    assert items["Nothing but a title"].find("description") is None
    assert items["An undated entry"].find("description") is not None
    feed = json.loads((folder / "feed.json").read_text("utf-8"))
    summaries = {item["title"]: item.get("summary") for item in feed["items"]}
    assert summaries == {
        "Nothing but a title": None,
        "An undated entry": "Has a summary but no date.",
    }


@pytest.mark.parametrize(
    ("name", "title", "published"),
    [
        ("rss10-rdf.xml", "First RDF item", datetime(2004, 2, 3, 9, tzinfo=UTC)),
        ("atom03.xml", "Before the RFC", datetime(2004, 5, 1, 10, tzinfo=UTC)),
    ],
)
def test_old_formats_keep_their_own_dates(
    site: Site, write: Write, name: str, title: str, published: datetime
) -> None:
    """RSS 1.0's dc:date and Atom 0.3's issued are read as the entries' dates."""
    settings = feed_site(site, write, name)
    build(settings)
    posts = {post["title"]: post for post in catalog_json(settings)}
    assert posts[title]["published"] == published.isoformat()


def test_an_html_title_with_control_character_references_is_read(site: Site, write: Write) -> None:
    """An html title whose markup refers to control characters (&#1;) gives a post whose
    title has none of them, not a crash."""
    write(
        "feeds/a.xml",
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>'
        "<updated>2024-01-01T00:00:00Z</updated><entry><id>urn:e</id>"
        '<title type="html">A&amp;#1;B &lt;a href="x&amp;#11;y"&gt;C&lt;/a&gt;</title>'
        "<updated>2024-01-01T00:00:00Z</updated></entry></feed>",
    )
    settings = site('[[sources]]\npath = "feeds/a.xml"\nformat = "feed"\n')
    build(settings)
    [post] = catalog_json(settings)
    assert post["title"] == "AB C"
