"""Incremental to the file: a source file that has not changed since the last sync is not
read, parsed or hashed again; its drafts come from what that sync stored.

A file counts as unchanged when its size and mtime are those stored and it was read with
the same settings and the same reader code. An mtime with no fraction of a second (a
coarse filesystem) or one within a few seconds of the last read (the file may have been
written again in the same clock tick) is not proof enough: then the content is hashed and
compared. A feed fetched by URL is compared by its body's hash (a 304 gives the same).

What a stored draft lacks is its body (and a JSON Lines record's rendering): the rest of
the sync needs only its hashes. When a stored draft must be rendered after all (a post
that a changed file no longer duplicates, say), its file is read again for the body.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from gazette.catalog.code_version import code_version
from gazette.catalog.draft import Draft, ReadResult
from gazette.catalog.identity import body_hash, titles_to_read
from gazette.catalog.normalize import normalize_drafts
from gazette.catalog.render import render_key
from gazette.catalog.survey import Look, Survey, is_racy, look_at, settled_look
from gazette.catalog.tables import (
    FileKey,
    FileRecord,
    delete_file_records,
    load_file_drafts,
    load_file_records,
    note_files_checked,
    save_file_records,
)
from gazette.config import Settings, SourceSettings
from gazette.errors import SourceError
from gazette.models import Finding
from gazette.pinyin import Reader

STORED_AT_ONCE = 1_000  # file records a sync holds before storing them
Parse = Callable[[bytes], ReadResult]


@dataclass(frozen=True, slots=True)
class Sourced:
    """A draft with what syncing derives from its text, computed once per version of its
    file; ``stored`` when it came from the last sync's record. Unless ``body_held``, its
    body (and a JSON Lines record's rendering) is empty: read it again to render it."""

    draft: Draft
    body_hash: str
    render_key: str
    slug: str  # its own, from the source ("": one from the title, made when a new post needs it)
    locations: tuple[str, ...]
    key: FileKey
    stored: bool = False
    body_held: bool = True


@dataclass
class FileRead:
    """What one file gave: drafts, the reader's findings, and normalizing's findings."""

    drafts: list[Sourced] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    normalized: list[Finding] = field(default_factory=list)


class SourceFiles:
    """The source files of one sync: which are unchanged, what changed ones gave."""

    def __init__(
        self,
        connection: Connection,
        settings: Settings,
        enabled: bool = True,
        survey: Survey | None = None,
        bodies: int | None = None,
        titles: Reader | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.enabled = enabled
        self.survey = survey or Survey()  # the files as found (by the freshness check, too)
        self.bodies_left = bodies  # drafts read after these many hold no body (None: all do)
        self.titles = titles  # reads ahead the titles of new files' posts (see expect_new)
        self.records = load_file_records(connection) if enabled else {}
        self.seen: set[FileKey] = set()
        self.order: list[FileKey | Finding] = []  # files read, and findings about no file
        self.results: dict[FileKey, FileRead] = {}  # files read now
        self.fingerprints: dict[int, str] = {}  # of each [[sources]] table
        self.fresh: dict[FileKey, dict[str, Any]] = {}  # rows not stored yet
        self.saved: set[FileKey] = set()  # rows this sync stored already
        self.stored: dict[FileKey, FileRecord] = {}  # unchanged files, drafts not loaded
        self.parsers: dict[FileKey, tuple[Callable[[], bytes | Finding], Parse]] = {}
        self.read_again: dict[FileKey, dict[str, Sourced]] = {}  # see with_bodies
        self.racy: dict[FileKey, tuple[Look, str]] = {}  # files racy when read: see _settle
        self.checked: dict[FileKey, float] = {}  # racy files found settled, and when

    # --- reading ------------------------------------------------------------------------

    def expect_new(self, number: int, paths: list[str]) -> None:
        """Before the files of source ``number`` are read: when one of ``paths`` is new,
        its posts will be too, so the reader of their titles starts loading now."""
        if self.titles is not None and any((number, path) not in self.records for path in paths):
            self.titles.start()

    def read_file(
        self,
        number: int,
        source: SourceSettings,
        path: str,
        today: date,
        load: Callable[[], bytes | Finding],
        parse: Parse,
        site: object = None,
        look: Look | None = None,
    ) -> None:
        """Reads the file at ``path`` unless it is unchanged since the last sync (with the
        same ``site``: what the generator's config says, which its drafts depend on too);
        ``look`` is how it was found (looked at again when not given)."""
        key = (number, path)
        self.seen.add(key)
        self.order.append(key)
        self.parsers[key] = (load, parse)
        fingerprint = self._fingerprint(number, source, today, site)
        look = look or look_at(path)
        record = self.records.get(key)
        data: bytes | Finding | None = None
        if record is not None and look is not None and _unchanged(record, fingerprint, look):
            if not _racy(record.checked, look):
                self.stored[key] = record
                return
            data = load()  # its mtime cannot tell: its bytes can
            if _content_hash(data) == record.content_hash:
                self.stored[key] = record
                self._note_racy(key, look, record.content_hash)
                return
        checked = look.checked if look is not None else time.time()
        self._parsed(key, fingerprint, load() if data is None else data, parse, look, checked)

    def _note_racy(self, key: FileKey, look: Look, content_hash: str) -> None:
        """Notes a file read with these bytes when it was found as ``look``: checked now
        if it is not racy as of the look, to be settled at the end (see _settle) if it is."""
        if _racy(look.checked, look):
            self.racy[key] = (look, content_hash)
        else:
            self.checked[key] = look.checked

    def read_body(
        self, number: int, source: SourceSettings, url: str, body: bytes, parse: Parse
    ) -> None:
        """Reads a fetched feed's body unless it is the one the last sync read."""
        key = (number, url)
        self.seen.add(key)
        self.order.append(key)
        self.parsers[key] = (lambda: body, parse)
        fingerprint = self._fingerprint(number, source, None)
        record = self.records.get(key)
        if (
            record is not None
            and record.fingerprint == fingerprint
            and record.content_hash == _content_hash(body)
        ):
            self.stored[key] = record
            return
        self._parsed(key, fingerprint, body, parse, Look(len(body), 0, time.time()), time.time())

    def _parsed(
        self,
        key: FileKey,
        fingerprint: str,
        data: bytes | Finding,
        parse: Parse,
        look: Look | None,
        checked: float,
    ) -> None:
        read = self._held(_read(self.settings, key, data, parse))
        self.results[key] = read
        if self.titles is not None and self._may_hold_new_posts(key):
            self.titles.offer(titles_to_read(i.draft.title for i in read.drafts if not i.slug))
        if isinstance(data, Finding) or look is None:
            return  # an unreadable file is tried again next time
        if not self.enabled:
            return  # no record is stored
        if _racy(checked, look):
            self.racy[key] = (look, _content_hash(data))  # see _settle
        self.fresh[key] = {
            "source": key[0],
            "path": key[1],
            "fingerprint": fingerprint,
            "size": look.size,
            "mtime_ns": look.mtime_ns,
            "content_hash": _content_hash(data),
            "checked": checked,
            "drafts": json.dumps([_encoded(s) for s in read.drafts], ensure_ascii=False),
            "findings": json.dumps(
                [_encoded_findings(read.findings), _encoded_findings(read.normalized)],
                ensure_ascii=False,
            ),
        }
        if len(self.fresh) >= STORED_AT_ONCE:
            self._store_fresh()

    def _may_hold_new_posts(self, key: FileKey) -> bool:
        """A new file, or a changed one of a format that holds many posts (a listing page,
        JSON Lines, a feed): the titles of its posts are worth reading ahead. (A Markdown
        file holds one post, which an edit leaves as it was.)"""
        return key not in self.records or self.settings.sources[key[0] - 1].format != "markdown"

    def _held(self, read: FileRead) -> FileRead:
        """``read`` with the bodies past the ``bodies`` this sync holds dropped."""
        if self.bodies_left is None:
            return read
        held = read.drafts[: max(self.bodies_left, 0)]
        self.bodies_left -= len(held)
        dropped = [
            replace(item, draft=replace(item.draft, body="", rendered=None), body_held=False)
            for item in read.drafts[len(held) :]
        ]
        return FileRead([*held, *dropped], read.findings, read.normalized)

    def _fingerprint(
        self, number: int, source: SourceSettings, today: date | None, site: object = None
    ) -> str:
        if number not in self.fingerprints:
            self.fingerprints[number] = _fingerprint(self.settings, source, today, site)
        return self.fingerprints[number]

    def note(self, finding: Finding) -> None:
        """A finding about a source rather than a file (a glob that matches nothing)."""
        self.order.append(finding)

    # --- what was read ------------------------------------------------------------------

    def unchanged(self) -> bool:
        """Every file is as the last sync left it, and no file came or went."""
        return self.enabled and not self.results and self.seen == set(self.records)

    def gathered(self, drafts: bool = True) -> FileRead:
        """Every file's drafts (stored ones without bodies; none when not ``drafts``) and
        findings, in the order the files were read."""
        texts = load_file_drafts(self.connection) if drafts and self.stored else {}
        parts: dict[FileKey, FileRead] = {}
        for key in self.order:
            if isinstance(key, Finding):
                continue
            if key in self.results:
                parts[key] = self.results[key]
            elif drafts or self.stored[key].findings != _NO_FINDINGS:  # else it adds nothing
                parts[key] = _stored_read(key, self.stored[key], texts.get(key))
        self._read_relinked(parts)
        total = FileRead()
        normalized: list[Finding] = []
        for key in self.order:
            if isinstance(key, Finding):
                total.findings.append(key)
                continue
            part = parts.get(key)
            if part is None:
                continue
            total.drafts.extend(part.drafts)
            total.findings.extend(part.findings)
            normalized.extend(part.normalized)
        total.findings.extend(normalized)
        return total

    def _read_relinked(self, parts: dict[FileKey, FileRead]) -> None:
        """Reads again the unchanged files whose posts link to a post (by its generator's
        syntax) whose URL is not the one they show."""
        linking = [
            key
            for key in self.stored
            if key in parts and any(item.draft.links for item in parts[key].drafts)
        ]
        if not linking:
            return
        urls = {
            str(Path(item.draft.location.rsplit(":", 1)[0]).resolve()): item.draft.url
            for part in parts.values()
            for item in part.drafts
            if item.draft.url
        }
        for key in linking:
            links = (link.split(" ", 1) for s in parts[key].drafts for link in s.draft.links)
            if any(urls.get(path, url) != url for url, path in links):
                record = self.stored.pop(key)
                load, parse = self.parsers[key]
                look = look_at(key[1])
                self._parsed(key, record.fingerprint, load(), parse, look, time.time())
                parts[key] = self.results[key]

    def changed_keys(self) -> list[FileKey]:
        """The files read now, and those that are gone."""
        return [*self.results, *(key for key in self.records if key not in self.seen)]

    def stored_drafts(self, keys: list[FileKey]) -> list[Sourced]:
        """The drafts the last sync stored for these files (without bodies)."""
        texts = load_file_drafts(self.connection, [key for key in keys if key in self.records])
        return [_decoded(key, item) for key, text in texts.items() for item in json.loads(text)]

    def with_bodies(self, wanted: list[tuple[Sourced, Draft]]) -> list[Draft]:
        """Each draft (the sync's version of its item) with its body: the one held, or the
        one its file holds now (each file read once: the last one read is kept for the next
        call, whose drafts may go on in it); a body read earlier in this sync must hash as it
        did then."""
        again = dict(self.read_again)
        for item, _draft in wanted:
            if not item.body_held and item.key not in again:
                load, parse = self.parsers[item.key]
                read = _read(self.settings, item.key, load(), parse)
                again[item.key] = {found.draft.location: found for found in read.drafts}
                self.read_again = {item.key: again[item.key]}
        return [draft if item.body_held else _body_of(item, draft, again) for item, draft in wanted]

    def save(self) -> None:
        """Stores the records of the files read now and forgets files that are gone."""
        if not self.enabled:
            return
        gone = [key for key in self.records if key not in self.seen]
        delete_file_records(self.connection, gone)
        self._store_fresh()
        self._settle()
        note_files_checked(self.connection, self.checked)

    def _settle(self) -> None:
        """Notes the files that were racy when read, and no longer are with the bytes they
        were read with, as checked now: the next sync trusts their size and mtime."""
        for key, (look, content_hash) in self.racy.items():
            if _whole_seconds(look):
                continue  # always compared by their bytes
            settled = settled_look(key[1], look)
            if settled is not None and _content_hash(self.parsers[key][0]()) == content_hash:
                self.checked[key] = settled.checked

    def _store_fresh(self) -> None:
        """Stores the records made since the last call (in the sync's transaction: a sync
        that fails stores none), so that a first sync of a large blog does not hold them."""
        replacing = [key for key in self.fresh if key in self.records or key in self.saved]
        save_file_records(self.connection, list(self.fresh.values()), replacing)
        self.saved.update(self.fresh)
        self.fresh.clear()


def _body_of(item: Sourced, draft: Draft, again: dict[FileKey, dict[str, Sourced]]) -> Draft:
    found = again[item.key].get(item.draft.location)
    # A stored draft's body may read differently now (a post it links to moved), which is
    # why it is rendered again; one this sync dropped was hashed from these very bytes.
    if found is None or (not item.stored and found.body_hash != item.body_hash):
        raise SourceError(
            f"{item.draft.location}: the file changed while it was being synced; sync again"
        )
    return replace(draft, body=found.draft.body, rendered=found.draft.rendered)


def _read(settings: Settings, key: FileKey, data: bytes | Finding, parse: Parse) -> FileRead:
    if isinstance(data, Finding):
        return FileRead(findings=[data])
    parsed = parse(data)
    normalized = normalize_drafts(ReadResult(drafts=parsed.drafts))
    width = settings.catalog.excerpt_width
    drafts = [
        Sourced(
            draft=draft,
            body_hash=body_hash(draft.body),
            render_key=render_key(draft, width),
            slug=draft.slug,  # its own; one from the title only when a new post needs it
            locations=draft.rendered.sources if draft.rendered is not None else (draft.location,),
            key=key,
        )
        for draft in normalized.drafts
    ]
    return FileRead(drafts, parsed.findings, normalized.findings)


# --- how a file looks ------------------------------------------------------------------


def _unchanged(record: FileRecord, fingerprint: str, look: Look) -> bool:
    return (
        record.fingerprint == fingerprint
        and record.size == look.size
        and record.mtime_ns == look.mtime_ns
    )


def _racy(checked: float, look: Look) -> bool:
    """Whether the mtime cannot tell an edit apart: whole seconds (a coarse filesystem),
    or close to when the file was last read, at ``checked`` (written again within the same
    tick)."""
    return _whole_seconds(look) or is_racy(look, checked)


def _whole_seconds(look: Look) -> bool:
    """An mtime in whole seconds: a coarse filesystem's, which cannot tell edits within a
    second apart however long ago it was."""
    return look.mtime_ns % 1_000_000_000 == 0


def _content_hash(data: bytes | Finding) -> str:
    if isinstance(data, Finding):
        return ""
    return hashlib.sha256(data).hexdigest()


def _fingerprint(
    settings: Settings, source: SourceSettings, today: date | None, site: object = None
) -> str:
    """What a file's drafts depend on besides its bytes."""
    parts: list[Any] = [
        code_version(),
        repr(site),  # a generator's site settings (a dataclass: its repr holds them all)
        source.model_dump(mode="json"),
        settings.site.timezone,
        settings.catalog.model_dump(mode="json"),
        os.getcwd(),  # locations are shown relative to it
    ]
    if source.format == "listing" and source.year is None and today is not None:
        parts.append(today.isoformat())  # the newest entry's year is guessed from today
    elif source.generator == "hugo" and today is not None:
        parts.append(today.isoformat())  # an expiryDate may pass: Hugo posts are read daily
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# --- stored drafts ---------------------------------------------------------------------

_DATES = ("published", "updated")
_NO_FINDINGS = "[[], []]"


def _encoded(item: Sourced) -> dict[str, Any]:
    fields = {name: getattr(item.draft, name) for name in Draft.__slots__}
    fields.pop("body")
    fields.pop("rendered")
    for name in _DATES:
        fields[name] = fields[name].isoformat() if fields[name] is not None else None
    return {
        "draft": fields,
        "body_hash": item.body_hash,
        "render_key": item.render_key,
        "slug": item.slug,
        "locations": item.locations,
    }


def _decoded(key: FileKey, stored: dict[str, Any]) -> Sourced:
    fields = dict(stored["draft"])
    for name in _DATES:
        fields[name] = datetime.fromisoformat(fields[name]) if fields[name] is not None else None
    for name, value in fields.items():
        if isinstance(value, list):  # JSON keeps a draft's tuples (tags, authors …) as lists
            fields[name] = tuple(value)
    return Sourced(
        draft=Draft(body="", **fields),
        body_hash=stored["body_hash"],
        render_key=stored["render_key"],
        slug=stored["slug"],
        locations=tuple(stored["locations"]),
        key=key,
        stored=True,
        body_held=False,
    )


def _encoded_findings(findings: list[Finding]) -> list[list[str]]:
    return [[f.severity, f.message, f.location] for f in findings]


def _stored_read(key: FileKey, record: FileRecord, drafts: str | None) -> FileRead:
    read, normalized = json.loads(record.findings) if record.findings != _NO_FINDINGS else ([], [])
    return FileRead(
        drafts=[_decoded(key, item) for item in json.loads(drafts)] if drafts else [],
        findings=[Finding(*f) for f in read],
        normalized=[Finding(*f) for f in normalized],
    )
