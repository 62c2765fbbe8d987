"""Shared fixtures: a site folder in tmp_path with its own config and state database."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gazette.catalog import update_catalog
from gazette.config import Settings, load_settings
from gazette.store import Store

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

SITE = """\
[site]
title = "Test Site"
url = "https://test.example.org/"
language = "zh-CN"
timezone = "Asia/Shanghai"

[state]
database = "sqlite:///state/gazette.db"
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No GAZETTE_* variable of the caller leaks into a test."""
    for name in list(os.environ):
        if name.startswith("GAZETTE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def site(tmp_path: Path) -> Callable[..., Settings]:
    """Writes a config with the given [[sources]] TOML (and extra TOML) and loads it."""

    def make(sources: str, extra: str = "") -> Settings:
        config = tmp_path / "gazette.toml"
        config.write_text(
            SITE + textwrap.dedent(sources) + textwrap.dedent(extra), encoding="utf-8"
        )
        return load_settings(config)

    return make


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """Writes a file under the site folder, creating folders as needed."""

    def make(relative: str, content: str | bytes) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        return path

    return make


def sync(settings: Settings, now: datetime = NOW) -> Store:
    """Syncs the catalog of ``settings`` and returns its store."""
    store = Store(settings.database_url)
    update_catalog(settings, store, now)
    return store
