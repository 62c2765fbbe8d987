"""The source files as found at one moment: which paths each source's glob matches, and
each file's size and mtime.

A build looks at its files twice: the freshness check fingerprints them, then the sync
finds which changed. One survey serves both, so each file is globbed and looked at once.
A file that changes after the survey looks unchanged to this build only if its mtime
and size stay the same, which the sync's racy-file rule (content compared when the
mtime is this close to the look) already covers; otherwise the next build reads it.
"""

from __future__ import annotations

import os
import stat
import time
from typing import NamedTuple

from gazette.catalog.sites import source_paths
from gazette.config import Settings, SourceSettings

# A file whose mtime is this close to when it was looked at may change again within the
# same mtime tick (whole seconds, or two on FAT) without its size or mtime showing it: it
# is compared by its bytes as well.
RACY_SECONDS = 2.0


class Look(NamedTuple):  # a tuple: a build makes one per file
    """A file as found now."""

    size: int
    mtime_ns: int
    checked: float
    regular: bool = True  # a file, not a folder or a pipe


def look_at(path: str) -> Look | None:
    """How the file at ``path`` looks now; None when it cannot be looked at."""
    checked = time.time()
    try:
        found = os.stat(path)
    except OSError:
        return None
    return Look(found.st_size, found.st_mtime_ns, checked, stat.S_ISREG(found.st_mode))


def is_racy(look: Look, checked: float | None = None) -> bool:
    """Whether the file's mtime is within RACY_SECONDS of ``checked`` (by default, of when
    ``look`` was taken)."""
    return look.mtime_ns / 1e9 >= (look.checked if checked is None else checked) - RACY_SECONDS


def settled_look(path: str, look: Look) -> Look | None:
    """The file's look now, if its size and mtime are still those of ``look`` and are no
    longer racy (a later write would show in them); None otherwise. Its bytes now are the
    ones it had when ``look`` was taken only if they still hash the same."""
    if is_racy(look, time.time()):
        return None  # too soon to tell
    now = look_at(path)
    if now is None or (now.size, now.mtime_ns) != (look.size, look.mtime_ns) or is_racy(now):
        return None
    return now


class Survey:
    """Each source's paths and each file's look, taken the first time they are asked for.

    A source is named by its number in the config (from 1): its paths do not depend on
    what the sync fills in (its language, the generator found for its folder).
    """

    def __init__(self) -> None:
        self._paths: dict[int, list[str]] = {}
        self._looks: dict[str, Look | None] = {}

    def paths(self, settings: Settings, number: int, source: SourceSettings) -> list[str]:
        if number not in self._paths:
            self._paths[number] = source_paths(settings, source)
        return self._paths[number]

    def look(self, path: str) -> Look | None:
        if path not in self._looks:
            self._looks[path] = look_at(path)
        return self._looks[path]
