"""Side by side with Hugo and Pelican: one synthetic Markdown blog built by each.

Each post has about 3,000 CJK characters, 6 formulas and 2-3 tags, under YAML front
matter. gazette builds its feeds (`gazette build`: sync, then RSS, Atom and JSON Feed);
Hugo writes its pages and a full-content RSS of 20 items; Pelican writes its pages with
Atom and RSS feeds. Pelican's Markdown reader takes "Key: value" metadata, so its copy of
each post carries the same body under that header. Hugo and Pelican are used when
installed (`apt-get install -y hugo`; Pelican from PyPI into a virtual environment of its
own, found on PATH or through $PELICAN):

    python3 bench/peers.py                         # 1k and 10k posts, 5 runs each
    python3 bench/peers.py --sizes 1000 10000 100000 --runs 3
    PELICAN=/tmp/pelican/bin/pelican python3 bench/peers.py --sizes 1000

Each run, per size: cold (no state, no output), nothing changed, one post edited, one post
added (dated after every other, as a blog gains one), one old post added (dated within the
history: every RFC 5005 archive page after it shifts); every tool builds each step in turn,
in a fresh process. Printed: the median wall
time of the runs, the peak memory of the largest process, and the ratio gazette/peer,
paired run by run (the median of the per-run ratios). Pelican runs with its content cache
on; its cold build starts without the cache.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import PHRASES, formula

STEPS = ("cold", "nothing changed", "one post edited", "one post added", "one old post added")
TAGS = [f"标签{n}" for n in range(40)]
CJK_PER_POST = 3000

# --- the corpus --------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    number: int
    title: str
    date: str  # ISO 8601 with offset
    tags: tuple[str, ...]
    body: str


def make_post(rng: random.Random, number: int, newest: bool = False) -> Post:
    """Post ``number``, dated within 2000-2009 (``newest``: in 2010, after every other)."""
    day = number % 3650
    date = f"{2000 + day // 365:04d}-{day % 365 // 31 + 1:02d}-{day % 31 % 28 + 1:02d}"
    if newest:
        date = f"2010-01-{number % 28 + 1:02d}"
    tags = tuple(rng.sample(TAGS, rng.randint(2, 3)))
    title = f"第{number}篇:关于{rng.choice(PHRASES)[:6]}"
    return Post(number, title, f"{date}T08:00:00+08:00", tags, body(rng))


def body(rng: random.Random) -> str:
    """About CJK_PER_POST characters in paragraphs: five inline formulas, one displayed."""
    paragraphs, length, formulas = [], 0, 0
    while length < CJK_PER_POST:
        sentences = []
        for _ in range(rng.randint(4, 8)):
            sentence = rng.choice(PHRASES[:13]) + rng.choice(PHRASES[:13])
            length += len(sentence)
            if formulas < 5 and rng.random() < 0.2:
                sentence += f"${formula(rng)}$"
                formulas += 1
            sentences.append(sentence)
        paragraphs.append(",".join(sentences) + "。")
    while formulas < 5:
        paragraphs.append(f"由此可得${formula(rng)}$。")
        formulas += 1
    paragraphs.insert(len(paragraphs) // 2, f"$$\n{formula(rng)}\n$$")
    return "\n\n".join(paragraphs) + "\n"


def yaml_file(post: Post) -> str:
    tags = ", ".join(post.tags)
    return f'---\ntitle: "{post.title}"\ndate: {post.date}\ntags: [{tags}]\n---\n\n{post.body}'


def pelican_file(post: Post) -> str:
    date = post.date[:16].replace("T", " ")
    return (
        f"Title: {post.title}\nDate: {date}\nTags: {', '.join(post.tags)}\n"
        f"Slug: post-{post.number:06d}\n\n{post.body}"
    )


# --- the sites ---------------------------------------------------------------------------

GAZETTE_CONFIG = """\
[site]
title = "Bench"
url = "https://bench.example.org/"
language = "zh-CN"
timezone = "Asia/Shanghai"

[[sources]]
path = "posts/*.md"
format = "markdown"

[feeds]
output = "public"

[state]
database = "sqlite:///state.db"
"""

HUGO_CONFIG = """\
baseURL = "https://bench.example.org/"
title = "Bench"
languageCode = "zh-cn"
rssLimit = 20
"""
HUGO_LAYOUTS = {
    "_default/single.html": "<!doctype html><title>{{ .Title }}</title><h1>{{ .Title }}</h1>"
    "{{ .Content }}\n",
    "_default/list.html": "<!doctype html><title>{{ .Title }}</title><ul>{{ range .Pages }}"
    '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>\n',
    # Hugo's own RSS template, with each item's full content as its description.
    "_default/rss.xml": """\
{{- $pages := .Pages -}}{{- if .IsHome -}}{{- $pages = .Site.RegularPages -}}{{- end -}}
<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<rss version="2.0"><channel><title>{{ .Site.Title }}</title><link>{{ .Permalink }}</link>
{{ range first 20 $pages.ByDate.Reverse }}<item><title>{{ .Title }}</title>
<link>{{ .Permalink }}</link><guid>{{ .Permalink }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<description>{{ .Content | html }}</description></item>
{{ end }}</channel></rss>
""",
}

PELICAN_CONFIG = """\
AUTHOR = "Bench"
SITENAME = "Bench"
SITEURL = "https://bench.example.org"
PATH = "content"
TIMEZONE = "Asia/Shanghai"
DEFAULT_LANG = "zh"
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
FEED_MAX_ITEMS = 20
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
"""


@dataclass
class Tool:
    """A builder of the corpus: how to write a post for it, reset it, and build."""

    name: str
    folder: Path
    post_path: Callable[[Post], Path]
    render: Callable[[Post], str]
    command: list[str]
    state: tuple[str, ...]  # what a cold build starts without
    wall: dict[str, list[float]] = field(default_factory=dict)
    peak: dict[str, list[float]] = field(default_factory=dict)

    def write(self, post: Post) -> None:
        path = self.post_path(post)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(post), encoding="utf-8")

    def reset(self) -> None:
        for name in self.state:
            target = self.folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    def build(self, step: str) -> None:
        seconds, peak_mb = timed(self.command, self.folder)
        self.wall.setdefault(step, []).append(seconds)
        self.peak.setdefault(step, []).append(peak_mb)


# Each build runs as on a user's machine: where PYTHONDONTWRITEBYTECODE is set, Python
# would compile every module of an editable install anew at each start.
BUILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], folder: Path) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process of one build."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=BUILD_ENV
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed in {folder}:\n{error}")
    if process.stderr:
        process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def tools(root: Path) -> list[Tool]:
    gazette = shutil.which("gazette") or "gazette"
    found = [
        Tool(
            "gazette",
            root / "gazette",
            lambda p: root / "gazette" / "posts" / f"post-{p.number:06d}.md",
            yaml_file,
            [gazette, "--config", "gazette.toml", "build"],
            ("state.db", "state.db-wal", "state.db-shm", "public"),
        )
    ]
    (root / "gazette").mkdir()
    (root / "gazette" / "gazette.toml").write_text(GAZETTE_CONFIG, encoding="utf-8")
    if shutil.which("hugo"):
        found.append(hugo_tool(root / "hugo"))
    pelican = os.environ.get("PELICAN") or shutil.which("pelican")
    if pelican:
        found.append(pelican_tool(root / "pelican", pelican))
    return found


def hugo_tool(folder: Path) -> Tool:
    folder.mkdir()
    (folder / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (folder / "layouts" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "layouts" / name).write_text(text, encoding="utf-8")
    return Tool(
        "Hugo",
        folder,
        lambda p: folder / "content" / "posts" / f"post-{p.number:06d}.md",
        yaml_file,
        ["hugo", "--quiet"],
        ("public", "resources", ".hugo_build.lock"),
    )


def pelican_tool(folder: Path, pelican: str) -> Tool:
    folder.mkdir()
    (folder / "pelicanconf.py").write_text(PELICAN_CONFIG, encoding="utf-8")
    return Tool(
        "Pelican",
        folder,
        lambda p: folder / "content" / f"post-{p.number:06d}.md",
        pelican_file,
        [pelican, "content", "-s", "pelicanconf.py", "-o", "output", "-q"],
        ("output", "cache"),
    )


# --- the runs ----------------------------------------------------------------------------


def measure(size: int, runs: int, seed: int) -> list[Tool]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="peers-") as temp:
        builders = tools(Path(temp))
        # Only the posts to edit are kept: a process holding the corpus would pass its
        # memory to each build it starts (a forked child counts its parent's pages).
        to_edit = {random.Random(seed + run).randrange(size): run for run in range(runs)}
        edits: dict[int, Post] = {}
        for number in range(size):
            post = make_post(rng, number)
            for builder in builders:
                builder.write(post)
            if number in to_edit:
                edits[to_edit[number]] = post
        count = size
        for run in range(runs):
            edited = edits.get(run) or edits[next(iter(edits))]
            edited = replace(edited, body=edited.body + f"又及{run}。\n")
            added = make_post(rng, count, newest=True)
            old = make_post(rng, count + 1)
            count += 2
            for builder in builders:
                builder.reset()
                builder.build("cold")
                builder.build("nothing changed")
                builder.write(edited)
                builder.build("one post edited")
                builder.write(added)
                builder.build("one post added")
                builder.write(old)
                builder.build("one old post added")
    return builders


def report(size: int, builders: list[Tool]) -> None:
    gazette, peers = builders[0], builders[1:]
    print(f"\n{size} posts, {len(gazette.wall['cold'])} runs (median wall, peak RSS)")
    header = f"  {'step':<19}" + "".join(f"{b.name:>22}" for b in builders)
    header += "".join(f"{'gazette/' + p.name:>18}" for p in peers)
    print(header)
    for step in STEPS:
        cells = [
            f"{statistics.median(b.wall[step]):8.2f} s {max(b.peak[step]):7.0f} MB"
            for b in builders
        ]
        ratios = [paired_ratio(gazette.wall[step], peer.wall[step]) for peer in peers]
        print(
            f"  {step:<19}"
            + "".join(f"{cell:>22}" for cell in cells)
            + "".join(f"{ratio:>17.3f}x" for ratio in ratios)
        )


def paired_ratio(mine: list[float], theirs: list[float]) -> float:
    """The median of the run-by-run ratios."""
    return statistics.median(m / t for m, t in zip(mine, theirs, strict=True))


# What a build that syncs a changed file and writes feeds imports before any work: the
# libraries alone, then with gazette's own modules. A fresh process cannot build faster.
STACK_IMPORTS = "import click, pydantic, sqlalchemy, yaml, markdown_it, lxml.etree, feedgen.feed"
BUILD_IMPORTS = "import gazette.cli, gazette.cycle, gazette.catalog.operations, gazette.feeds.build"


def startup(runs: int) -> None:
    """`gazette --help` and the imports of a build, wall median, against Python's own
    start-up."""
    gazette = shutil.which("gazette") or "gazette"
    python = _interpreter(gazette)
    for label, command in (
        ("python -c pass", [python, "-c", "pass"]),
        ("gazette --help", [gazette, "--help"]),
        ("libraries' imports", [python, "-c", STACK_IMPORTS]),
        ("a build's imports", [python, "-c", BUILD_IMPORTS]),
    ):
        times = [timed(command, Path.cwd())[0] for _ in range(runs)]
        print(f"  {label:<19}{statistics.median(times):8.3f} s")


def _interpreter(script: str) -> str:
    """The Python that runs the ``gazette`` script (its ``#!`` line), which may not be the
    one running this benchmark; this one when the line names no Python."""
    with open(script, "rb") as file:
        first = file.readline().decode().strip()
    named = first[2:].split()[0] if first.startswith("#!") and len(first) > 2 else ""
    return named if Path(named).name.startswith("python") else sys.executable


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    print(f"peers benchmark, python {sys.version.split()[0]}, {os.cpu_count()} cores")
    startup(max(arguments.runs, 5))
    for size in arguments.sizes:
        report(size, measure(size, arguments.runs, arguments.seed))


if __name__ == "__main__":
    main()
