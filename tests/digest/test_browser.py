"""The example issue's HTML in a real browser: headless Chromium renders it to a PNG."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ..conftest import ROOT
from ..test_index_browser import QUIET_FLAGS
from .conftest import run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium is not installed (.ci/run installs it)",
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def screenshot(html: Path, png: Path, profile: Path) -> bytes:
    assert CHROMIUM is not None, "CI must install chromium"
    subprocess.run(
        [CHROMIUM, *QUIET_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
         "--window-size=600,1400", "--hide-scrollbars", html.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    return png.read_bytes()


def test_chromium_renders_the_example_issue_to_a_png(tmp_path: Path) -> None:
    """The preview's HTML renders to a 600 px wide PNG, kept in the test's temp folder,
    with far more drawn on it than an empty page of the same size."""
    env = {"GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}"}
    config = ROOT / "config" / "gazette.toml"
    assert run_cli(config, "subscribers", "add", "reader@example.org", env=env).returncode == 0
    preview = run_cli(config, "digest", "--preview", str(tmp_path / "preview"), env=env)
    assert preview.returncode == 0, preview.stderr
    (html,) = (tmp_path / "preview").glob("*.html")
    data = screenshot(html, tmp_path / "example-issue.png", tmp_path / "profile")
    assert data.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (600, 1400)
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    empty = screenshot(blank, tmp_path / "blank.png", tmp_path / "profile-blank")
    assert len(data) > 5 * len(empty)
