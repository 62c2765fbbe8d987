"""Formula benchmark: typeset images per second, cold and cached, beside MathML conversion.

The formulas are bench/formulas.txt (120, shaped like real math and ML posts'). Each
step runs here, one after the other, the formulas in a fresh temp folder:

    python3 bench/formula_images.py

- latex2mathml: its bare `convert` of every formula (the named baseline).
- mathml: gazette's conversion (TeX rewritten, MathML reshaped, sanitized).
- images cold: each formula typeset to SVG (ziamath) and rasterized at 2x (resvg), a
  PNG with its baseline; shown as a ratio to the baseline's time per formula.
- images cached: the same formulas found in the output folder (the PNG's header read).
- digest: one issue of 10 math-heavy posts (12 formulas in each excerpt), rendered with
  digest.math = "tex" and then "image" (cold, then cached).
- rasterizers: resvg beside cairosvg on the same SVGs, when cairosvg is installed.
"""

from __future__ import annotations

import json
import sys

# Run as a script, this file's folder comes first on the path, where its own name would
# hide the standard library's math module from everything imported below.
if sys.path and sys.path[0] == __file__.rpartition("/")[0]:
    del sys.path[0]

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import resvg_py
from latex2mathml.converter import convert
from ziamath.zmath import Math

from gazette.catalog import iter_posts, update_catalog
from gazette.catalog.math import MathConverter
from gazette.config import Settings, load_settings
from gazette.digest.render import render_issue
from gazette.math_images import MathImages, _on_background, _presentation, image_path
from gazette.models import Post
from gazette.store import Store

try:
    import cairosvg
except ImportError:  # optional: the rasterizer resvg was measured against
    cairosvg = None

CORPUS = Path(__file__).resolve().parent / "formulas.txt"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def formulas() -> list[tuple[str, bool]]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if line.strip() and not line.startswith("#")]
    return [(line.removeprefix("$$ "), line.startswith("$$ ")) for line in found]


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    corpus = formulas()
    n = len(corpus)
    baseline = timed(lambda: [_bare(tex, display) for tex, display in corpus])
    converter = MathConverter()
    ours = timed(lambda: [converter.convert(tex, display) for tex, display in corpus])
    converted = [converter.convert(tex, display) for tex, display in corpus]
    ok = [f for f in converted if f.mathml]
    print(f"{n} formulas, {n - len(ok)} not converted ({(n - len(ok)) / n:.1%})")
    _line("latex2mathml (baseline)", n, baseline, baseline)
    _line("mathml (gazette)", n, ours, baseline)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        cold = MathImages(root, "https://example.org/")
        seconds = timed(lambda: [cold.image(f.tex, f.display, f.mathml) for f in ok])
        failed = len(cold.failed)
        for tex, why in cold.failed.items():
            print(f"  not drawn: {tex} ({why})")
        _line(f"images cold ({failed} not drawn)", len(ok), seconds, baseline / n * len(ok))
        size = sum(len(data) for data in cold.fresh.values())
        for path, data in cold.fresh.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
        print(
            f"  {len(cold.fresh)} PNGs, {size / 1024:.0f} KiB, {size / len(cold.fresh):.0f} B each"
        )
        cached = MathImages(root, "https://example.org/")
        seconds = timed(lambda: [cached.image(f.tex, f.display, f.mathml) for f in ok])
        _line("images cached (from the folder)", len(ok), seconds, baseline / n * len(ok))
        drawn = [f for f in ok if image_path(f.tex, f.display) in cold.fresh]
    _rasterizers(drawn[:40])
    _digest(corpus)


def _bare(tex: str, display: bool) -> str:
    try:
        return str(convert(tex, display="block" if display else "inline"))
    except Exception:
        return ""


def _line(name: str, count: int, seconds: float, baseline: float) -> None:
    per = seconds / count * 1000
    rate = count / seconds if seconds else float("inf")
    print(f"{name:38} {per:8.3f} ms each {rate:10.0f}/s  x{seconds / baseline:8.1f} baseline")


def _rasterizers(formulas: list) -> None:
    """Where a cold image's time goes: ziamath's layout, then each rasterizer."""
    start = time.perf_counter()
    svgs = [_on_background(Math(_presentation(f.mathml, f.display), size=16).svg())[0]
            for f in formulas]  # fmt: skip
    layout = time.perf_counter() - start
    resvg = timed(lambda: [resvg_py.svg_to_bytes(svg_string=svg, zoom=2) for svg in svgs])
    each = len(svgs) / 1000
    print(f"{len(svgs)} formulas: ziamath layout {layout / each:.1f} ms each, "
          f"resvg at 2x {resvg / each:.2f} ms each", end="")  # fmt: skip
    if cairosvg is None:
        print(" (cairosvg not installed)")
        return
    cairo = timed(lambda: [cairosvg.svg2png(bytestring=svg.encode(), scale=2) for svg in svgs])
    print(f", cairosvg at 2x {cairo / each:.2f} ms each (x{cairo / resvg:.1f} resvg)")


def _digest(corpus: list[tuple[str, bool]]) -> None:
    inline = [tex for tex, display in corpus if not display]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "posts").mkdir()
        for number in range(10):
            chosen = inline[number * 12 : number * 12 + 12] or inline[:12]
            summary = " ".join(f"${tex}$" for tex in chosen)
            (root / "posts" / f"p{number}.md").write_text(
                f"---\ntitle: Post {number}\ndate: 2026-11-{10 + number}T10:00:00+08:00\n"
                f"summary: {json.dumps(summary, ensure_ascii=False)}\n---\n\n{summary}\n",
                encoding="utf-8",
            )
        times = {}
        drawn = 0
        for mode in ("tex", "image", "image "):
            settings = _settings(root, mode.strip())
            store = Store(settings.database_url)
            update_catalog(settings, store, NOW)
            with store.transaction() as connection:
                posts = list(iter_posts(settings, connection, NOW))
            rendered = None

            def render(settings: Settings = settings, posts: list[Post] = posts) -> None:
                nonlocal rendered
                rendered = render_issue(settings, 1, "p", "Subject", posts, NOW)

            times[mode] = timed(render)
            images = rendered.images if rendered is not None else None
            if images is not None:
                drawn = max(drawn, len(images.fresh))
                for path, data in images.fresh.items():
                    (root / "public" / path).parent.mkdir(parents=True, exist_ok=True)
                    (root / "public" / path).write_bytes(data)
            store.close()
        print(f"digest of 10 posts, {drawn} formula images: tex {times['tex'] * 1000:.0f} ms, "
              f"image cold {times['image'] * 1000:.0f} ms, "
              f"image cached {times['image '] * 1000:.0f} ms")  # fmt: skip


def _settings(root: Path, mode: str):  # type: ignore[no-untyped-def]
    config = root / "gazette.toml"
    config.write_text(
        '[site]\ntitle = "Bench"\nurl = "https://bench.example.org/"\n'
        '[[sources]]\npath = "posts/*.md"\nformat = "markdown"\n'
        '[feeds]\noutput = "public"\n'
        f'[digest]\nmath = "{mode}"\nunsubscribe_url = "https://bench.example.org/u"\n'
        "max_age = 100000\n"
        '[state]\ndatabase = "sqlite:///state.db"\n',
        encoding="utf-8",
    )
    return load_settings(config)


if __name__ == "__main__":
    sys.exit(main())
