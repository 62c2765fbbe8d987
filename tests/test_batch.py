"""Rendering many posts across worker processes gives what rendering them here gives."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gazette.catalog import batch, incremental, iter_posts, update_catalog
from gazette.catalog import sync as sync_module
from gazette.config import Settings
from gazette.errors import SourceError
from gazette.store import Store

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


MARKDOWN_SOURCE = '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n'


def test_posts_past_the_held_bodies_render_as_the_rest(
    site: Callable[..., Settings],
    write: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sync that holds only one body (the others read again, a chunk at a time, each file
    once) makes the catalog that holding them all makes: listing entries and posts alike."""
    write("listing.txt", "\n".join(ENTRY.format(day=1 + n, n=n) for n in range(6)))
    for n in range(4):
        post = f"---\ntitle: 帖子{n}\ndate: 2024-05-0{n + 1}\n---\n\n$z^{n}$ 正文{n}。\n"
        write(f"posts/p{n}.md", post)
    settings = site(SOURCE + MARKDOWN_SOURCE)
    held = _catalog(settings)
    for leftover in (tmp_path / "state").iterdir():
        leftover.unlink()
    monkeypatch.setattr(sync_module, "HELD_BODIES", 1)
    monkeypatch.setattr(batch, "CHUNK", 4)
    reads: list[str] = []
    real_read = incremental._read

    def counted(settings: Settings, key: tuple[int, str], *args: Any) -> Any:
        reads.append(key[1])
        return real_read(settings, key, *args)

    monkeypatch.setattr(incremental, "_read", counted)
    again = _catalog(settings)
    assert len(held) == 10
    assert again == held
    listing = [path for path in reads if path.endswith("listing.txt")]
    assert len(listing) == 1 + 1  # read, then once again for the two chunks it spans


def test_a_post_edited_before_its_body_is_read_again_fails_the_sync(
    site: Callable[..., Settings], write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten between the read and the render of a post whose body was not held
    stops the sync with an error naming it, and nothing is stored."""
    for n in range(2):
        write(f"posts/p{n}.md", f"---\ntitle: 帖子{n}\ndate: 2024-05-0{n + 1}\n---\n\n正文{n}。\n")
    settings = site(MARKDOWN_SOURCE)
    monkeypatch.setattr(sync_module, "HELD_BODIES", 0)
    planned = sync_module._plan

    def plan_then_edit(*args: Any) -> Any:
        found = planned(*args)
        write("posts/p1.md", "---\ntitle: 帖子1\ndate: 2024-05-02\n---\n\n改过的正文。\n")
        return found

    monkeypatch.setattr(sync_module, "_plan", plan_then_edit)
    store = Store(settings.database_url)
    with pytest.raises(SourceError, match=r"p1\.md.*changed while it was being synced"):
        update_catalog(settings, store, NOW)
    with store.transaction() as connection:
        assert list(iter_posts(settings, connection, NOW)) == []


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_a_killed_build_leaves_no_render_worker(
    site: Callable[..., Settings], write: Callable[..., Path]
) -> None:
    """A build killed while its workers render (SIGKILL: nothing of it runs after) takes
    them with it, instead of leaving them waiting for work for good."""
    write("listing.txt", "\n".join(ENTRY.format(day=1 + n % 28, n=n) for n in range(3000)))
    settings = site(SOURCE)
    build = subprocess.Popen(
        [sys.executable, "-m", "gazette", "--config", str(settings.config_path), "build"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and build.poll() is None and time.monotonic() < deadline:
        workers = {child for child in _children(build.pid) if _is_worker(child)}
        time.sleep(0.05)
    assert len(workers) >= 2, "the build ended before its workers were seen"
    build.kill()
    build.wait()
    deadline = time.monotonic() + 20
    while any(_running(worker) for worker in workers):
        assert time.monotonic() < deadline, "a render worker outlived its build"
        time.sleep(0.1)


def _running(pid: int) -> bool:
    """Whether the process is there and not a zombie (an exited child not yet reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
