"""Every file a built site wrote, judged item by item, each finding naming its vector.

Feeds are parsed as feed readers parse them (XML without entities, then each HTML field
as HTML, Atom's xhtml content as XML and once more as HTML); pages and mails as browsers
parse them. A finding is (vector id, output, problem); a problem an item cannot be tied
to is filed under the vector id ``?``.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from gazette.math_images import IMAGE_STYLES

from ..conftest import ROOT
from .judge import (
    MARKERS,
    XHTML,
    css_declarations,
    judge_html,
    judge_text,
    parse_document,
    split_name,
    tree_problems,
)
from .sites import ID_PATTERN, Site

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
# The elements the page templates put in <head>; nothing else may land there.
HEAD_ELEMENTS = frozenset({"meta", "title", "link", "style"})
Finding = tuple[str, str, str]  # (vector id, output path, problem)


@cache
def digest_styles() -> frozenset[str]:
    """The declarations the digest template's CSS gives (css-inline copies them into
    style attributes) and those of formula images; a style attribute holding any other
    is the input's."""
    template = (ROOT / "templates" / "digest.html.j2").read_text(encoding="utf-8")
    return css_declarations(template.split("<style>")[1].split("</style>")[0]) | IMAGE_STYLES


@cache
def _html(markup: str) -> tuple[str, ...]:
    return tuple(judge_html(markup))


def _vector(text: str | None) -> str:
    found = ID_PATTERN.search(text or "")
    return found.group(1) if found else "?"


# --- feeds ----------------------------------------------------------------------------


def rss_findings(root: etree._Element) -> Iterator[tuple[str, str]]:
    for item in root.iter("item"):
        vid = _vector(item.findtext("guid") or item.findtext("link"))
        for problem in judge_text(item.findtext("title") or ""):
            yield vid, f"title: {problem}"
        for name in ("description", CONTENT_ENCODED):
            for problem in _html(item.findtext(name) or ""):
                yield vid, f"{split_name(name)[1]}: {problem}"


def atom_findings(root: etree._Element) -> Iterator[tuple[str, str]]:
    for entry in root.iter(f"{ATOM}entry"):
        vid = _vector(entry.findtext(f"{ATOM}id"))
        for name in ("title", "summary", "content"):
            element = entry.find(f"{ATOM}{name}")
            if element is not None:
                for problem in atom_text_problems(element):
                    yield vid, f"{name}: {problem}"


def atom_text_problems(element: etree._Element) -> Iterator[str]:
    """An Atom text construct by its type: text, escaped html, or inline xhtml."""
    kind = element.get("type", "text")
    if kind == "text":
        yield from judge_text(element.text or "")
    elif kind == "html":
        yield from _html(element.text or "")
    else:
        div = element.find(f"{{{XHTML}}}div")
        if div is None:
            yield "xhtml content without its xhtml div"
            return
        for problem in tree_problems(div):
            if problem.element is not div:
                yield f"as XML: {problem.what}"
        inner = html.escape(div.text or "", quote=False) + "".join(
            etree.tostring(child, encoding="unicode") for child in div
        )
        for what in _html(inner):
            yield f"as HTML: {what}"


def json_findings(feed: Any) -> Iterator[tuple[str, str]]:
    for item in feed.get("items", []):
        vid = _vector(item.get("id"))
        for name in ("title", "summary", "content_text"):
            for problem in judge_text(str(item.get(name, ""))):
                yield vid, f"{name}: {problem}"
        for problem in _html(str(item.get("content_html", ""))):
            yield vid, f"content_html: {problem}"


# --- pages and mail -------------------------------------------------------------------


def page_findings(markup: str, container: str, styles: frozenset[str]) -> Iterator[tuple[str, str]]:
    """A whole page: nothing but the template's in <head>; nothing executable in <body>.
    A problem is filed under the post whose ``container`` element (li, td) holds it."""
    document = parse_document(markup)
    head, body = document[0], document[1]
    for element in head.iter():
        local = split_name(element.tag)[1] if isinstance(element.tag, str) else ""
        if element is not head and local and local not in HEAD_ELEMENTS:
            yield "?", f"<{local}> in <head>"
    parents = {child: parent for parent in body.iter() for child in parent}
    for problem in tree_problems(body, styles):
        if problem.element is not body:
            yield _owner(problem.element, parents, container), problem.what


def _owner(element: Any, parents: dict[Any, Any], container: str) -> str:
    while element is not None:
        if split_name(element.tag)[1] == container:
            for link in element.iter(f"{{{XHTML}}}a"):
                vid = _vector(link.get("href"))
                if vid != "?":
                    return vid
        element = parents.get(element)
    return "?"


def html_part(data: bytes) -> str:
    """The text/html part of a message, decoded from its transfer encoding and charset."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("html",))
    return str(part.get_content()) if part is not None else ""


# --- every file -----------------------------------------------------------------------


def _xml_findings(reader: Callable[[etree._Element], Iterator[tuple[str, str]]]) -> Callable[
    [Path], Iterator[tuple[str, str]]
]:  # fmt: skip
    def judge(path: Path) -> Iterator[tuple[str, str]]:
        try:
            root = etree.fromstring(path.read_bytes(), _XML)
        except etree.XMLSyntaxError as error:
            yield "?", f"not well-formed XML: {error}"
            return
        yield from reader(root)

    return judge


def _json_file(path: Path) -> Iterator[tuple[str, str]]:
    try:
        feed = json.loads(path.read_bytes())
    except ValueError as error:
        yield "?", f"not JSON: {error}"
        return
    yield from json_findings(feed)


def _index(path: Path) -> Iterator[tuple[str, str]]:
    # An issue's archive page shows formula images as the mail does.
    yield from page_findings(path.read_text(encoding="utf-8"), "li", IMAGE_STYLES)


def _digest(path: Path) -> Iterator[tuple[str, str]]:
    yield from page_findings(path.read_text(encoding="utf-8"), "td", digest_styles())


def _eml(path: Path) -> Iterator[tuple[str, str]]:
    yield from page_findings(html_part(path.read_bytes()), "td", digest_styles())


JUDGES: dict[str, Callable[[Path], Iterator[tuple[str, str]]]] = {
    "feed.xml": _xml_findings(rss_findings),
    "atom.xml": _xml_findings(atom_findings),
    "feed.json": _json_file,
    "archive": _xml_findings(atom_findings),
    "index.html": _index,
    ".html": _digest,
    ".eml": _eml,
}


def output_files(site: Site) -> Iterator[tuple[str, Path]]:
    """(output name, path) of every file the site's build and digest wrote."""
    for path in sorted(site.public.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield str(path.relative_to(site.folder)), path
    for path in sorted(site.outbox.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".eml"):
            yield str(path.relative_to(site.folder)), path


def judge_for(path: Path) -> Callable[[Path], Iterator[tuple[str, str]]] | None:
    if path.parent.name == "archive":
        return JUDGES["archive"]
    return JUDGES.get(path.name) or JUDGES.get(path.suffix)


def _text(path: Path) -> str:
    """A file's text; a message's decoded HTML part."""
    if path.suffix == ".eml":
        return html_part(path.read_bytes())
    return path.read_bytes().decode("utf-8", errors="replace")


def raw_markers(path: Path) -> Iterator[tuple[str, str]]:
    """A formula marker anywhere in a file's text, filed under the post id before it."""
    text = _text(path)
    for marker in MARKERS:
        start = text.find(marker)
        while start != -1:
            before = list(ID_PATTERN.finditer(text, 0, start))
            vid = before[-1].group(1) if before else "?"
            yield vid, f"raw U+{ord(marker):04X} in the file at character {start}"
            start = text.find(marker, start + 1)


def site_findings(site: Site) -> tuple[list[Finding], dict[str, set[str]]]:
    """Every finding in the site's files, and which vectors each kind of output showed."""
    findings: list[Finding] = []
    seen: dict[str, set[str]] = {}
    for name, path in output_files(site):
        judge = judge_for(path)
        if judge is not None:
            findings.extend((vid, name, what) for vid, what in judge(path))
        findings.extend((vid, name, what) for vid, what in raw_markers(path))
        seen.setdefault(output_kind(name), set()).update(
            m.group(1) for m in ID_PATTERN.finditer(_text(path))
        )
    return findings, seen


def output_kind(name: str) -> str:
    """The kind of an output path: feed.xml, tags/feed.xml, archive, index.html, digest.eml…"""
    parts = Path(name).parts
    if parts[0] == "outbox":
        return f"digest{Path(name).suffix}"
    if parts[1] in ("tags", "series"):
        return f"{parts[1]}/{parts[-1]}"
    if parts[1] == "archive":
        return "archive"
    return parts[-1]
