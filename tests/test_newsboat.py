"""A real feed reader: newsboat fetches what `build` wrote over loopback HTTP."""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .feedkit import build, catalog_json, example_settings, output

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(
    NEWSBOAT is None and not os.environ.get("CI"),
    reason="newsboat is not installed (.ci/run installs it)",
)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log on the test's stderr."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """The example's feeds on a loopback HTTP server, and the catalog's titles."""
    settings = example_settings(tmp_path)
    build(settings)
    titles = [str(post["title"]) for post in catalog_json(settings)]
    handler = functools.partial(_QuietHandler, directory=str(output(settings)))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", titles
    server.shutdown()
    server.server_close()


def read_with_newsboat(url: str, home: Path) -> list[str]:
    """Titles newsboat stored after reloading ``url`` into a fresh cache."""
    home.mkdir()
    (home / "urls").write_text(url + "\n", encoding="utf-8")
    (home / "config").write_text("", encoding="utf-8")
    assert NEWSBOAT is not None, "CI must install newsboat"
    subprocess.run(
        [NEWSBOAT, "-u", "urls", "-c", "cache.db", "-C", "config", "-x", "reload"],
        cwd=home,
        env={**os.environ, "HOME": str(home), "LANG": "C.UTF-8"},
        check=True,
        timeout=120,
        capture_output=True,
    )
    with sqlite3.connect(home / "cache.db") as cache:
        rows = cache.execute("SELECT title FROM rss_item WHERE feedurl = ?", (url,))
        return [row[0] for row in rows]


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml", "tags/shu-xue/atom.xml"])
def test_newsboat_reads_every_title(
    served: tuple[str, list[str]], tmp_path: Path, name: str
) -> None:
    """Every post title, Chinese included, comes back from newsboat's cache exactly."""
    base, titles = served
    read = read_with_newsboat(base + name, tmp_path / name.replace("/", "_"))
    if name.startswith("tags/"):
        assert read
        assert set(read) < set(titles)
    else:
        assert sorted(read) == sorted(titles)
        assert any("梯度下降" in title for title in read)


TMUX = shutil.which("tmux")


@pytest.mark.skipif(TMUX is None and not os.environ.get("CI"), reason="tmux is not installed")
def test_newsboat_shows_each_formula_once_as_its_tex(tmp_path: Path) -> None:
    """With feeds.math = "image", newsboat's article view (read off a real terminal in
    tmux) shows a formula once, as its TeX, not flattened MathML glued to the TeX."""
    settings = example_settings(tmp_path, math="image", entries="1")
    build(settings)
    handler = functools.partial(_QuietHandler, directory=str(output(settings)))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = tmp_path / "home"
    home.mkdir()
    (home / "urls").write_text(f"http://127.0.0.1:{server.server_address[1]}/atom.xml\n")
    (home / "config").write_text("", encoding="utf-8")
    session = f"gazette-{os.getpid()}"
    tmux = [str(TMUX), "-L", session]
    try:
        subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "60",
                        f"cd {home} && HOME={home} LANG=C.UTF-8 {NEWSBOAT} -r -u urls "
                        "-c cache.db -C config"], check=True)  # fmt: skip
        screen = _screen_after(tmux, session, ["Enter", "Enter"], "Links:")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
        server.shutdown()
        server.server_close()
    formula = r"D_{\mathrm{KL}}(p\Vert q)=\sum_{x} p(x)\log\frac{p(x)}{q(x)}"
    assert f"[image 1: {formula}]" in screen
    assert screen.count(formula) == 1
    assert "[image 2: p]" in screen


def _screen_after(tmux: list[str], session: str, keys: list[str], wanted: str) -> str:
    """The terminal's text once each key was pressed (after the list showed) and
    ``wanted`` appears."""
    screen = ""
    for key in [*keys, ""]:
        for _ in range(100):
            screen = subprocess.run([*tmux, "capture-pane", "-t", session, "-p", "-J"],
                                    capture_output=True, text=True, check=True).stdout  # fmt: skip
            if (key and "unread" in screen) or wanted in screen:
                break
            time.sleep(0.1)
        if key:
            subprocess.run([*tmux, "send-keys", "-t", session, key], check=True)
            time.sleep(0.5)
    return screen
