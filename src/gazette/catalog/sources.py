"""Reads every configured source: files found by glob, or a feed URL."""

from __future__ import annotations

import glob
import os
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from gazette.catalog.draft import ReadResult
from gazette.catalog.feed import FeedTooLarge, FeedUnavailable, fetch_feed, read_feed
from gazette.catalog.generators import GeneratorConfigError, GeneratorSite, find_site
from gazette.catalog.jsonl import read_jsonl
from gazette.catalog.limits import megabytes, size_limit, too_large
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
            part = _read_url(settings, source, connection)
        else:
            part = _read_files(settings, source, number, today)
        total.drafts.extend(part.drafts)
        total.findings.extend(part.findings)
    return normalize_drafts(total)


def _read_url(settings: Settings, source: SourceSettings, connection: Connection) -> ReadResult:
    max_file_mb = settings.catalog.max_file_mb
    try:
        cached = cached_fetch(connection, source.path)
        fetched, problem = fetch_feed(source.path, source.timeout, cached, size_limit(max_file_mb))
    except FeedTooLarge as error:
        message = too_large(f"the feed {error}", max_file_mb, settings.config_path)
        return ReadResult(findings=[Finding("error", message, source.path)])
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
        result.findings.append(_no_file(settings, source, number))
    site = _generator_site(settings, source, number) if source.generator and paths else None
    if isinstance(site, Finding):
        result.findings.append(site)
        return result
    for path in paths:
        if Path(path).is_file():
            part = _read_file(settings, source, path, today, site)
            result.drafts.extend(part.drafts)
            result.findings.extend(part.findings)
    return result


def _generator_site(
    settings: Settings, source: SourceSettings, number: int
) -> GeneratorSite | Finding:
    """The site of the source's generator, found from the folder its glob starts in."""
    pattern = settings.resolve(source.path)
    folder = Path(*(part for part in pattern.parts if not glob.has_magic(part)))
    folder = folder if folder.is_dir() else folder.parent
    assert source.generator is not None
    try:
        return find_site(source.generator, folder, settings.site.url)
    except GeneratorConfigError as error:
        return Finding("error", str(error), f"{settings.config_path}: [[sources]] #{number}")


def _no_file(settings: Settings, source: SourceSettings, number: int) -> Finding:
    """A glob that matches nothing: a typo would empty every feed, so it stops the build,
    unless the source says it may be empty."""
    where = f"{settings.config_path}: [[sources]] #{number}"
    if source.optional:
        return Finding("info", f"path {source.path!r} matches no file (optional)", where)
    return Finding(
        "error",
        f"path {source.path!r} matches no file, so the feeds would lose its posts: fix the "
        "glob, or set optional = true in this [[sources]] table when it may be empty",
        where,
    )


def _read_file(
    settings: Settings,
    source: SourceSettings,
    path: str,
    today: date,
    site: GeneratorSite | None = None,
) -> ReadResult:
    shown = _shown_path(path)
    data = _file_bytes(settings, path, shown)
    if isinstance(data, Finding):
        return ReadResult(findings=[data])
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
        zone, math, generator = settings.site.zone, tuple(source.math), source.generator or ""
        return read_markdown(text, shown, zone, source.lang, math, generator, site)
    return read_jsonl(text, shown)


def _file_bytes(settings: Settings, path: str, shown: str) -> bytes | Finding:
    """The file's bytes, or the error when it cannot be read or is over catalog.max_file_mb."""
    max_file_mb = settings.catalog.max_file_mb
    limit = size_limit(max_file_mb)
    try:
        with open(path, "rb") as file:
            data = file.read(limit + 1)  # a larger file is not read any further
            size = os.fstat(file.fileno()).st_size
    except OSError as error:
        return Finding("error", f"cannot read: {error.strerror}", shown)
    if len(data) > limit:
        what = f"the file is {megabytes(max(size, len(data)))}"
        return Finding("error", too_large(what, max_file_mb, settings.config_path), shown)
    return data


def _shown_path(path: str) -> str:
    """Paths in messages are relative to the working folder when they can be."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path
