"""Catalog benchmark: posts per second and peak memory, cold and warm.

A synthetic corpus like the seed pages (Chinese prose, mostly distinct formulas,
figures, series, the odd <eos>) is written as listing pages; each run is a fresh
process (so its peak RSS is its own) doing what `gazette posts` does before printing.

    python3 bench/catalog.py                 # 1k, 10k and 100k posts
    python3 bench/catalog.py --sizes 1000    # just one size

Cold: an empty state database. Warm: the same corpus again (nothing changed), and
again with 1% of the posts edited. The named baseline is latex2mathml alone, in one
process, converting each of the corpus's distinct formulas once; every run is shown as
a ratio to it. Targets: cold <= 1.33x the baseline, warm 10k < 2 s, warm 100k < 20 s,
peak memory (main process plus its largest worker) < 1 GB at 100k.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ENTRIES_PER_PAGE = 200
PHRASES = (
    "我们先回顾一下基本的设定", "这个结论并不难理解", "但是细想之下其实有问题",
    "本文就来讨论这个问题", "从实验结果来看效果还算不错", "读者可以自行验证一下",
    "这便是最值得思考的地方", "换句话说", "也就是说", "不难发现",
    "根据前面的推导", "笔者认为这是一个相当漂亮的结果", "所以我们需要更仔细地分析",
    "The same idea works for Transformer models", "see the paper for details",
)  # fmt: skip
SYMBOLS = ("x", "y", "z", "W", "h", "\\theta", "\\alpha", "\\beta", "\\mu", "\\sigma")


def formula(rng: random.Random) -> str:
    a, b = rng.choice(SYMBOLS), rng.choice(SYMBOLS)
    i, j = rng.randint(1, 999), rng.randint(1, 99)
    shapes = (
        f"\\boldsymbol{{{a}}}_{{{i}}} + \\frac{{{b}^{{{j}}}}}{{{i}}}",
        f"\\sum_{{k=1}}^{{{i}}} {a}_k^{{{j}}} \\le {b}",
        f"\\mathbb{{E}}_{{{a}\\sim p}}\\left[{b}_{{{i}}}\\right] = {j}",
        f"\\Vert {a}_{{{i}}} - {b}_{{{j}}}\\Vert^2",
        f"\\log p({a}_{{{i}}}|{b}_{{<{j}}})",
    )
    return rng.choice(shapes)


def paragraph(rng: random.Random, formulas: int) -> str:
    parts = []
    for _ in range(rng.randint(3, 6)):
        text = rng.choice(PHRASES)
        if formulas > 0:
            text += f",其中${formula(rng)}$"
            formulas -= 1
        parts.append(text)
    return ",".join(parts) + "。"


def entry(rng: random.Random, number: int, month: int, day: int) -> str:
    lines = [f"{day} {'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()[month - 1]}", ""]
    if number % 7:
        series = (
            f"漫谈系列{number % 50}({'一二三四五六七八九十'[number % 10]}):"
            if number % 5 == 0
            else ""
        )
        lines += [f"{series}第{number}篇文章:关于{rng.choice(SYMBOLS).strip(chr(92))}的讨论", ""]
    lines += [paragraph(rng, 3), ""]
    if number % 3 == 0:
        lines += [f"图{number}的示意图", "", f"图{number}的示意图", ""]
    lines += [paragraph(rng, 2), ""]
    lines += ["\\begin{equation}" + formula(rng) + "\\end{equation}", ""]
    if number % 11 == 0:
        lines += ["解码直到出现<eos>标记为止。", ""]
    lines += [paragraph(rng, 2), "", "点击阅读全文...", ""]
    return "\n".join(lines)


def write_corpus(folder: Path, posts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pages = (posts + ENTRIES_PER_PAGE - 1) // ENTRIES_PER_PAGE
    number = 0
    for page in range(pages):
        chunks = []
        for index in range(min(ENTRIES_PER_PAGE, posts - number)):
            day_of_page = index * 360 // ENTRIES_PER_PAGE
            chunks.append(
                entry(
                    rng,
                    number,
                    day_of_page // 30 + 1,
                    day_of_page % 30 + 1 - (day_of_page // 30 == 1 and day_of_page % 30 > 27) * 3,
                )
            )
            number += 1
        (folder / f"page{page:05d}.txt").write_text("\n".join(chunks), encoding="utf-8")
    (folder / "gazette.toml").write_text(
        '[site]\ntitle = "Bench"\nurl = "https://bench.example.org/"\ntimezone = "Asia/Shanghai"\n'
        '[[sources]]\npath = "page*.txt"\nformat = "listing"\nyear = 2001\n'
        '[state]\ndatabase = "sqlite:///state.db"\n',
        encoding="utf-8",
    )


def edit_one_percent(folder: Path) -> None:
    for page in sorted(folder.glob("page*.txt"))[::2]:
        text = page.read_text(encoding="utf-8")
        page.write_text(
            text.replace("这个结论并不难理解", "这个结论并不太难理解", 1), encoding="utf-8"
        )


CHILD = r"""
import json, resource, sys, time
from datetime import UTC, datetime
from gazette.catalog import update_catalog
from gazette.config import load_settings
from gazette.store import Store

settings = load_settings(sys.argv[1])
start = time.perf_counter()
report = update_catalog(settings, Store(settings.database_url), datetime.now(UTC))
elapsed = time.perf_counter() - start
# The main process plus its largest worker (rendering spreads over processes).
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak, "rendered": report.rendered,
                  "posts": report.added + report.changed + report.unchanged}))
"""


BASELINE = r"""
import json, re, sys, time
from pathlib import Path
from latex2mathml.converter import convert
found = set()
for page in Path(sys.argv[1]).glob("page*.txt"):
    text = page.read_text(encoding="utf-8")
    found.update(re.findall(r"\\begin\{equation\}.*?\\end\{equation\}|\$[^$]+\$", text))
start = time.perf_counter()
for formula in found:
    convert(formula.strip("$").removeprefix("\\begin{equation}").removesuffix("\\end{equation}"))
print(json.dumps({"formulas": len(found), "seconds": time.perf_counter() - start}))
"""


def baseline(folder: Path) -> dict[str, float]:
    """latex2mathml alone, in one process, converting each distinct formula once."""
    out = subprocess.run(
        [sys.executable, "-c", BASELINE, str(folder)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def run(folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder / "gazette.toml")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def parse_sizes(doc: str | None) -> list[int]:
    """The sizes to measure, from --sizes (default 1k, 10k and 100k); ``doc`` is the
    benchmark's docstring, whose first line describes it in --help."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    sizes: list[int] = parser.parse_args().sizes
    return sizes


def main() -> None:
    sizes = parse_sizes(__doc__)
    print(f"catalog benchmark, {datetime.now(UTC):%Y-%m-%d}, python {sys.version.split()[0]}")
    columns = ("posts", "run", "seconds", "posts/s", "peak MB", "rendered", "vs baseline")
    print(" ".join(f"{name:>11}" for name in columns))
    for size in sizes:
        with tempfile.TemporaryDirectory() as temp:
            folder = Path(temp)
            write_corpus(folder, size)
            base = baseline(folder)
            print(
                f"{size:>11} {'baseline':>11} {base['seconds']:>11.2f}   "
                f"(latex2mathml alone, {base['formulas']} distinct formulas, one process)"
            )
            for label in ("cold", "warm", "warm+1%"):
                if label == "warm+1%":
                    edit_one_percent(folder)
                result = run(folder)
                cells = (
                    f"{result['posts']}",
                    label,
                    f"{result['seconds']:.2f}",
                    f"{result['posts'] / result['seconds']:.0f}",
                    f"{result['peak_mb']:.0f}",
                    f"{result['rendered']}",
                    f"{result['seconds'] / base['seconds']:.2f}x",
                )
                print(" ".join(f"{cell:>11}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
