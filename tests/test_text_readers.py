"""Feeds with feeds.math = "image" as text readers and feedparser show them: each
formula once, as its TeX (the image's alt), never flattened MathML."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest

from .feedkit import build, example_settings, output

SFEED = shutil.which("sfeed")
LYNX = shutil.which("lynx")
FORMULA = r"D_{\mathrm{KL}}(p\Vert q)=\sum_{x} p(x)\log\frac{p(x)}{q(x)}"


@pytest.fixture
def image_feeds(tmp_path: Path) -> Path:
    """The example built with formulas as images, newest post alone in the feeds."""
    settings = example_settings(tmp_path, math="image", entries="1")
    build(settings)
    return output(settings)


def _sfeed_content(field: str) -> str:
    """sfeed's content field unescaped (it writes \\n, \\t and \\\\ for those characters)."""
    out, escaped = [], False
    for character in field:
        if escaped:
            out.append({"n": "\n", "t": "\t"}.get(character, character))
            escaped = False
        elif character == "\\":
            escaped = True
        else:
            out.append(character)
    return "".join(out)


@pytest.mark.skipif(
    (SFEED is None or LYNX is None) and not os.environ.get("CI"),
    reason="sfeed or lynx is not installed (.ci/run installs them)",
)
def test_sfeed_through_lynx_shows_each_formula_once(image_feeds: Path) -> None:
    """sfeed reads the Atom feed; its entry, dumped by lynx as sfeed_content does, shows
    the formula's TeX once and no MathML."""
    assert SFEED is not None
    assert LYNX is not None
    atom = (image_feeds / "atom.xml").read_bytes()
    line = subprocess.run([SFEED], input=atom, capture_output=True, check=True).stdout
    content = _sfeed_content(line.decode().split("\t")[3])
    shown = subprocess.run(
        [LYNX, "-dump", "-stdin", "-assume_charset=utf-8", "-display_charset=utf-8", "-nolist"],
        input=content, capture_output=True, text=True, check=True,
        env={**os.environ, "HOME": str(image_feeds)},
    ).stdout  # fmt: skip
    assert shown.count(FORMULA) == 1
    assert "<mi" not in shown
    assert "MATH" not in shown


@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_feedparser_keeps_each_image_with_its_tex(image_feeds: Path, name: str) -> None:
    """feedparser's sanitized content keeps every formula as an <img> whose alt is its
    TeX, and no <math>."""
    entry = feedparser.parse(str(image_feeds / name)).entries[0]
    content = entry.content[0].value if "content" in entry else entry.summary
    assert "<math" not in content
    assert f'alt="{FORMULA}"' in content
    assert content.count("<img") == 20
