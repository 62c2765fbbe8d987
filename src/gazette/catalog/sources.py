"""Reads every configured source: files found by glob, or a feed URL."""

from __future__ import annotations

import glob
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from gazette.catalog.draft import ReadResult
from gazette.catalog.feed import FeedUnavailable, fetch_feed, read_feed
from gazette.catalog.jsonl import read_jsonl
from gazette.catalog.listing import read_listing
from gazette.catalog.markdown import read_markdown
from gazette.catalog.normalize import normalize_drafts, normalize_text
from gazette.catalog.tables import cached_fetch, save_fetch
from gazette.config import Settings, SourceSettings
from gazette.models import Finding


def read_sources(settings: Settings, connection: Connection, today: date) -> ReadResult:
    """Every draft from every source, in config order and normalized, with what was noticed."""
    total = ReadResult()
    for number, configured in enumerate(settings.sources, 1):
        lang = configured.lang or settings.site.language
        source = configured.model_copy(update={"lang": lang})
        if source.format == "feed" and source.is_url:
            part = _read_url(source, connection)
        else:
            part = _read_files(settings, source, number, today)
        total.drafts.extend(part.drafts)
        total.findings.extend(part.findings)
    return normalize_drafts(total)


def _read_url(source: SourceSettings, connection: Connection) -> ReadResult:
    try:
        fetched, problem = fetch_feed(
            source.path, source.timeout, cached_fetch(connection, source.path)
        )
    except FeedUnavailable as error:
        return ReadResult(findings=[Finding("error", str(error), source.path)])
    save_fetch(connection, source.path, fetched)
    result = read_feed(fetched.body, source.path, source.lang)
    if problem:
        result.findings.append(Finding("warning", problem, source.path))
    return result


def source_paths(settings: Settings, source: SourceSettings) -> list[str]:
    """The paths a file source's glob matches now, sorted (folders included)."""
    return sorted(glob.glob(str(settings.resolve(source.path)), recursive=True))


def _read_files(settings: Settings, source: SourceSettings, number: int, today: date) -> ReadResult:
    paths = source_paths(settings, source)
    result = ReadResult()
    if not paths:
        where = f"{settings.config_path}: [[sources]] #{number}"
        result.findings.append(
            Finding("warning", f"path {source.path!r} matches no file; check the glob", where)
        )
    for path in paths:
        if Path(path).is_file():
            part = _read_file(settings, source, path, today)
            result.drafts.extend(part.drafts)
            result.findings.extend(part.findings)
    return result


def _read_file(settings: Settings, source: SourceSettings, path: str, today: date) -> ReadResult:
    shown = _shown_path(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return ReadResult(findings=[Finding("error", f"cannot read: {error.strerror}", shown)])
    if source.format == "feed":
        return read_feed(data, shown, source.lang)
    try:
        text = normalize_text(data.decode(source.encoding))
    except UnicodeDecodeError as error:
        message = (
            f"not valid {source.encoding} at byte {error.start}; if the file is in another "
            'encoding, set encoding = "gb18030" (or its real one) for this source'
        )
        return ReadResult(findings=[Finding("error", message, shown)])
    if source.format == "listing":
        return read_listing(text, shown, source, settings.site.zone, today)
    if source.format == "markdown":
        return read_markdown(text, shown, settings.site.zone, source.lang)
    return read_jsonl(text, shown)


def _shown_path(path: str) -> str:
    """Paths in messages are relative to the working folder when they can be."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
