"""Sites made of the corpus: one per channel and shard, one post per vector, built and
mailed by the real commands (``gazette build``, ``gazette digest --send`` to the outbox).

A channel is where a vector enters: the body or the front matter of a Markdown post, or
a field of an Atom, RSS or JSON Feed entry. Every post's id is ``xss-<vector id>``, and
its URL ``posts/xss-<vector id>/``, so whatever an output shows names its vector.
"""

from __future__ import annotations

import html
import json
import os
import re
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from gazette.cli import cli
from gazette.digest.subscribers import add_subscriber
from gazette.store import Store

from ..conftest import NOW
from .judge import XHTML, parse_fragment

# The digest takes at most 200 posts an issue (digest.max_posts and first_issue_posts),
# so a shard holds no more: every post is in the feeds, the index and the one issue.
SHARD_SIZE = 200
SUBSCRIBER = "reader@xss.example"
FIRST_DATE = datetime(2025, 1, 1, tzinfo=UTC)
ID_PATTERN = re.compile(r"xss-([a-z0-9]+(?:-[a-z0-9]+)*)")
CONFIG = """\
[site]
title = "XSS corpus"
url = "https://xss.example/"
language = "en"
timezone = "UTC"
post_url = "posts/{{id}}/"

[[sources]]
{source}

[catalog]
excerpt_width = 5000

[feeds]
output = "public"
entries = 1000
index_posts = 1000
archive_size = 100

[digest]
unsubscribe_url = "https://xss.example/unsubscribe"
max_age = 36500
max_posts = 200
first_issue_posts = 200

[mail]
provider = "outbox"
from = "XSS corpus <digest@xss.example>"
outbox = "outbox"

[state]
database = "sqlite:///state/gazette.db"
"""
# XML 1.0 cannot carry these even as references; a feed writes them for HTML to decode.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
Vector = tuple[str, str]
# CliRunner's env sets (or, for None, unsets) variables while a command runs.
_NO_GAZETTE_VARIABLES: dict[str, str | None] = {
    name: None for name in os.environ if name.startswith("GAZETTE_")
}


def post_id(vector_id: str) -> str:
    return f"xss-{vector_id}"


def published(number: int) -> datetime:
    """Post ``number``'s date: one minute apart, all long before the test's clock."""
    return FIRST_DATE + timedelta(minutes=number)


def html_for_xml(markup: str) -> str:
    """HTML that an XML document can carry as text: each character XML forbids is
    written as a numeric reference, which HTML decodes to the same character."""
    return _XML_ILLEGAL.sub(lambda m: f"&#{ord(m.group(0))};", markup)


def xml_text(markup: str) -> str:
    return html.escape(html_for_xml(markup), quote=False)


# --- sources, one writer per channel ------------------------------------------------


def _front_matter(fields: dict[str, object]) -> str:
    # JSON is YAML: every string is double-quoted with its escapes, so any vector fits.
    lines = [f"{key}: {json.dumps(value)}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n\n"


def _markdown(folder: Path, vectors: Sequence[Vector], in_front: bool) -> str:
    for number, (vid, vector) in enumerate(vectors):
        fields: dict[str, object] = {
            "id": post_id(vid), "slug": post_id(vid), "date": published(number).isoformat(),
            "series": "Corpus", "tags": ["corpus"], "title": f"Post {vid}",
        }  # fmt: skip
        body = f"{vector}\n\nTail of {vid}.\n"
        if in_front:
            fields.update(title=vector, summary=f"Summary {vector}", tags=["corpus", vector])
            body = f"Body of {vid}.\n"
        path = folder / "posts" / f"{number:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_front_matter(fields) + body, encoding="utf-8")
    return 'path = "posts/*.md"\nformat = "markdown"'


def markdown_body(folder: Path, vectors: Sequence[Vector]) -> str:
    return _markdown(folder, vectors, in_front=False)


def markdown_front(folder: Path, vectors: Sequence[Vector]) -> str:
    return _markdown(folder, vectors, in_front=True)


def _feed_source(folder: Path, name: str, text: str) -> str:
    (folder / name).write_text(text, encoding="utf-8")
    return f'path = "{name}"\nformat = "feed"'


def _atom(folder: Path, vectors: Sequence[Vector], xhtml: bool) -> str:
    entries = []
    for number, (vid, vector) in enumerate(vectors):
        date = published(number).isoformat()
        if xhtml:
            div = f'<div xmlns="{XHTML}">{as_xhtml(vector)}</div>'
            content = f'<content type="xhtml">{div}</content>'
            texts = f'<title type="text">{xml_text(vector)}</title>' + (
                f'<summary type="text">{xml_text("Summary " + vector)}</summary>'
            )
        else:
            content = f'<content type="html">{xml_text(vector)}</content>'
            texts = f'<title type="html">{xml_text(vector)}</title>' + (
                f'<summary type="html">{xml_text("Summary " + vector)}</summary>'
            )
        entries.append(
            f"<entry><id>{post_id(vid)}</id>{texts}<published>{date}</published>"
            f"<updated>{date}</updated><link href=\"https://src.example/{post_id(vid)}\"/>"
            f'<category term="corpus"/>{content}</entry>'
        )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Source</title><id>https://src.example/</id><updated>2025-01-01T00:00:00Z"
        "</updated>\n" + "\n".join(entries) + "\n</feed>\n"
    )
    return _feed_source(folder, "source.atom", feed)


def atom_html(folder: Path, vectors: Sequence[Vector]) -> str:
    return _atom(folder, vectors, xhtml=False)


def atom_xhtml(folder: Path, vectors: Sequence[Vector]) -> str:
    return _atom(folder, vectors, xhtml=True)


def rss(folder: Path, vectors: Sequence[Vector]) -> str:
    items = []
    for number, (vid, vector) in enumerate(vectors):
        date = published(number).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(
            f"<item><title>{xml_text(vector)}</title>"
            f"<link>https://src.example/{post_id(vid)}</link>"
            f'<guid isPermaLink="false">{post_id(vid)}</guid><pubDate>{date}</pubDate>'
            f"<category>corpus</category>"
            f"<description>{xml_text('Summary ' + vector)}</description>"
            f"<content:encoded>{xml_text(vector)}</content:encoded></item>"
        )
    document = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>Source</title><link>https://src.example/</link><description>Source"
        "</description>\n" + "\n".join(items) + "\n</channel></rss>\n"
    )
    return _feed_source(folder, "source.rss", document)


def json_feed(folder: Path, vectors: Sequence[Vector]) -> str:
    items = [
        {
            "id": post_id(vid),
            "url": f"https://src.example/{post_id(vid)}",
            "title": vector,
            "summary": f"Summary {vector}",
            "content_html": vector,
            "date_published": published(number).isoformat(),
            "tags": ["corpus"],
        }
        for number, (vid, vector) in enumerate(vectors)
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Source", "items": items}
    return _feed_source(folder, "source.json", json.dumps(feed, indent=1))


CHANNELS: dict[str, Callable[[Path, Sequence[Vector]], str]] = {
    "markdown-body": markdown_body,
    "markdown-front": markdown_front,
    "atom-html": atom_html,
    "atom-xhtml": atom_xhtml,
    "rss": rss,
    "jsonfeed": json_feed,
}


# --- XHTML for Atom's xhtml content ---------------------------------------------------


def as_xhtml(vector: str) -> str:
    """The vector as a browser parses it, written as namespaced XML: what a hostile feed
    would put in xhtml content. Characters XML cannot carry are left out."""
    div = etree.Element(f"{{{XHTML}}}div", nsmap={None: XHTML})
    _copy(parse_fragment(vector), div)
    serialized = etree.tostring(div, encoding="unicode")
    if serialized.endswith("/>"):
        return ""
    return serialized[serialized.index(">") + 1 : -len("</div>")]


_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")


def _clean(text: str | None) -> str | None:
    return _XML_ILLEGAL.sub("", text) if text else text


def _copy(source: ET.Element, target: etree._Element) -> None:
    target.text = _clean(source.text)
    for child in source:
        if not isinstance(child.tag, str):
            continue
        try:
            copy = etree.SubElement(target, child.tag)
        except ValueError:  # an element name XML cannot spell (x:script): left out
            continue
        for name, value in child.attrib.items():
            if not _ATTRIBUTE_NAME.match(name):
                continue  # an attribute name XML cannot spell (on\ufffderror)
            copy.set(name, _clean(value) or "")
        _copy(child, copy)
        copy.tail = _clean(child.tail)


# --- building -----------------------------------------------------------------------


@dataclass
class Site:
    """One built site: its folder, its vectors and what the commands said."""

    channel: str
    folder: Path
    vectors: dict[str, str]  # post id -> vector id
    crashes: list[str] = field(default_factory=list)

    @property
    def public(self) -> Path:
        return self.folder / "public"

    @property
    def outbox(self) -> Path:
        return self.folder / "outbox"


def shards(vectors: Sequence[Vector]) -> list[Sequence[Vector]]:
    return [vectors[i : i + SHARD_SIZE] for i in range(0, len(vectors), SHARD_SIZE)]


def make_site(folder: Path, channel: str, vectors: Sequence[Vector]) -> Site:
    """Writes the site's sources and config, then builds it and sends its digest."""
    folder.mkdir(parents=True)
    source = CHANNELS[channel](folder, vectors)
    config = folder / "gazette.toml"
    config.write_text(CONFIG.format(source=source), encoding="utf-8")
    site = Site(channel, folder, {post_id(vid): vid for vid, _ in vectors})
    (folder / "state").mkdir()
    _run(site, config, "build")
    store = Store(f"sqlite:///{folder / 'state' / 'gazette.db'}")
    try:
        with store.transaction() as connection:
            add_subscriber(connection, SUBSCRIBER, "", NOW)
    finally:
        store.close()
    _run(site, config, "digest", "--send")
    return site


def _run(site: Site, config: Path, *args: str) -> None:
    """``gazette --config CONFIG ARGS``, run in this process; a failure is recorded."""
    done = CliRunner().invoke(cli, ["--config", str(config), *args], env=_NO_GAZETTE_VARIABLES)
    ids = list(site.vectors.values())
    command = f"{site.folder.name} (vectors {ids[0]} … {ids[-1]}): gazette {' '.join(args)}"
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        error = done.exception
        frame = traceback.extract_tb(done.exc_info[2])[-1] if done.exc_info else None
        where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
        site.crashes.append(f"{command} crashed{where}: {type(error).__name__}: {error}"[:500])
    elif done.exit_code != 0:
        last = (done.output.strip().splitlines() or ["(no output)"])[-1]
        site.crashes.append(f"{command} exited {done.exit_code}: {last}"[:500])
