"""Helpers for the feed tests: building a site, reading what it wrote, the Atom grammar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from gazette.catalog import iter_posts, post_as_json
from gazette.config import Settings, load_settings
from gazette.feeds import BuildReport, build_feeds
from gazette.feeds import build as feeds_build
from gazette.feeds import workers as feeds_workers
from gazette.store import Store

from .conftest import NOW, ROOT, sync

ATOM = "{http://www.w3.org/2005/Atom}"
XHTML = "{http://www.w3.org/1999/xhtml}"
MATHML = "{http://www.w3.org/1998/Math/MathML}"
RELAXNG = "{http://relaxng.org/ns/structure/1.0}"


def example_settings(tmp_path: Path, **overrides: str) -> Settings:
    """The bundled example's config, with state and output moved into ``tmp_path``."""
    environ = {
        "GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path}/state.db",
        "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public"),
    }
    environ.update({f"GAZETTE_FEEDS_{key.upper()}": value for key, value in overrides.items()})
    return load_settings(ROOT / "config" / "gazette.toml", environ=environ)


def build(settings: Settings, now: datetime = NOW) -> BuildReport:
    """Syncs the catalog and builds the feeds, as `gazette build` does."""
    store = sync(settings, now)
    try:
        return build_feeds(settings, store, now)
    finally:
        store.close()


def catalog_json(settings: Settings) -> list[dict[str, object]]:
    """The visible posts as `posts --json` prints them, newest first."""
    store = Store(settings.database_url)
    with store.transaction() as connection:
        posts = [post_as_json(post) for post in iter_posts(settings, connection, NOW)]
    store.close()
    return posts


def output(settings: Settings) -> Path:
    return settings.resolve(settings.feeds.output)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every visible file under ``folder``: its bytes and mtime."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


@dataclass
class WorkerStarts:
    """What the builds gave archive-page workers: the pages of each start, and the pages a
    build rendered itself after a worker failed (the same bytes, so equal output alone
    would not show that the workers read the database)."""

    started: list[int] = field(default_factory=list)
    fell_back: list[object] = field(default_factory=list)


def watch_workers(monkeypatch: pytest.MonkeyPatch) -> WorkerStarts:
    """From here on, builds give archive pages to workers from two pages on, noted."""
    starts = WorkerStarts()
    rendered_elsewhere = feeds_workers.rendered_elsewhere

    def counted(settings: Settings, jobs: list[object], here: Callable[[object], bytes]) -> object:
        starts.started.append(len(jobs))

        def counted_here(job: object) -> bytes:
            starts.fell_back.append(job)
            return here(job)

        return rendered_elsewhere(settings, jobs, counted_here)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds_workers, "PARALLEL_PAGES", 2)
    monkeypatch.setattr(feeds_build, "rendered_elsewhere", counted)
    return starts


@cache
def atom_schema(with_mathml: bool) -> etree.RelaxNG:
    """RFC 4287's grammar for lxml. Its informative grammar admits only XHTML inside
    xhtml content; ``with_mathml`` also admits MathML there, as the W3C validator does."""
    grammar = etree.parse(str(ROOT / "tests" / "data" / "atom.rng"))
    if with_mathml:
        any_xhtml = grammar.find(f"{RELAXNG}define[@name='anyXHTML']/{RELAXNG}element")
        assert any_xhtml is not None, "atom.rng defines anyXHTML"
        names = etree.Element(f"{RELAXNG}choice")
        names.append(any_xhtml[0])  # <nsName ns="...xhtml"/>, moved into the choice
        etree.SubElement(names, f"{RELAXNG}nsName", ns=MATHML.strip("{}"))
        any_xhtml.insert(0, names)
    return etree.RelaxNG(grammar)
