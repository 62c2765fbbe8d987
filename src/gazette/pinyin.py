"""Chinese read as pinyin words, in a process of its own.

pypinyin's phrase data takes ~50 MB and ~0.3 s to load. The catalog reads the titles it
slugs in one short-lived ``python -m gazette.pinyin`` (texts as JSON on stdin, readings
as JSON on stdout), so the data never stays in the catalog's process, nor in the render
workers it starts afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys


def readings(texts: list[str]) -> list[str]:
    """Each text with its Han characters as pinyin syllables, read phrase by phrase."""
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - its phrase data takes ~0.3 s to load

    return [" ".join(lazy_pinyin(text)) for text in texts]


def readings_elsewhere(texts: list[str]) -> list[str]:
    """``readings`` in a process of its own; in this one when that process cannot run."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gazette.pinyin"],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
        )
        read: list[str] = json.loads(done.stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return readings(texts)
    return read if len(read) == len(texts) else readings(texts)


if __name__ == "__main__":
    json.dump(readings(json.load(sys.stdin)), sys.stdout)
