"""A post made ready for feeds: absolute links, XML-safe text, and its content as XHTML.

The catalog's HTML is already sanitized; this module only moves it between syntaxes
(HTML for RSS and JSON Feed, namespaced XHTML for Atom) and never adds markup. HTML
whose links it made absolute is sanitized again (see gazette.catalog.sanitize).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

import lxml.html
from lxml import etree

from gazette.catalog.sanitize import (
    MATHML_NS,
    MATHML_TAGS,
    URL_ATTRIBUTES,
    has_unsafe_characters,
    make_links_absolute,
    safe_characters,
    sanitize,
)
from gazette.models import Post

XHTML_NS = "http://www.w3.org/1999/xhtml"
_XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
# The catalog's HTML is serialized by html5ever: always-quoted attributes, MathML with
# its xmlns, and only &amp; &lt; &gt; &quot; &nbsp; as references. Closing its void
# elements usually makes it XML already, which is far faster than rebuilding the tree;
# when it does not parse, the tree is rebuilt.
_VOID_ELEMENT = re.compile(
    r"<(area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)(\s[^<>]*?)?\s*/?>"
)
_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_MATHML_ELEMENTS = frozenset(f"{{{MATHML_NS}}}{name}" for name in MATHML_TAGS)  # as lxml tags
# An IRI (RFC 3987): a scheme, then only characters a URI may hold (percent-escapes
# whole) or non-ASCII letters; a space, "<", a quote or a lone "%" makes it none.
_IRI = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2}"
    r"|[^\x00-\x7f\x80-\x9f\s\ufffe\uffff])+$"
)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One post as every feed format shows it."""

    post: Post
    entry_id: str  # the same in RSS, Atom and JSON Feed, so readers see one post once
    title: str
    summary: str  # plain text
    content_html: str  # the full content; empty in summary-only feeds
    categories: tuple[tuple[str, str], ...]  # (term, scheme): tags, then the series
    authors: tuple[str, ...] = ()  # the post's own; each format falls back to the site's


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (lxml, so feedgen, raises on
    them)."""
    return safe_characters(text)


def entry_id(post: Post, authority: str) -> str:
    """Atom ids must be IRIs: an id that is not one (an explicit ``id: my-post`` in front
    matter, a feed entry's ``<guid>post 12</guid>``) becomes a tag URI (RFC 4151) under
    the site's authority. The post keeps its own id for identity. RSS guids and JSON Feed
    ids take the same value, so a reader subscribed to two formats (or moving from one to
    another) recognizes the post."""
    if _IRI.match(post.id):
        return post.id
    return f"tag:{authority},{post.published:%Y}:{quote(post.id, safe='/-._~')}"


def feed_item(post: Post, full_content: bool, series_scheme: str, authority: str) -> FeedItem:
    html = post.content_html if full_content else ""
    categories = tuple((tag, "") for tag in post.tags)
    if post.series:
        categories += ((post.series, series_scheme),)
    return FeedItem(
        post=post,
        entry_id=entry_id(post, authority),
        title=xml_text(post.title),
        summary=xml_text(post.summary_text),
        content_html=absolute_html(_xml_safe_html(html), post.url),
        categories=tuple((xml_text(term), scheme) for term, scheme in categories),
        authors=tuple(xml_text(name) for name in post.authors),
    )


def _xml_safe_html(html: str) -> str:
    """The catalog's HTML carries no character XML forbids; one stored by an earlier
    gazette might, and is sanitized again without it rather than cut after sanitizing."""
    return sanitize(html) if has_unsafe_characters(html) else html


def _parse_fragment(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def absolute_html(html: str, base_url: str) -> str:
    """The same HTML with every relative link and image source made absolute."""
    if not any(f'{name}="' in html for name in URL_ATTRIBUTES):
        return html
    root = _parse_fragment(html)
    if not make_links_absolute(root, base_url):
        return html
    inner = str(lxml.html.tostring(root, encoding="unicode", method="html"))
    return sanitize(inner[len("<div>") : -len("</div>")])


def xhtml_inner(html: str) -> str:
    """HTML as the inside of an Atom ``<div xmlns="…xhtml">``: well-formed and namespaced,
    with MathML in its own namespace, so XML-aware readers render the formulas."""
    if html.count("<math") != html.count(f'<math xmlns="{MATHML_NS}"'):
        return _rebuilt_xhtml(html)  # a <math> that XML would put in XHTML's namespace
    as_xml = _VOID_ELEMENT.sub(r"<\1\2/>", html).replace("&nbsp;", "&#160;")
    try:
        tree = etree.fromstring(f'<div xmlns="{XHTML_NS}">{as_xml}</div>', _STRICT_XML)
    except etree.XMLSyntaxError:
        return _rebuilt_xhtml(html)
    if "<math" in html and any(
        element.tag not in _MATHML_ELEMENTS for element in tree.iter(f"{{{MATHML_NS}}}*")
    ):
        return _rebuilt_xhtml(html)  # HTML inside MathML, which XML would make MathML
    return as_xml


def _rebuilt_xhtml(html: str) -> str:
    """The slow, general way: parse as HTML and copy every node into namespaced XML."""
    source = _parse_fragment(html)
    div = etree.Element(f"{{{XHTML_NS}}}div", nsmap={None: XHTML_NS})
    _copy_children(source, div, XHTML_NS)
    serialized = str(etree.tostring(div, encoding="unicode"))
    if serialized.endswith("/>"):
        return ""
    start = serialized.index(">") + 1
    return serialized[start : -len("</div>")]


def _copy_children(source: etree._Element, target: etree._Element, namespace: str) -> None:
    target.text = source.text
    for child in source:
        if not isinstance(child.tag, str):  # comments and processing instructions
            _append_text(target, child.tail)
            continue
        tag = child.tag.lower()
        child_ns = _namespace(tag, namespace)
        nsmap = {None: child_ns} if child_ns != namespace else None
        copy = etree.SubElement(target, f"{{{child_ns}}}{tag}", nsmap=nsmap)
        for name, value in child.attrib.items():
            if name != "xmlns" and _XML_NAME.match(name):
                copy.set(name, value)
        _copy_children(child, copy, child_ns)
        copy.tail = child.tail


def _namespace(tag: str, parent: str) -> str:
    """An element's namespace as an HTML parser gives it: MathML from <math> on, except
    that HTML inside a token element (<mi><table>) is HTML again."""
    if tag == "math" or (parent == MATHML_NS and tag in MATHML_TAGS):
        return MATHML_NS
    return XHTML_NS


def _append_text(target: etree._Element, text: str | None) -> None:
    if not text:
        return
    if len(target):
        target[-1].tail = (target[-1].tail or "") + text
    else:
        target.text = (target.text or "") + text


def plain_html(text: str) -> str:
    """Plain text as HTML that shows the same characters."""
    return escape(text, quote=False).replace("\n", "<br>\n")
