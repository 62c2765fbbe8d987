"""Whether the feeds are up to date: what the last build was made from, against what is
there now. A build whose every input is unchanged would write nothing, so `gazette build`,
`gazette publish` and the scheduler's ticks all ask here first, and an unchanged blog
costs a look at its files' sizes and times, not a sync.

A build is made from:
- the settings it reads, gazette's version and the catalog's code;
- every source file, and the generator config files they are read by;
- the templates and the message catalogs (the index page, the archive of issues);
- the issues that went out (the archive of issues);
- the clock, when a post is dated in the future;
- the output files it wrote, as it left them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from gazette.catalog.code_version import code_version
from gazette.catalog.sites import site_config_files
from gazette.catalog.survey import Look, Survey, is_racy, settled_look
from gazette.catalog.tables import next_publication
from gazette.config import BUNDLED_TEMPLATES, LOCALES, Settings
from gazette.digest.ledger import sent_issue_numbers
from gazette.feeds.tables import count_feed_files, load_feed_files
from gazette.store import Store, read_meta, write_meta

LAST_BUILD_KEY = "last_build"
# Settings the feeds and the archive of issues are made from (any other change, such as
# the digest's schedule, leaves every output file as it is).
FEED_SETTINGS = {"site", "sources", "catalog", "feeds", "config_path"}
ARCHIVE_SETTINGS = {"digest": {"templates", "math", "view_url"}, "serve": {"url"}}


@dataclass(frozen=True, slots=True)
class LastBuild:
    """What the last build did, and what it was made from."""

    at: str  # RFC 3339
    written: int
    kept: int
    removed: int
    fingerprint: str  # of the settings, files and templates; "" when a source is a URL
    next_due: str  # when the first post dated in the future comes due; "" if none
    issues: str = ""  # a hash of the numbers of the issues that had gone out
    racy: tuple[str, ...] = ()  # files fingerprinted by their bytes as well (is_racy)
    files: int = -1  # how many files the inputs held (-1: not recorded)

    def fewer_files_than(self, inputs: Inputs) -> bool:
        """Whether ``inputs`` hold more files than this build's: a new post's file, most
        likely (one added as another is removed does not show here)."""
        return 0 <= self.files < inputs.files


@dataclass(frozen=True, slots=True)
class RacyFile:
    """A file fingerprinted by its bytes as well: changed too close to when it was looked
    at for its mtime to tell a later edit apart."""

    path: str
    look: Look
    content: bytes  # the hash of its bytes


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a build is about to be made from, taken before it reads anything."""

    fingerprint: str  # "" when a source is a URL
    issues: str
    racy: tuple[RacyFile, ...] = ()
    compared: str = ""  # the fingerprint as the last build's racy files are also read
    looked: Any = field(default=None, compare=False)  # the hash of all but racy bytes
    files: int = 0  # how many files they are made from (0 when a source is a URL)


def last_build(store: Store) -> LastBuild | None:
    with store.transaction() as connection:
        stored = read_meta(connection, LAST_BUILD_KEY)
    if not stored:
        return None
    found = json.loads(stored)
    return LastBuild(**{**found, "racy": tuple(found.get("racy", ()))})


def record_build(
    connection: Connection, inputs: Inputs, now: datetime, counts: tuple[int, int, int]
) -> LastBuild:
    """Keeps what the build just done was made from, for the next one to compare;
    ``counts`` are the files it wrote, kept and removed."""
    due = next_publication(connection, now)
    racy = tuple(file.path for file in inputs.racy)
    last = LastBuild(now.isoformat(), *counts, inputs.fingerprint,
                     due.isoformat() if due else "", inputs.issues, racy, inputs.files)  # fmt: skip
    write_meta(connection, LAST_BUILD_KEY, json.dumps(asdict(last)))
    return last


def record_archive(store: Store, issues: str) -> None:
    """Notes that the archive of issues was written for the issues ``issues`` hashes
    (after a send), so the next check has no build left to do for them."""
    with store.transaction() as connection:
        stored = read_meta(connection, LAST_BUILD_KEY)
        if stored:
            updated = {**json.loads(stored), "issues": issues}
            write_meta(connection, LAST_BUILD_KEY, json.dumps(updated))


def recorded_files(store: Store) -> int:
    """How many files the output folder holds, as the last build (or archive) left it."""
    with store.transaction() as connection:
        return count_feed_files(connection)


def sent_issues_hash(store: Store) -> str:
    with store.transaction() as connection:
        return _hash(str(sent_issue_numbers(connection)))


def current_inputs(
    settings: Settings, store: Store, survey: Survey, last_racy: Sequence[str] = ()
) -> Inputs:
    """The inputs as they are now, the files as ``survey`` finds them. A racy file (see
    is_racy) is fingerprinted by its bytes as well; ``compared`` also reads ``last_racy``,
    as the last build did."""
    issues = sent_issues_hash(store)
    if any(source.is_url for source in settings.sources):
        return Inputs("", issues)  # only fetching it, with its ETag, can tell
    looked = hashlib.sha256(f"{code_version()}\n{_settings_json(settings)}\n".encode())
    read_again = set(last_racy)
    racy: list[RacyFile] = []
    compared: list[bytes] = []
    files = 0
    for path in _input_files(settings, survey):
        files += 1
        look = survey.look(path)
        looked.update(_file_line(path, look))
        if look is None or not look.regular:  # a pipe would block the read
            continue
        racy_now = is_racy(look)
        if racy_now or path in read_again:
            content = _content_part(path)
            compared.append(content)
            if racy_now:
                racy.append(RacyFile(path, look, content))
    return Inputs(_with_bytes(looked, [file.content for file in racy]), issues, tuple(racy),
                  _with_bytes(looked, compared), looked, files)  # fmt: skip


def settled(inputs: Inputs) -> Inputs:
    """``inputs`` as a build that has just ended records them: a racy file that is no
    longer racy, and still holds the bytes it was fingerprinted by, is fingerprinted by
    its size and mtime alone, so the next check need not read it."""
    if inputs.looked is None:
        return inputs
    racy = tuple(
        file
        for file in inputs.racy
        if settled_look(file.path, file.look) is None or _content_part(file.path) != file.content
    )
    if len(racy) == len(inputs.racy):
        return inputs
    fingerprint = _with_bytes(inputs.looked, [file.content for file in racy])
    return replace(inputs, fingerprint=fingerprint, racy=racy)


def _file_line(path: str, look: Look | None) -> bytes:
    """The file's name, size and mtime as the fingerprint holds them."""
    if look is None:  # gone since the glob: the sync that follows says so
        return f"{path}\0gone\n".encode()
    return f"{path}\0{look.size}\0{look.mtime_ns}\n".encode()


def _content_part(path: str) -> bytes:
    return f"{path}\0".encode() + _hash_file(path)


def _with_bytes(looked: Any, contents: Sequence[bytes]) -> str:
    """The fingerprint: the files' names, sizes and mtimes, then these files' bytes."""
    fingerprint = looked.copy()
    for content in contents:
        fingerprint.update(content)
    return str(fingerprint.hexdigest())


def why_build(
    settings: Settings, store: Store, last: LastBuild | None, inputs: Inputs, now: datetime
) -> str:
    """Why the feeds may be out of date; "" when they cannot be. ``inputs`` are taken with
    ``last.racy``."""
    if last is None:
        return "no build yet"
    if not inputs.fingerprint:
        return "a source is a URL"
    if inputs.compared != last.fingerprint:
        return "a source or the config changed"  # a template counts as config
    if inputs.issues != last.issues:
        return "an issue went out"
    if last.next_due and datetime.fromisoformat(last.next_due) <= now:
        return f"a post dated {last.next_due} came due"
    return _output_changed(settings, store)


def _output_changed(settings: Settings, store: Store) -> str:
    """What is no longer as the last build left it in the output folder; "" if nothing."""
    output = settings.resolve(settings.feeds.output)
    if not output.is_dir():
        return "the output folder is missing"
    with store.transaction() as connection:
        records = load_feed_files(connection)
    for path, record in sorted(records.items()):
        try:
            found = (output / path).stat()
        except FileNotFoundError:
            return f"{path} is missing from the output folder"
        if (found.st_size, found.st_mtime_ns) != (record.size, record.mtime_ns):
            return f"{path} changed in the output folder"
    return ""


def _input_files(settings: Settings, survey: Survey) -> Iterator[str]:
    """Every file a build of file sources reads, in a fixed order."""
    for number, source in enumerate(settings.sources, 1):
        yield from survey.paths(settings, number, source)
        yield from site_config_files(settings, source)
    folders = [BUNDLED_TEMPLATES, LOCALES]
    if settings.digest.templates:
        folders.append(settings.resolve(settings.digest.templates))
    for folder in folders:
        yield from sorted(str(path) for path in folder.rglob("*") if path.is_file())


def _settings_json(settings: Settings) -> str:
    used = settings.model_dump(mode="json", include=FEED_SETTINGS)
    used.update(settings.model_dump(mode="json", include=ARCHIVE_SETTINGS))
    return json.dumps(used, sort_keys=True)


def _hash_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except OSError:  # not a file to read (any more): the sync that follows says so
        return b"unreadable"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
