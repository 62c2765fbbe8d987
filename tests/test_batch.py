"""Rendering many posts across worker processes gives what rendering them here gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gazette.catalog import batch, iter_posts
from gazette.config import Settings

from .conftest import NOW, sync

ENTRY = (
    "{day} Mar\n\n第{n}篇\n\n正文$x_{{{n}}} + \\frac{{{n}}}{{2}}$与$y^{{{n}}}$。\n\n"
    "点击阅读全文...\n"
)
SOURCE = '[[sources]]\npath = "listing.txt"\nformat = "listing"\nyear = 2024\n'


def _catalog(settings: Settings) -> list[tuple[str, str, str]]:
    store = sync(settings)
    with store.transaction() as connection:
        return [
            (p.id, p.content_html, p.summary_text) for p in iter_posts(settings, connection, NOW)
        ]


def test_parallel_rendering_matches_serial(
    site: Callable[..., Settings],
    write: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Posts rendered by worker processes, in small chunks, equal those rendered in-process."""
    write("listing.txt", "\n".join(ENTRY.format(day=1 + n % 28, n=n) for n in range(12)))
    settings = site(SOURCE)
    serial = _catalog(settings)
    for leftover in (tmp_path / "state").iterdir():
        leftover.unlink()
    monkeypatch.setattr(batch, "PARALLEL_MINIMUM", 2)
    monkeypatch.setattr(batch, "CHUNK", 5)
    parallel = _catalog(settings)
    assert len(serial) == 12
    assert parallel == serial
    assert all("<math" in html for _, html, _ in parallel)
