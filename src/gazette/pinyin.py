"""Chinese read as pinyin words, in a module light enough to run in a process of its own.

pypinyin's phrase data takes ~50 MB and ~0.3 s to load. A catalog that slugs many new
titles at once (a first run) reads them in a short-lived process that imports only this
module, so the data never stays in the catalog's process, nor in the render workers it
starts afterwards.
"""

from __future__ import annotations


def readings(texts: list[str]) -> list[str]:
    """Each text with its Han characters as pinyin syllables, read phrase by phrase."""
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - its phrase data takes ~0.3 s to load

    return [" ".join(lazy_pinyin(text)) for text in texts]
