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
from dataclasses import dataclass

from gazette.catalog.sites import source_paths
from gazette.config import Settings, SourceSettings


@dataclass(frozen=True, slots=True)
class Look:
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
