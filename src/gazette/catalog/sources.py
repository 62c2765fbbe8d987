"""Reads every configured source: files found by glob, or a feed URL (each file only
when it changed: gazette.catalog.incremental)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from gazette.catalog.draft import ReadResult
from gazette.catalog.generators import (
    GeneratorConfigError,
    GeneratorSite,
    find_site,
    site_zone,
)
from gazette.catalog.incremental import SourceFiles
from gazette.catalog.jsonl import read_jsonl
from gazette.catalog.limits import megabytes, size_limit, too_large
from gazette.catalog.listing import read_listing
from gazette.catalog.markdown import read_markdown
from gazette.catalog.normalize import normalize_text
from gazette.catalog.sites import (
    detect_generator,
    glob_folder,
    is_list_page,
    not_a_site,
)
from gazette.catalog.tables import cached_fetch, save_fetch
from gazette.config import Settings, SourceSettings
from gazette.models import Finding


def read_sources(settings: Settings, connection: Connection, today: date) -> ReadResult:
    """Every draft from every source, in config order and normalized, with what was noticed."""
    files = SourceFiles(connection, settings, enabled=False)
    read_into(settings, connection, files, today)
    read = files.gathered()
    return ReadResult([item.draft for item in read.drafts], read.findings)


def read_into(settings: Settings, connection: Connection, files: SourceFiles, today: date) -> None:
    """Every source, in config order, into ``files``: the files that changed are read."""
    for number, configured in enumerate(settings.sources, 1):
        lang = configured.lang or settings.site.language
        source = configured.model_copy(update={"lang": lang})
        source = _site_generator(settings, source)
        if source.format == "feed" and source.is_url:
            _read_url(settings, source, number, connection, files)
        else:
            _read_files(settings, source, number, files, today)


def _read_url(
    settings: Settings,
    source: SourceSettings,
    number: int,
    connection: Connection,
    files: SourceFiles,
) -> None:
    # httpx and feedparser are imported for feed sources only.
    from gazette.catalog.feed import FeedTooLarge, FeedUnavailable, fetch_feed, read_feed  # noqa: PLC0415

    max_file_mb = settings.catalog.max_file_mb
    try:
        cached = cached_fetch(connection, source.path)
        fetched, problem = fetch_feed(source.path, source.timeout, cached, size_limit(max_file_mb))
    except FeedTooLarge as error:
        message = too_large(f"the feed {error}", max_file_mb, settings.config_path)
        files.note(Finding("error", message, source.path))
        return
    except FeedUnavailable as error:
        files.note(Finding("error", str(error), source.path))
        return
    save_fetch(connection, source.path, fetched)
    url, lang = source.path, source.lang
    files.read_body(number, source, url, fetched.body, lambda data: read_feed(data, url, lang))
    if problem:
        files.note(Finding("warning", problem, source.path))


def _site_generator(settings: Settings, source: SourceSettings) -> SourceSettings:
    """A Markdown source whose path is a site's top folder is read by the rules of the
    generator the folder is for (gazette.catalog.sites), unless it names one itself."""
    if source.format != "markdown" or source.generator:
        return source
    root = settings.resolve(source.path)
    found = detect_generator(root) if root.is_dir() else None
    return source.model_copy(update={"generator": found}) if found else source


def _read_files(
    settings: Settings, source: SourceSettings, number: int, files: SourceFiles, today: date
) -> None:
    paths = files.survey.paths(settings, number, source)
    if not paths:
        files.note(_no_file(settings, source, number))
    files.expect_new(number, paths)
    site = _generator_site(settings, source, number) if source.generator and paths else None
    if isinstance(site, Finding):
        files.note(site)
        return
    for path in paths:
        look = files.survey.look(path)
        if look is not None and look.regular and not is_list_page(source.generator or "", path):
            load, parse = _file_reader(settings, source, path, today, site)
            files.read_file(number, source, path, today, load, parse, site, look)


def _file_reader(
    settings: Settings, source: SourceSettings, path: str, today: date,
    site: GeneratorSite | None,
) -> tuple[Callable[[], bytes | Finding], Callable[[bytes], ReadResult]]:  # fmt: skip
    """How to load the file's bytes, and how to parse them (for an unchanged file, neither
    is called)."""

    def load() -> bytes | Finding:
        return _file_bytes(settings, path, _shown_path(path))

    def parse(data: bytes) -> ReadResult:
        return _parsed(settings, source, data, _shown_path(path), today, site)

    return load, parse


def generator_sites(settings: Settings) -> list[GeneratorSite]:
    """The sites of the sources read by a generator's rules (those whose config is found)."""
    sites: list[GeneratorSite] = []
    for number, configured in enumerate(settings.sources, 1):
        source = _site_generator(settings, configured)
        if source.generator:
            site = _generator_site(settings, source, number)
            if isinstance(site, GeneratorSite) and site not in sites:
                sites.append(site)
    return sites


def _generator_site(
    settings: Settings, source: SourceSettings, number: int
) -> GeneratorSite | Finding:
    """The site of the source's generator, found from the folder its glob starts in."""
    folder = glob_folder(settings.resolve(source.path))
    assert source.generator is not None
    try:
        return find_site(source.generator, folder, settings.site.url)
    except GeneratorConfigError as error:
        return Finding("error", str(error), f"{settings.config_path}: [[sources]] #{number}")


def _no_file(settings: Settings, source: SourceSettings, number: int) -> Finding:
    """A glob that matches nothing: a typo would empty every feed, so it stops the build,
    unless the source says it may be empty."""
    where = f"{settings.config_path}: [[sources]] #{number}"
    folder = settings.resolve(source.path)
    if source.format == "markdown" and folder.is_dir() and not source.generator:
        return Finding("error", not_a_site(folder), where)
    if source.optional:
        return Finding("info", f"path {source.path!r} matches no file (optional)", where)
    return Finding(
        "error",
        f"path {source.path!r} matches no file, so the feeds would lose its posts: fix the "
        "glob, or set optional = true in this [[sources]] table when it may be empty",
        where,
    )


def _parsed(
    settings: Settings, source: SourceSettings, data: bytes, shown: str, today: date,
    site: GeneratorSite | None,
) -> ReadResult:  # fmt: skip
    """The drafts in a file's bytes (not yet normalized)."""
    if source.format == "feed":
        from gazette.catalog.feed import read_feed  # noqa: PLC0415 - as in _read_url

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
        # Dates without an offset are in the generator's time zone, when its config names one.
        zone = (site_zone(site) if site else None) or settings.site.zone
        math, generator = tuple(source.math), source.generator or ""
        return read_markdown(text, shown, zone, source.lang, math, generator, site, today)
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
