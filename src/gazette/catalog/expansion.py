"""What expanding a generator's syntax in one post works on (gazette.catalog.generator_syntax):
the post, how to find another post's URL, the findings; and the pieces the generators share."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gazette.catalog.generators import GeneratorSite
from gazette.models import Finding


@dataclass(frozen=True, slots=True)
class Linked:
    """What a post links to: another post's (or page's) URL and title."""

    url: str
    title: str = ""

    @property
    def path(self) -> str:
        """The URL without its scheme and host, as the generators' relative links are."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


LinkedOf = Callable[[Path], Linked | None]  # a file's URL and title (None: not a post)


@dataclass
class Expansion:
    """One post's body while its generator syntax is expanded, and what was noticed."""

    body: str
    site: GeneratorSite
    path: Path  # the post's file
    shown: str  # the post's path as messages show it
    body_line: int  # the file's line where the body starts
    linked_of: LinkedOf
    front_matter: Callable[[Path], dict[str, Any]]  # a file's front matter ({}: none)
    findings: list[Finding] = field(default_factory=list)
    repeats: dict[str, list[int]] = field(default_factory=dict)  # key: [finding, times]
    _line_at: tuple[int, int] = (0, 0)  # an offset and its line, to count on from
    _files: dict[Path, list[Path]] = field(default_factory=dict)

    def files_under(self, folder: Path) -> list[Path]:
        """Every file under ``folder``, sorted (listed once per post)."""
        if folder not in self._files:
            found: list[Path] = []
            for parent, folders, names in os.walk(folder):
                folders[:] = [name for name in folders if not _skipped(name)]
                found.extend(Path(parent) / name for name in names)
            self._files[folder] = sorted(found)
        return self._files[folder]

    def where(self, offset: int) -> str:
        """``path:line`` of the body's ``offset`` (offsets mostly come in order)."""
        last, line = self._line_at if offset >= self._line_at[0] else (0, 0)
        line += self.body.count("\n", last, offset)
        self._line_at = (offset, line)
        return f"{self.shown}:{self.body_line + line}"

    def note(self, offset: int, message: str, key: str = "") -> None:
        """A finding at the body's ``offset``; with a ``key``, one per post, counted."""
        if key in self.repeats:
            self.repeats[key][1] += 1
            return
        if key:
            self.repeats[key] = [len(self.findings), 1]
        self.findings.append(Finding("warning", message, self.where(offset)))

    def noted(self) -> list[Finding]:
        """The findings, each saying how often its tag came back in the post."""
        found = list(self.findings)
        for index, times in self.repeats.values():
            if times > 1:
                message = f"{found[index].message} ({times} times in this post)"
                found[index] = replace(found[index], message=message)
        return found


def _skipped(folder: str) -> bool:
    """Folders that hold no post: hidden ones (.git), a built site, installed packages."""
    return folder.startswith(".") or folder in ("_site", "node_modules", "vendor")


_LINKED: dict[tuple[str, int, int, str], Linked | None] = {}


def cached(linked_of: LinkedOf) -> LinkedOf:
    """``linked_of``, reading each version of a file once per process."""

    def linked(path: Path) -> Linked | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        # a partial's repr names its site
        key = (str(path), stat.st_mtime_ns, stat.st_size, repr(linked_of))
        if key not in _LINKED:
            if len(_LINKED) > 100_000:
                _LINKED.clear()
            _LINKED[key] = linked_of(path)
        return _LINKED[key]

    return linked


# --- what several generators share -----------------------------------------------------


def code_block(code: str, language: str, before: str) -> str:
    """Fenced Markdown code that shows ``code`` as it is, in ``language``; ``before`` is
    the text already written, so the fence starts a line of its own."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    language = re.sub(r"[^\w+#.-]", "", language)
    start = "" if not before or before.endswith("\n") else "\n"
    code = code.strip("\n")
    return f"{start}{fence}{language}\n{code}\n{fence}\n"


def last_written(chunks: list[str]) -> str:
    """The last of the chunks written so far that holds any text."""
    return next((chunk for chunk in reversed(chunks) if chunk), "")


def block_html(html: str, text: str, start: int, end: int) -> str:
    """``html`` standing where ``text[start:end]`` was: when that was a line of its own,
    a blank line follows, so Markdown after it is not read as part of the HTML block."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    alone = not text[line_start:start].strip() and not text[end:line_end].strip()
    following = text[line_end + 1 :].split("\n", 1)[0]
    return f"{html}\n" if alone and following.strip() else html


def find_file(folder: Path, names: list[str]) -> Path | None:
    """The first of ``names`` (paths under ``folder``) that is a file inside it."""
    for name in names:
        candidate = folder / name
        if candidate.is_file() and (found := candidate.resolve()).is_relative_to(real(folder)):
            return found
    return None


@lru_cache(maxsize=256)
def real(folder: Path) -> Path:
    """The folder's real path (a site's folders, resolved once per process)."""
    return folder.resolve()
