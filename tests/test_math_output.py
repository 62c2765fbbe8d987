"""Formula images in the output folder are kept and removed like every other file."""

from __future__ import annotations

from pathlib import Path

from .conftest import ROOT
from .digest.conftest import run_cli
from .feedkit import build, example_settings, output, snapshot


def _images(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {k: v for k, v in snapshot(folder).items() if k.startswith("math/")}


def test_feed_images_are_written_once_kept_then_removed(tmp_path: Path) -> None:
    """feeds.math = "image" writes one PNG per distinct formula, each referenced by the
    feeds; a second build rewrites none; with feeds.math = "mathml" they are removed."""
    settings = example_settings(tmp_path, math="image")
    report = build(settings)
    images = _images(output(settings))
    assert len(images) >= 50
    assert sorted(p for p in report.written if p.startswith("math/")) == sorted(images)
    atom = (output(settings) / "atom.xml").read_text(encoding="utf-8")
    assert "<math" not in atom
    assert all(f"{settings.feeds_url}{path}" in atom for path in images)
    again = build(settings)
    assert not again.written
    assert _images(output(settings)) == images
    gone = build(example_settings(tmp_path, math="mathml"))
    assert sorted(p for p in gone.removed if p.startswith("math/")) == sorted(images)
    assert not (output(settings) / "math").exists()


def test_images_of_a_sent_issue_stay_while_its_page_refers_to_them(tmp_path: Path) -> None:
    """A sent digest's images are in the output folder before it goes out, and a later
    build keeps them because the issue's archive page shows them."""
    env = {
        "GAZETTE_STATE_DATABASE": f"sqlite:///{tmp_path / 'state.db'}",
        "GAZETTE_FEEDS_OUTPUT": str(tmp_path / "public"),
        "GAZETTE_MAIL_OUTBOX": str(tmp_path / "outbox"),
        "GAZETTE_DIGEST_FIRST_ISSUE_POSTS": "12",
        "GAZETTE_DIGEST_MAX_POSTS": "12",
        "GAZETTE_SECRET_KEY": "k" * 40,
    }
    config = ROOT / "config" / "gazette.toml"
    assert run_cli(config, "subscribers", "add", "reader@example.org", env=env).returncode == 0
    sent = run_cli(config, "digest", "--send", env=env)
    assert sent.returncode == 0, sent.stderr
    (mail,) = (tmp_path / "outbox").rglob("*.html")
    images = _images(tmp_path / "public")
    assert len(images) >= 3
    assert all(path in mail.read_text(encoding="utf-8") for path in images)
    built = run_cli(config, "build", env=env)
    assert built.returncode == 0, built.stderr
    assert _images(tmp_path / "public") == images
    page = (tmp_path / "public" / "issues" / "1" / "index.html").read_text(encoding="utf-8")
    assert all(path in page for path in images)
