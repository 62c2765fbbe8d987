"""Chinese read as pinyin words, in a process of its own.

pypinyin's phrase data takes ~50 MB and ~0.4 s to load, and reading 10,000 titles another
1.7 s. The catalog reads the titles it slugs in one short-lived ``python -m
gazette.pinyin`` (texts as JSON lines on stdin, their readings as one JSON list on stdout
at the end), so the data never stays in the catalog's process, nor in the render workers
it starts afterwards. A sync starts that process as soon as it finds a new file and offers
it each new file's titles as it parses them: the data loads and the titles are read on
the other core while the sync goes on reading.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import TextIO


def readings(texts: list[str]) -> list[str]:
    """Each text with its Han characters as pinyin syllables, read phrase by phrase."""
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - its phrase data takes ~0.4 s to load

    return [" ".join(lazy_pinyin(text)) for text in texts]


def readings_elsewhere(texts: list[str]) -> list[str]:
    """``readings`` in a process of its own; in this one when that process cannot run."""
    reader = Reader()
    reader.offer(texts)
    found = reader.collect()
    return [found[text] for text in texts]


class Reader:
    """Reads the texts offered to it in a process of its own, while its caller goes on."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._offered: list[str] = []
        self._failed = False  # the process could not start or went away: read here

    def start(self) -> None:
        """Starts the process, which loads pypinyin's data before any text is offered."""
        if self._process is not None or self._failed:
            return
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "gazette.pinyin"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
            )
        except OSError:
            self._failed = True

    def offer(self, texts: Iterable[str]) -> None:
        for text in texts:
            self._offered.append(text)
            self.start()
            if self._process is not None and self._process.stdin is not None:
                try:
                    self._process.stdin.write(json.dumps(text) + "\n")
                except OSError:  # it ended: what it has not read is read here
                    self._failed = True
                    self.close()

    def collect(self) -> dict[str, str]:
        """The reading of each text offered so far (read here when the process failed);
        the process ends."""
        offered, self._offered = self._offered, []
        if not offered:
            self.close()
            return {}
        read = self._finish()
        if read is None or len(read) != len(offered):
            read = readings(offered)
        return dict(zip(offered, read, strict=True))

    def close(self) -> None:
        """Ends the process without waiting for its readings."""
        if self._process is not None:
            self._process.kill()
            self._process.communicate()
            self._process = None

    def _finish(self) -> list[str] | None:
        process, self._process = self._process, None
        if process is None:
            return None
        try:
            out, _ = process.communicate()
            read = json.loads(out) if process.returncode == 0 else None
        except (OSError, ValueError):
            return None
        return read if isinstance(read, list) else None


def serve(lines: TextIO, out: TextIO) -> None:
    """Reads each text (a JSON line) as it comes, and writes every reading, as one JSON
    list, when the input ends. A thread takes the lines in, so the sender never waits
    while pypinyin's data loads."""
    arrived: queue.SimpleQueue[str | None] = queue.SimpleQueue()

    def take_in() -> None:
        try:
            for line in lines:
                arrived.put(json.loads(line))
        finally:
            arrived.put(None)

    threading.Thread(target=take_in, daemon=True).start()
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - loads while the texts arrive

    found: list[str] = []
    while (text := arrived.get()) is not None:
        found.append(" ".join(lazy_pinyin(text)))
    json.dump(found, out)


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
