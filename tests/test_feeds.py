"""The feeds `build` writes: every format parses, validates and agrees with the catalog."""

from __future__ import annotations

import json
import locale
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from gazette.config import Settings
from gazette.feeds.items import XHTML_NS, _rebuilt_xhtml, xhtml_inner

from .conftest import ROOT
from .feedkit import (
    ATOM,
    MATHML,
    XHTML,
    atom_schema,
    build,
    catalog_json,
    example_settings,
    output,
)

Site = Callable[..., Settings]
Write = Callable[[str, str | bytes], Path]
FEEDS = ("feed.xml", "atom.xml", "feed.json")


@pytest.fixture
def example(tmp_path: Path) -> Settings:
    settings = example_settings(tmp_path)
    build(settings)
    return settings


def subscription_feeds(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.name in FEEDS)


def entry_titles(path: Path) -> list[str]:
    """The entries' titles: feedparser for RSS and Atom (it has no JSON Feed support)."""
    if path.suffix == ".json":
        return [item["title"] for item in json.loads(path.read_text(encoding="utf-8"))["items"]]
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return [entry.title for entry in parsed.entries]


def test_every_feed_parses_without_bozo_and_lists_the_same_entries(example: Settings) -> None:
    """feedparser reads every RSS, Atom and JSON feed cleanly, each with the same posts."""
    folder = output(example)
    feeds = subscription_feeds(folder)
    assert len(feeds) >= 3 * 3  # the main feed plus at least two tag or series feeds
    by_directory: dict[Path, list[list[str]]] = {}
    for path in feeds:
        titles = entry_titles(path)
        assert titles, path
        by_directory.setdefault(path.parent, []).append(titles)
    for directory, titles in by_directory.items():
        assert titles[0] == titles[1] == titles[2], directory


def test_readme_claims_for_feedparser_only_the_formats_it_reads(example: Settings) -> None:
    """feedparser finds no entry in JSON Feed, and the README's reader list says so."""
    assert not feedparser.parse((output(example) / "feed.json").read_bytes()).entries
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    claim = readme[readme.index("Tested readers: feedparser (") :].split(")")[0]
    assert "RSS and Atom" in claim
    assert "every format" not in claim


def test_main_feeds_match_posts_json(example: Settings) -> None:
    """Titles, links, dates and categories in the feeds are those of `posts --json`."""
    posts = catalog_json(example)
    folder = output(example)
    items = json.loads((folder / "feed.json").read_text(encoding="utf-8"))["items"]
    assert [(i["title"], i["url"], i["date_published"]) for i in items] == [
        (p["title"], p["url"], p["published"]) for p in posts
    ][:20]
    for name in FEEDS[:2]:
        parsed = feedparser.parse((folder / name).read_bytes())
        assert [e.title for e in parsed.entries] == [p["title"] for p in posts][:20]
        assert [e.link for e in parsed.entries] == [p["url"] for p in posts][:20]
        for entry, post in zip(parsed.entries, posts, strict=False):
            published = json.dumps(post["published"])
            assert entry.published_parsed is not None, published
            terms = {tag.term for tag in entry.get("tags", [])}
            wanted = set(post["tags"]) | ({post["series"]} if post["series"] else set())
            assert terms == wanted, (name, post["title"])


def test_atom_validates_against_the_rfc_4287_grammar(example: Settings) -> None:
    """Every Atom file validates against RFC 4287's RELAX NG grammar (MathML admitted)."""
    schema = atom_schema(with_mathml=True)
    atoms = [p for p in output(example).rglob("*.xml") if p.name != "feed.xml"]
    assert any("archive" in str(p) for p in atoms)
    for path in atoms:
        document = etree.parse(str(path))
        assert schema.validate(document), (path, schema.error_log.last_error)
        root = document.getroot()
        assert root.find(f"{ATOM}author") is not None  # the grammar's Schematron rule
        for entry in root.iter(f"{ATOM}entry"):
            alternate = entry.find(f"{ATOM}link[@rel='alternate']")
            assert alternate is not None
            assert alternate.get("type") == "text/html"


def test_summary_only_atom_validates_against_the_strict_grammar(tmp_path: Path) -> None:
    """With feeds.content = summary there is no MathML, and the strict grammar passes."""
    settings = example_settings(tmp_path, content="summary")
    build(settings)
    schema = atom_schema(with_mathml=False)
    document = etree.parse(str(output(settings) / "atom.xml"))
    assert schema.validate(document), schema.error_log.last_error
    assert document.getroot().find(f"{ATOM}entry/{ATOM}content") is None
    rss = feedparser.parse((output(settings) / "feed.xml").read_bytes())
    assert all("content" not in entry for entry in rss.entries)


def test_the_strict_grammar_rejects_mathml_so_the_extension_is_needed(example: Settings) -> None:
    """The check above is not vacuous: the strict grammar refuses full content with math."""
    document = etree.parse(str(output(example) / "atom.xml"))
    assert document.getroot().find(f".//{MATHML}math") is not None
    assert not atom_schema(with_mathml=False).validate(document)


def test_json_feed_has_every_required_field(example: Settings) -> None:
    """JSON Feed 1.1: version, title and items; each item an id and content."""
    for path in output(example).rglob("feed.json"):
        feed = json.loads(path.read_text(encoding="utf-8"))
        assert feed["version"] == "https://jsonfeed.org/version/1.1"
        assert feed["title"]
        assert feed["feed_url"].endswith(str(path.relative_to(output(example))))
        for item in feed["items"]:
            assert isinstance(item["id"], str)
            assert item["id"]
            assert item.get("content_html") or item.get("content_text")
            assert item["date_published"][10] == "T"


def test_math_is_mathml_with_tex_in_atom_rss_and_json(example: Settings) -> None:
    """Formulas reach every format as MathML carrying their TeX annotation."""
    folder = output(example)
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    maths = list(atom.iter(f"{MATHML}math"))
    assert maths
    for math in maths:
        assert math.getparent().tag.startswith(XHTML)
        assert math.find(f".//{MATHML}annotation").get("encoding") == "application/x-tex"
    rss = feedparser.parse((folder / "feed.xml").read_bytes())
    assert any("<math" in entry.content[0].value for entry in rss.entries)
    items = json.loads((folder / "feed.json").read_text(encoding="utf-8"))["items"]
    assert sum(item.get("content_html", "").count("<math") for item in items) == len(maths)
    assert not any("$" in item.get("content_html", "").split("<code")[0] for item in items)


def test_rss_guid_is_a_permalink_only_when_it_is_the_url(example: Settings) -> None:
    """Minted tag URIs are not links: isPermaLink="false"."""
    channel = etree.parse(str(output(example) / "feed.xml")).getroot()[0]
    guids = channel.findall("item/guid")
    assert guids
    for guid in guids:
        assert guid.get("isPermaLink") == "false"
        assert not guid.text.startswith("http")


def test_feedgen_faults_are_worked_around(example: Settings) -> None:
    """#135 entry link rel/type kept; #122 channel link is the site and extra links survive;
    entries newest first; dates from content, not the clock."""
    folder = output(example)
    channel = etree.parse(str(folder / "feed.xml")).getroot()[0]
    assert channel.findtext("link") == example.site.url
    rels = [link.get("rel") for link in channel.findall(f"{ATOM}link")]
    assert rels == ["self", "prev-archive"]
    posts = catalog_json(example)
    newest_update = max(str(p["updated"]) for p in posts)
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    assert atom.findtext(f"{ATOM}updated") == newest_update
    published = [e.findtext(f"{ATOM}published") for e in atom.iter(f"{ATOM}entry")]
    assert published == [p["published"] for p in posts]


def test_building_never_calls_setlocale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 822 dates are formatted without the process-wide, thread-unsafe setlocale."""

    def refuse(*_args: object) -> str:
        raise AssertionError("setlocale called while building feeds")

    monkeypatch.setattr(locale, "setlocale", refuse)
    settings = example_settings(tmp_path)
    report = build(settings)
    assert "feed.xml" in report.written
    channel = etree.parse(str(output(settings) / "feed.xml")).getroot()[0]
    assert channel.findtext("item/pubDate")[:3] in {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}


POST = """\
---
title: "{title}"
date: 2024-05-06
tags: [{tags}]
---
{body}
"""


def markdown_site(site: Site, write: Write, posts: dict[str, tuple[str, str, str]]) -> Settings:
    for name, (title, tags, body) in posts.items():
        write(f"posts/{name}.md", POST.format(title=title, tags=tags, body=body))
    return site(
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n',
        '[feeds]\noutput = "public"\n',
    )


def test_plain_text_follows_the_rss_profile(site: Site, write: Write) -> None:
    """& and < in RSS plain text are hexadecimal references, and read back as written."""
    title = "Q&A: when a<b & b<c"
    settings = markdown_site(site, write, {"qa": (title, "R&D", "Body.")})
    build(settings)
    data = (output(settings) / "feed.xml").read_bytes()
    assert b"Q&#x26;A: when a&#x3C;b &#x26; b&#x3C;c" in data
    assert b"<category>R&#x26;D</category>" in data
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert parsed.entries[0].title == title


def test_xml_illegal_characters_do_not_break_the_build(site: Site, write: Write) -> None:
    """A control character in a title or body is dropped, not a crash."""
    settings = markdown_site(site, write, {"ctl": ("Bad\x0bchar", "t", "Body\x1f here.")})
    build(settings)
    for name in FEEDS:
        assert entry_titles(output(settings) / name) == ["Badchar"], name


def test_relative_links_and_images_become_absolute(site: Site, write: Write) -> None:
    """A relative link or image source in a post resolves against the post's URL."""
    body = "See [the other post](../other/) and ![a plot](plot.png).\n\n[top](#top)"
    settings = markdown_site(site, write, {"links": ("Links", "t", body)})
    build(settings)
    base = "https://test.example.org/posts/links/"
    for name in FEEDS:
        text = (output(settings) / name).read_text(encoding="utf-8")
        assert "https://test.example.org/posts/other/" in text, name
        assert base + "plot.png" in text, name
        assert 'href="../other/"' not in text
        assert "href=&quot;../other/" not in text
        assert "#top" in text


def test_scripts_stay_out_of_every_format(site: Site, write: Write) -> None:
    """What the catalog sanitized stays sanitized after the XHTML and link rewriting."""
    body = (
        '<script>alert(1)</script>\n\n<a href="javascript:alert(1)">x</a> '
        "<img src=x onerror=alert(1)>"
    )
    settings = markdown_site(site, write, {"xss": ("<script>alert(1)</script>", "t", body)})
    build(settings)
    folder = output(settings)
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    assert not list(atom.iter(f"{XHTML}script"))
    assert all(not name.startswith("on") for e in atom.iter() for name in e.attrib)
    for name in FEEDS[:2]:
        entry = feedparser.parse((folder / name).read_bytes()).entries[0]
        html = entry.content[0].value
        assert "<script" not in html
        assert "javascript:" not in html
        assert "onerror" not in html
        assert entry.title == "<script>alert(1)</script>"
    item = json.loads((folder / "feed.json").read_text(encoding="utf-8"))["items"][0]
    assert "<script" not in item["content_html"]
    assert "onerror" not in item["content_html"]


def test_entry_ids_are_stable_iris(example: Settings) -> None:
    """An explicit non-URI id becomes a tag URI in Atom; a URI id is kept as it is."""
    posts = {p["id"]: p for p in catalog_json(example)}
    explicit = [post_id for post_id in posts if ":" not in str(post_id)]
    assert explicit  # the example has a post with `id:` in its front matter
    atom = etree.parse(str(output(example) / "atom.xml")).getroot()
    ids = [e.findtext(f"{ATOM}id") for e in atom.iter(f"{ATOM}entry")]
    assert all(i.startswith("tag:notes.example.org,") for i in ids)
    assert any(i.endswith(":" + explicit[0]) for i in ids)
    assert {i for i in ids if not i.endswith(":" + explicit[0])} <= set(posts)


def test_one_post_has_one_id_in_rss_atom_and_json_feed(example: Settings) -> None:
    """RSS guid, Atom id and JSON Feed id agree for every post, explicit ids included."""
    folder = output(example)
    rss = [e.id for e in feedparser.parse((folder / "feed.xml").read_bytes()).entries]
    atom = [e.id for e in feedparser.parse((folder / "atom.xml").read_bytes()).entries]
    items = json.loads((folder / "feed.json").read_text(encoding="utf-8"))["items"]
    assert rss == atom == [item["id"] for item in items]
    explicit = [str(p["id"]) for p in catalog_json(example) if ":" not in str(p["id"])]
    assert any(i.endswith(":" + explicit[0]) for i in rss)
    guids = etree.parse(str(folder / "feed.xml")).getroot().iter("guid")
    assert all(g.get("isPermaLink") == "false" for g in guids if g.text.startswith("tag:"))


def test_index_html_links_every_feed_with_autodiscovery(example: Settings) -> None:
    """index.html names the posts, advertises the feeds and links each tag and series feed."""
    folder = output(example)
    page = etree.parse(str(folder / "index.html"), etree.HTMLParser()).getroot()
    alternates = {link.get("type"): link.get("href") for link in page.iter("link")}
    assert alternates["application/rss+xml"] == example.site.url + "feed.xml"
    assert alternates["application/atom+xml"] == example.site.url + "atom.xml"
    assert alternates["application/feed+json"] == example.site.url + "feed.json"
    text = "".join(page.itertext())
    for post in catalog_json(example):
        assert str(post["title"]) in text
    hrefs = {a.get("href") for a in page.iter("a")}
    for path in subscription_feeds(folder):
        assert example.site.url + str(path.relative_to(folder)) in hrefs


XHTML_SAMPLES = [
    '<p>a<br>b <img src="https://x.example/p.png" alt="plot"> c&nbsp;d</p>',
    '<p><img alt="a > b" src="x.png"> keeps &amp; and &lt;tags&gt;</p>',  # > in a value
    "<p>no math</p><pre><code>if a &lt; b: x = 1</code></pre>",
    '<p><math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math> math</p>',
    # HTML inside MathML: XML would put the span in MathML's namespace, so it is rebuilt.
    '<math xmlns="http://www.w3.org/1998/Math/MathML"><mtext><span>a</span></mtext></math>',
    "",
]


@pytest.mark.parametrize("html", XHTML_SAMPLES)
def test_fast_xhtml_equals_the_rebuilt_tree(html: str) -> None:
    """The quick void-closing path and the full HTML rebuild give the same XHTML."""

    def canonical(inner: str) -> bytes:
        div = etree.fromstring(f'<div xmlns="{XHTML_NS}">{inner}</div>')
        return etree.tostring(div, method="c14n")

    assert canonical(xhtml_inner(html)) == canonical(_rebuilt_xhtml(html))


def test_fast_xhtml_equals_the_rebuilt_tree_on_the_example(example: Settings) -> None:
    """Every example post's content takes either path to the same namespaced tree."""
    for post in catalog_json(example):
        html = str(post["content_html"])
        fast = etree.fromstring(f'<div xmlns="{XHTML_NS}">{xhtml_inner(html)}</div>')
        slow = etree.fromstring(f'<div xmlns="{XHTML_NS}">{_rebuilt_xhtml(html)}</div>')
        assert etree.tostring(fast, method="c14n") == etree.tostring(slow, method="c14n")
