"""Formulas in mail as typeset images: drawn once, served from the output folder, shown by
a real browser at a phone-to-desktop width, with the TeX as alt and in the text part."""

from __future__ import annotations

import functools
import html
import logging
import re
import struct
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from gazette.catalog import iter_posts
from gazette.config import Settings
from gazette.digest.render import render_issue

from ..conftest import NOW, ROOT, SEEDS, sync
from ..test_index_browser import QUIET_FLAGS
from ..web.test_pages_browser import CHROMEDRIVER, CHROMIUM
from .conftest import run_cli
from .test_browser import PNG_SIGNATURE

SEEDS_CONFIG = """\
[site]
title = "Seeds"
url = "https://seeds.example.org/"
language = "zh-CN"
timezone = "Asia/Shanghai"

[[sources]]
path = "{seeds}/*.txt"
format = "listing"
year = 2020

[feeds]
output = "public"

[digest]
unsubscribe_url = "https://seeds.example.org/unsubscribe"
max_age = 100000

[mail]
from = "Seeds <digest@seeds.example.org>"
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, as the feeds' output folder would be."""
    folder = tmp_path / "public"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _example_config(tmp_path: Path) -> Path:
    return ROOT / "config" / "gazette.toml"


def _seeds_config(tmp_path: Path) -> Path:
    if not SEEDS.is_dir():
        pytest.skip("the seed pages are not beside the project")
    config = tmp_path / "seeds.toml"
    config.write_text(SEEDS_CONFIG.format(seeds=SEEDS), encoding="utf-8")
    return config


@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="chromium or chromedriver is not installed (.ci/run installs them)",
)
@pytest.mark.parametrize("make_config", [_example_config, _seeds_config], ids=["example", "seeds"])
def test_digest_in_chromium_shows_each_formula_as_its_image(
    tmp_path: Path, served: tuple[Path, str], make_config: Callable[[Path], Path]
) -> None:
    """The digest preview, rendered by headless Chromium at 600 px (PNG kept in the test's
    temp folder), loads every formula image from the output folder's URL; each file is a
    PNG twice the size shown, of a sensible size, its alt the TeX the text part shows."""
    folder, url = served
    env = {
        "GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}",
        "GAZETTE_FEEDS_OUTPUT": str(folder),
        "GAZETTE_FEEDS_BASE_URL": url,
        "GAZETTE_DIGEST_FIRST_ISSUE_POSTS": "12",
        "GAZETTE_DIGEST_MAX_POSTS": "12",
    }
    config = make_config(tmp_path)
    assert run_cli(config, "subscribers", "add", "reader@example.org", env=env).returncode == 0
    preview = run_cli(config, "digest", "--preview", str(tmp_path / "preview"), env=env)
    assert preview.returncode == 0, preview.stderr
    (page,) = (tmp_path / "preview").glob("*.html")
    text = page.with_suffix(".txt").read_text(encoding="utf-8")
    images = lxml.html.fromstring(page.read_text(encoding="utf-8")).xpath("//img[@alt]")
    formulas = [img for img in images if img.get("src", "").startswith(url + "math/")]
    assert len(formulas) >= 3
    for img in formulas:
        data = (folder / img.get("src")[len(url) :]).read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (2 * int(img.get("width")), 2 * int(img.get("height")))
        assert 8 <= width <= 2400, (img.get("alt"), width)
        assert 16 <= height <= 800, (img.get("alt"), height)
        assert f"${img.get('alt')}$" in text
    loaded = _chromium(page, tmp_path)
    assert len(loaded) == len(images)
    assert all(natural > 0 for natural in loaded)
    shot = (tmp_path / "digest.png").read_bytes()
    assert shot.startswith(PNG_SIGNATURE)
    assert struct.unpack(">I", shot[16:20])[0] == 600


def _chromium(page: Path, tmp_path: Path) -> list[int]:
    """Opens ``page`` at 600 px, saves a screenshot as digest.png; each image's natural width."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*QUIET_FLAGS, "--window-size=600,1600", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        browser.get(page.as_uri())
        browser.execute_script("return Promise.all([...document.images].map(i => i.decode()))")
        loaded: list[int] = browser.execute_script(
            "return [...document.images].map(i => i.naturalWidth)"
        )
        browser.set_window_size(600, 1600)
        browser.save_screenshot(str(tmp_path / "digest.png"))
    finally:
        browser.quit()
    return loaded


def test_a_formula_that_cannot_be_drawn_is_its_tex_and_reported(
    site: Callable[..., Settings],
    write: Callable[[str, str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A formula the typesetter has no glyph for (CJK text) stays in the mail as its TeX
    and is logged as a warning; the one beside it is an image."""
    body = "Loss $L = \\text{常数}$ and $x^2$ here."
    write("posts/p.md", f"---\ntitle: Math\ndate: 2026-11-20T10:00:00+08:00\n---\n\n{body}\n")
    settings = site('[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n')
    with sync(settings).transaction() as connection:
        posts = list(iter_posts(settings, connection, NOW))
    with caplog.at_level(logging.WARNING, logger="gazette"):
        issue = render_issue(settings, 1, "2026-11-21T08", "Subject", posts, NOW)
    assert re.search(r'<code class="tex"[^>]*>L = \\text\{常数\}</code>', html.unescape(issue.html))
    assert re.search(r'<img class="math"[^>]* alt="x\^2"', issue.html)
    assert any("L = \\text{常数}" in r.getMessage() for r in caplog.records)
    assert issue.images is not None
    assert list(issue.images.failed) == ["L = \\text{常数}"]
