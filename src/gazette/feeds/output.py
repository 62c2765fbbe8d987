"""The output folder: files appear whole or not at all, and unchanged files stay put.

Everything is first written to hidden temporary files beside its target; only when
the whole build has rendered are they renamed into place (a rename is atomic), so a
reader never sees half a feed and a failed build leaves the previous feeds. A file
whose bytes did not change is not touched, so its mtime (and a server's ETag) stays.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gazette.errors import FeedError
from gazette.feeds.tables import FeedFileRecord

LOCK_SUFFIX = ".gazette-build.lock"
TEMP_SUFFIX = ".gazette-tmp"


@dataclass
class OutputFolder:
    root: Path
    previous: dict[str, FeedFileRecord]
    records: dict[str, FeedFileRecord] = field(default_factory=dict)
    staged: dict[str, Path] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    def keep_if_current(self, path: str, key: str) -> bool:
        """Keeps ``path`` (and says True) when the last build wrote it from the same input
        and it is untouched since."""
        record = self.previous.get(path)
        if record is None or record.input_key != key:
            return False
        try:
            stat = (self.root / path).stat()
        except FileNotFoundError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != (record.size, record.mtime_ns):
            return False
        self.records[path] = record
        self.kept.append(path)
        return True

    def stage(self, path: str, data: bytes, key: str) -> None:
        """Queue ``data`` for ``path``; a file that already holds these bytes is kept."""
        target = self.root / path
        if _same_bytes(target, data):
            self.records[path] = _record(target, key)
            self.kept.append(path)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}{TEMP_SUFFIX}")
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        self.staged[path] = temporary
        self.records[path] = FeedFileRecord(key, len(data), 0)

    def commit(self) -> tuple[list[str], list[str]]:
        """Renames staged files into place and removes files no longer built."""
        written = sorted(self.staged)
        for path in written:
            target = self.root / path
            os.replace(self.staged[path], target)
            self.records[path] = _record(target, self.records[path].input_key)
        self.staged.clear()
        removed = sorted(set(self.previous) - set(self.records))
        for path in removed:
            with contextlib.suppress(FileNotFoundError):
                (self.root / path).unlink()
            _remove_empty_parents(self.root, self.root / path)
        return written, removed

    def discard(self) -> None:
        for temporary in self.staged.values():
            temporary.unlink(missing_ok=True)
        self.staged.clear()


def _same_bytes(target: Path, data: bytes) -> bool:
    try:
        return target.stat().st_size == len(data) and target.read_bytes() == data
    except FileNotFoundError:
        return False


def _record(target: Path, key: str) -> FeedFileRecord:
    stat = target.stat()
    return FeedFileRecord(key, stat.st_size, stat.st_mtime_ns)


def _remove_empty_parents(root: Path, path: Path) -> None:
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def lock_path(root: Path) -> Path:
    """The build's lock file: beside the output folder, not in it, so a deploy by rsync
    or to a bucket sees no change when nothing changed."""
    resolved = root.resolve()
    return resolved.parent / f".{resolved.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def locked_output(root: Path, wait: bool = False) -> Iterator[Path]:
    """One build at a time per output folder; leftovers of a killed build are cleared.

    Another build holding the folder is an error, or with ``wait`` is waited for.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = lock_path(root).open("w")
    except OSError as error:
        raise FeedError(f"{root}: cannot write the output folder: {error.strerror}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FeedError(
                f"{root}: another build is writing this folder; wait for it to finish"
            ) from None
        for leftover in root.rglob(f".*{TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)
        yield root
