"""The output folder over HTTP: conditional GET, gzip, HEAD, and nothing outside it.

Every request stats its file, so a build's atomic rename shows at once. A small file's
headers, bytes and gzip bytes are held in memory, keyed by its inode, size and mtime
(its ETag is its mtime and size, as nginx's is: a build leaves an unchanged file's mtime
alone); a larger file is streamed from the open file, uncompressed.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote_to_bytes

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from gazette.feeds.media import is_textual, media_type

Headers = list[tuple[bytes, bytes]]

HELD_FILE_LIMIT = 4 * 1024 * 1024  # larger files are streamed, never held or compressed
HELD_TOTAL_LIMIT = 64 * 1024 * 1024  # per process, least recently used first out
CHUNK = 256 * 1024
INDEX = "index.html"
# Feed readers poll: a cache may keep a copy but must ask (a 304 is cheap) before using it.
CACHE_CONTROL = (b"cache-control", b"no-cache")
VARY = (b"vary", b"accept-encoding")

_REFUSED_ESCAPES = re.compile(rb"%(?:2f|5c|00)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def requested_file(raw_path: bytes) -> str | None:
    """The path a request names, relative to the output folder ("" or ending in / for a
    folder); None when refused: a segment starting with a dot (``..``, dotfiles), an
    empty segment, an encoded slash, backslash or NUL, a control character, not UTF-8."""
    if b"\\" in raw_path or _REFUSED_ESCAPES.search(raw_path):
        return None
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not path.startswith("/") or "\\" in path or _CONTROL.search(path):
        return None
    parts = path[1:].split("/")
    if any(part.startswith(".") for part in parts) or "" in parts[:-1]:
        return None
    return path[1:]


@dataclass(frozen=True, slots=True)
class Variant:
    """One representation of a file: its ETag, its 200 and 304 headers, its bytes (None
    when streamed)."""

    etag: str
    headers: Headers
    not_modified: Headers
    body: bytes | None


@dataclass(frozen=True, slots=True)
class Held:
    """A file as served: both representations, valid while its stat key is unchanged."""

    key: tuple[int, int, int]
    mtime: float
    identity: Variant
    gzipped: Variant | None

    @property
    def size(self) -> int:
        gzipped = self.gzipped.body if self.gzipped is not None else None
        return len(self.identity.body or b"") + len(gzipped or b"")


@dataclass(slots=True)
class Conditions:
    """What a request asks of the representation: validators, and whether gzip is fine."""

    if_none_match: str | None = None
    if_modified_since: str | None = None
    gzip: bool = False


def conditions(headers: Iterable[tuple[bytes, bytes]]) -> Conditions:
    found = Conditions()
    for name, value in headers:
        if name == b"if-none-match":
            text = value.decode("latin-1")
            found.if_none_match = f"{found.if_none_match},{text}" if found.if_none_match else text
        elif name == b"if-modified-since":
            found.if_modified_since = value.decode("latin-1")
        elif name == b"accept-encoding":
            found.gzip = accepts_gzip(value.decode("latin-1"))
    return found


def accepts_gzip(header: str) -> bool:
    """Whether Accept-Encoding admits gzip (RFC 9110 12.5.3: ``gzip;q=0`` refuses it)."""
    qualities: dict[str, float] = {}
    for item in header.split(","):
        coding, _, parameters = item.partition(";")
        qualities[coding.strip().lower()] = _quality(parameters)
    for coding in ("gzip", "x-gzip", "*"):
        if coding in qualities:
            return qualities[coding] > 0
    return False


def _quality(parameters: str) -> float:
    name, _, value = parameters.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def not_modified(asked: Conditions, etag: str, mtime: float) -> bool:
    """RFC 9110 13.2.2: If-None-Match (weak comparison) when present, else
    If-Modified-Since at the resolution of an HTTP date."""
    if asked.if_none_match is not None:
        return etag_matches(asked.if_none_match, etag)
    if asked.if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(asked.if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return int(mtime) <= since.timestamp()


def etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _variant(name: str, st: os.stat_result, body: bytes | None, encoding: str) -> Variant:
    suffix = f"-{encoding}" if encoding else ""
    etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}{suffix}"'
    media = media_type(name)
    validators = [(b"etag", etag.encode()), (b"last-modified", _http_date(st.st_mtime))]
    bare = [*validators, CACHE_CONTROL, *([VARY] if is_textual(media) else [])]
    length = st.st_size if body is None else len(body)
    headers = [(b"content-type", media.encode()), (b"content-length", str(length).encode())]
    if encoding:
        headers.append((b"content-encoding", encoding.encode()))
    return Variant(etag, headers + bare, bare, body)


def _http_date(moment: float) -> bytes:
    return formatdate(moment, usegmt=True).encode()


def hold(path: str, name: str) -> Held | None:
    """Reads the file at ``path`` (served as ``name``) into a Held; None when it is too
    large to hold or not a regular file. Raises OSError when it cannot be read."""
    with open(path, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > HELD_FILE_LIMIT:
            return None
        data = handle.read()
    gzipped = None
    if is_textual(media_type(name)):
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) < len(data):
            gzipped = _variant(name, st, packed, "gzip")
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    return Held(key, st.st_mtime, _variant(name, st, data, ""), gzipped)


class OutputFiles:
    """The ASGI app that serves the output folder at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root)
        self._prefix = self.root.rstrip(os.sep) + os.sep
        self._held: OrderedDict[str, Held] = OrderedDict()
        self._held_bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        relative = requested_file(scope.get("raw_path") or scope["path"].encode())
        found = self.locate(relative) if relative is not None else None
        if found is None:
            await send_plain(send, 404, "Not Found", head)
        elif isinstance(found, str):
            query = scope.get("query_string", b"").decode("latin-1")
            location = found + (f"?{query}" if query else "")
            moved = [(b"location", location.encode())]
            await send_plain(send, 301, "Moved Permanently", head, moved)
        else:
            await self._send_file(send, found, conditions(scope["headers"]), head)

    def locate(self, relative: str) -> tuple[str, str, os.stat_result] | str | None:
        """The file to serve for ``relative`` as (path, name, stat); for a folder named
        without its slash, the relative URL to redirect to; None when there is none."""
        folder = relative == "" or relative.endswith("/")
        name = relative + INDEX if folder else relative
        found = self._resolve(name)
        if found is None:
            return None
        path, st = found
        if stat.S_ISDIR(st.st_mode) and not folder:
            inside = self.locate(relative + "/")
            return f"./{quote(relative.rpartition('/')[2])}/" if inside is not None else None
        return (path, name, st) if stat.S_ISREG(st.st_mode) else None

    def _resolve(self, name: str) -> tuple[str, os.stat_result] | None:
        """The path and stat of ``name`` under the folder: one lstat per segment, and a
        symlink only when it resolves inside the folder to nothing hidden."""
        path = self.root
        try:
            for part in name.split("/"):
                path = os.path.join(path, part)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    return self._resolve_link(os.path.join(self.root, name))
        except OSError:
            return None
        return path, st

    def _resolve_link(self, path: str) -> tuple[str, os.stat_result] | None:
        real = os.path.realpath(path)
        if not real.startswith(self._prefix):
            return None
        if any(part.startswith(".") for part in real[len(self._prefix) :].split(os.sep)):
            return None  # the build's lock file and temporary files are dotfiles
        try:
            return real, os.stat(real)
        except OSError:
            return None

    async def _send_file(
        self, send: Send, found: tuple[str, str, os.stat_result], asked: Conditions, head: bool
    ) -> None:
        path, name, st = found
        try:
            held = await self._held_file(path, name, st)
            if held is None:
                await _stream(send, path, name, asked, head)
                return
        except OSError:
            await send_plain(send, 404, "Not Found", head)
            return
        variant = held.gzipped if held.gzipped is not None and asked.gzip else held.identity
        if not_modified(asked, variant.etag, held.mtime):
            await _respond(send, 304, variant.not_modified, b"")
        else:
            await _respond(send, 200, variant.headers, b"" if head else variant.body or b"")

    async def _held_file(self, path: str, name: str, st: os.stat_result) -> Held | None:
        if st.st_size > HELD_FILE_LIMIT:
            return None
        held = self._held.get(path)
        if held is not None and held.key == (st.st_ino, st.st_size, st.st_mtime_ns):
            self._held.move_to_end(path)
            return held
        held = await anyio.to_thread.run_sync(hold, path, name)
        if held is not None:
            self._keep(path, held)
        return held

    def _keep(self, path: str, held: Held) -> None:
        old = self._held.pop(path, None)
        self._held_bytes += held.size - (old.size if old else 0)
        self._held[path] = held
        while self._held_bytes > HELD_TOTAL_LIMIT and len(self._held) > 1:
            _, evicted = self._held.popitem(last=False)
            self._held_bytes -= evicted.size


async def _stream(send: Send, path: str, name: str, asked: Conditions, head: bool) -> None:
    """A large file, read from the open handle: a rename meanwhile does not mix two."""
    with open(path, "rb") as handle:
        st = os.fstat(handle.fileno())
        variant = _variant(name, st, None, "")
        if not_modified(asked, variant.etag, st.st_mtime):
            await _respond(send, 304, variant.not_modified, b"")
            return
        await send({"type": "http.response.start", "status": 200, "headers": variant.headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        await _send_chunks(send, handle, st.st_size)


async def _send_chunks(send: Send, handle: BinaryIO, size: int) -> None:
    remaining = size
    while True:
        chunk = await anyio.to_thread.run_sync(handle.read, min(CHUNK, remaining))
        remaining -= len(chunk)
        more = bool(chunk) and remaining > 0
        await send({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            return


async def _respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_plain(
    send: Send, status: int, text: str, head: bool, extra: Headers | None = None
) -> None:
    body = f"{text}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await _respond(send, status, headers, b"" if head else body)
