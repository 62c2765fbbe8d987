"""index.html in a real browser: headless Chromium loads it and finds the feeds."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest

from .feedkit import build, example_settings, output

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (.ci/run installs it)",
)
# No background traffic: this machine has no network beyond loopback.
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def test_chromium_renders_the_index_with_its_feeds(tmp_path: Path) -> None:
    """The DOM Chromium builds from index.html has every post and the autodiscovery links."""
    settings = example_settings(tmp_path)
    build(settings)
    index = output(settings) / "index.html"
    assert CHROMIUM is not None, "CI must install chromium"
    dumped = subprocess.run(
        [
            CHROMIUM,
            *QUIET_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            index.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    page = lxml.html.fromstring(dumped)
    feeds = {link.get("type") for link in page.xpath("//head/link[@rel='alternate']")}
    assert feeds == {"application/rss+xml", "application/atom+xml", "application/feed+json"}
    titles = page.xpath("//main/ol/li/a/text()")
    assert len(titles) == 11
    assert any("梯度下降" in title for title in titles)
    assert page.xpath("//title/text()") == [settings.site.title]
