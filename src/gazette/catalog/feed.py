"""An existing RSS, Atom or JSON feed, from a file or fetched over http(s).

XML is decoded from whatever encoding it names (gazette.catalog.xmltext), checked with
defusedxml (no DTD entities, no external entities), then parsed by feedparser. An entry
without a date is dated when it is first seen (identity.dated_when_first_seen). URLs
are fetched with httpx, conditionally (ETag and Last-Modified), and a feed that cannot
be fetched falls back to the last good copy.
"""

from __future__ import annotations

import calendar
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import defusedxml.ElementTree as safe_xml
import feedparser
import httpx
import nh3
from defusedxml import DefusedXmlException

from gazette import __version__
from gazette.catalog.draft import Draft, ReadResult
from gazette.catalog.limits import MAX_NESTING, TooDeep, load_json, megabytes
from gazette.catalog.normalize import normalize_text
from gazette.catalog.tables import CachedFetch
from gazette.catalog.xmltext import XmlEncodingError, readable_xml
from gazette.models import Finding

USER_AGENT = f"gazette/{__version__} (+feed reader)"
# A feed reader dates an undated entry when it first sees it; so does the catalog.
UNDATED = "entry has no date: dated when first seen"


def fetch_feed(
    url: str,
    timeout: float,
    cached: CachedFetch | None,
    max_bytes: int,
    transport: httpx.BaseTransport | None = None,
) -> tuple[CachedFetch, str]:
    """The feed's bytes (conditional GET); the second value is a warning, or empty.

    A body over ``max_bytes`` (after decompression) raises FeedTooLarge; reading stops there.
    """
    headers = {"User-Agent": USER_AGENT}
    if cached and cached.etag:
        headers["If-None-Match"] = cached.etag
    if cached and cached.last_modified:
        headers["If-Modified-Since"] = cached.last_modified
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, transport=transport) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            body = _capped_body(response, max_bytes)
    except httpx.HTTPError as error:
        return _fallback(url, cached, f"cannot fetch: {type(error).__name__}: {error}")
    if response.status_code == 304 and cached is not None:
        return cached, ""
    if response.status_code != 200:
        return _fallback(url, cached, f"the server answered {response.status_code}")
    fresh = CachedFetch(response.headers.get("ETag"), response.headers.get("Last-Modified"), body)
    return fresh, ""


def _capped_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body of a 200 answer, read no further than ``max_bytes``; b"" for any other."""
    if response.status_code != 200:
        return b""
    declared = response.headers.get("Content-Length", "")
    # Content-Length counts the compressed bytes; only a plain body can be judged by it.
    plain = not response.headers.get("Content-Encoding")
    if plain and declared.isdigit() and int(declared) > max_bytes:
        raise FeedTooLarge(f"is {megabytes(int(declared))}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise FeedTooLarge(f"sends more than {megabytes(max_bytes)}")
    return b"".join(chunks)


def _fallback(url: str, cached: CachedFetch | None, problem: str) -> tuple[CachedFetch, str]:
    if cached is None:
        raise FeedUnavailable(f"{problem}; check the URL or the network")
    return cached, f"{problem}; used the copy fetched earlier"


class FeedUnavailable(Exception):
    """A feed URL could not be fetched and there is no earlier copy."""


class FeedTooLarge(Exception):
    """A feed URL sends more than ``catalog.max_file_mb``; the message says how much."""


def read_feed(data: bytes, path: str, lang: str) -> ReadResult:
    """Drafts from a feed document (RSS, Atom or JSON Feed)."""
    result = ReadResult()
    if data.lstrip()[:1] == b"{":
        reader: Callable[[bytes, str, str, ReadResult], None] = _read_json_feed
    else:
        reader = _read_xml_feed
    try:
        reader(data, path, lang, result)
    except FeedFormatError as error:
        result.findings.append(Finding("error", str(error), f"{path}:1"))
    result.drafts = [_normalized(draft) for draft in result.drafts]
    return result


def _normalized(draft: Draft) -> Draft:
    return replace(
        draft,
        title=normalize_text(draft.title),
        body=normalize_text(draft.body),
        summary=normalize_text(draft.summary),
    )


class FeedFormatError(ValueError):
    """The document is not a feed that can be read safely."""


def _read_xml_feed(data: bytes, path: str, lang: str, result: ReadResult) -> None:
    try:
        xml = readable_xml(data)
    except XmlEncodingError as error:
        raise FeedFormatError(str(error)) from None
    result.findings.extend(Finding("info", note, f"{path}:1") for note in xml.notes)
    data = xml.data
    try:
        _check_xml(data)
    except DefusedXmlException as error:
        raise FeedFormatError(
            f"refused: the feed declares entities ({type(error).__name__})"
        ) from None
    except safe_xml.ParseError as error:
        raise FeedFormatError(f"not well-formed XML: {error}") from None
    except TooDeep as error:
        raise FeedFormatError(f"refused: its XML is {error}") from None
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and parsed.get("bozo"):
        raise FeedFormatError(f"not a feed: {parsed.get('bozo_exception')}")
    lines = _entry_lines(xml.text)
    feed_lang = parsed.feed.get("language", "") or lang
    for number, entry in enumerate(parsed.entries):
        line = lines[number] if number < len(lines) else 1
        result.drafts.append(_xml_entry(entry, f"{path}:{line}", feed_lang))


def _check_xml(data: bytes) -> None:
    """Well-formed, declares no entities, and nests no deeper than MAX_NESTING elements."""
    depth = 0
    events = safe_xml.iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        forbid_dtd=False,
        forbid_entities=True,
        forbid_external=True,
    )
    for event, _ in events:
        depth += 1 if event == "start" else -1
        if depth > MAX_NESTING:
            raise TooDeep


def _entry_lines(text: str) -> list[int]:
    return [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"<(?:item|entry)[\s>]", text)]


def _xml_entry(entry: Any, location: str, lang: str) -> Draft:
    published = _struct_time(_field(entry, "published_parsed") or _field(entry, "updated_parsed"))
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    summary = entry.get("summary", "") if content else ""
    return Draft(
        location=location,
        title=_title_text(entry.get("title_detail")) or "Untitled",
        body=body,
        markup="html",
        published=published,
        date_inferred=published is None,
        warnings=() if published else (UNDATED,),
        updated=_updated(entry),
        summary=summary if summary != body else "",
        tags=tuple(t.get("term", "") for t in entry.get("tags", []) if t.get("term")),
        authors=tuple(a.get("name", "").strip() for a in entry.get("authors", []) if a.get("name")),
        id=entry.get("id", "") or entry.get("link", ""),
        lang=lang,
        url=_page_link(entry.get("link")),
    )


def _title_text(detail: Any) -> str:
    """A title as plain text: html and xhtml titles (Atom type="html", RSS titles holding
    markup) are read as HTML, as a feed reader shows them."""
    if not detail:
        return ""
    value = str(detail.get("value", ""))
    if detail.get("type") in ("text/html", "application/xhtml+xml") and value.strip():
        # nh3 (html5ever) parses any text, control characters included; they are left
        # for normalizing, which removes them with a warning.
        value = html.unescape(nh3.clean(value, tags=set()))
    return " ".join(value.split())


def _updated(entry: Any) -> datetime | None:
    return _struct_time(_field(entry, "updated_parsed"))


def _field(entry: Any, name: str) -> Any:
    # `in entry` and entry.get() fall back to the published date (deprecated in feedparser).
    return entry[name] if name in entry.keys() else None  # noqa: SIM118


def _struct_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


def _read_json_feed(data: bytes, path: str, lang: str, result: ReadResult) -> None:
    try:
        feed = load_json(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FeedFormatError(f"not a JSON Feed: {error}") from None
    except TooDeep as error:
        raise FeedFormatError(f"refused: its JSON is {error}") from None
    if not isinstance(feed, dict) or not isinstance(feed.get("items"), list):
        raise FeedFormatError("not a JSON Feed: no items list")
    feed_lang = str(feed.get("language") or lang)
    for number, item in enumerate(feed["items"], 1):
        location = f"{path}:item {number}"
        if isinstance(item, dict):
            result.drafts.append(_json_item(item, location, feed_lang))
        else:
            result.findings.append(Finding("warning", "item is not an object; skipped", location))


def _json_item(item: dict[str, Any], location: str, lang: str) -> Draft:
    published = _iso_date(item.get("date_published") or item.get("date_modified"))
    body = item.get("content_html") or _escape_text(item.get("content_text", ""))
    modified = item.get("date_modified")
    warnings: tuple[str, ...] = () if published else (UNDATED,)
    if modified is not None and _iso_date(modified) is None:
        warnings += (f"date_modified {modified!r} is not an RFC 3339 date; ignored",)
    return Draft(
        location=location,
        title=str(item.get("title") or "").strip() or "Untitled",
        body=str(body),
        markup="html",
        published=published,
        date_inferred=published is None,
        updated=_iso_date(modified),
        summary=_escape_text(item.get("summary", "")),
        tags=tuple(str(t) for t in item.get("tags", [])),
        authors=_json_authors(item),
        id=str(item.get("id", "")),
        lang=str(item.get("language") or lang),
        warnings=warnings,
        url=_page_link(item.get("url")),
    )


def _page_link(link: Any) -> str:
    """An entry's page, its URL in gazette's feeds too: absolute http(s) links only (a
    relative one is left to site.post_url, as its base is not known for sure)."""
    text = str(link or "").strip()
    return text if _PAGE_LINK.match(text) else ""


# An absolute http(s) URL with nothing a page or feed would have to escape in it.
_PAGE_LINK = re.compile(r"""^https?://[^/\s"'<>\\`\x00-\x1f\x7f]+[^\s"'<>\\`\x00-\x1f\x7f]*$""")


def _json_authors(item: dict[str, Any]) -> tuple[str, ...]:
    """JSON Feed 1.1's ``authors`` (or 1.0's ``author``): objects with a name."""
    found = item.get("authors") or [item.get("author")]
    people = found if isinstance(found, list) else []
    return tuple(str(p["name"]).strip() for p in people if isinstance(p, dict) and p.get("name"))


def _iso_date(value: Any) -> datetime | None:
    """An RFC 3339 date of a JSON Feed (UTC when it has no offset); None when unreadable."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _escape_text(text: Any) -> str:
    return f"<p>{html.escape(str(text))}</p>" if text else ""
