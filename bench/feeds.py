"""Feeds benchmark: full build, no-change rebuild and one new post, with peak memory.

The catalog benchmark's synthetic corpus (Chinese prose, distinct formulas, series) is
synced once per size (not timed); then each step runs in a fresh process, so its peak
RSS is its own:

    python3 bench/feeds.py                  # 1k, 10k and 100k posts
    python3 bench/feeds.py --sizes 1000     # just one size

- full: an empty output folder and no build records: every file rendered and written;
- no-change: the same catalog again;
- new post: one post added to the catalog (synced first, untimed), then a build.

The named baseline is bare feedgen writing the same entries: every post once as Atom in
pages of `archive_size` (as the archive does), plus the newest 20 as RSS and Atom, with
HTML content and no workarounds, posts loaded from the same database. Every step is
shown as a ratio to it. Targets: a no-change rebuild writes no file and costs under a
tenth of a full build; a new post on 100k posts rewrites a bounded number of files.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import parse_sizes, write_corpus

PRELUDE = r"""
import json, resource, sys, time
from datetime import UTC, datetime
from gazette.catalog import update_catalog
from gazette.config import load_settings
from gazette.store import Store
settings = load_settings(sys.argv[1])
store = Store(settings.database_url)
now = datetime.now(UTC)

def finish(start, **figures):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak, **figures}))
"""

SYNC = (
    PRELUDE
    + r"""
start = time.perf_counter()
update_catalog(settings, store, now)
finish(start)
"""
)

BUILD = (
    PRELUDE
    + r"""
from gazette.feeds import build_feeds
start = time.perf_counter()
report = build_feeds(settings, store, now)
finish(start, written=len(report.written), kept=report.kept)
"""
)

BARE_FEEDGEN = (
    PRELUDE
    + r"""
from pathlib import Path
from feedgen.feed import FeedGenerator
from gazette.catalog import iter_posts

def generator(title, posts):
    feed = FeedGenerator()
    feed.id(settings.site.url + title)
    feed.title(title)
    feed.link(href=settings.site.url, rel="alternate")
    feed.description(title)
    for post in posts:
        entry = feed.add_entry(order="append")
        entry.id(post.id)
        entry.title(post.title)
        entry.link(href=post.url)
        entry.published(post.published)
        entry.updated(post.updated)
        entry.summary(post.summary_text)
        entry.content(post.content_html, type="html")
    return feed

out = Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()
with store.transaction() as connection:
    posts = list(iter_posts(settings, connection, now))
newest = generator("main", posts[:20])
(out / "feed.xml").write_bytes(newest.rss_str(pretty=True))
(out / "atom.xml").write_bytes(newest.atom_str(pretty=True))
posts.reverse()
size = settings.feeds.archive_size
for number, first in enumerate(range(0, len(posts), size), 1):
    page = generator(f"page {number}", posts[first:first + size])
    (out / f"{number}.xml").write_bytes(page.atom_str(pretty=True))
finish(start, written=2 + (len(posts) + size - 1) // size)
"""
)


def child(script: str, *args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def add_post(folder: Path) -> None:
    """One more entry at the end of the newest listing page (the corpus is ascending)."""
    page = sorted(folder.glob("page*.txt"))[-1]
    text = page.read_text(encoding="utf-8")
    page.write_text(
        text + "\n30 Dec\n\n一篇新文章:关于基准测试\n\n新的内容,其中$x_{new}^2$。\n\n"
        "点击阅读全文...\n",
        encoding="utf-8",
    )


def measure(posts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_corpus(folder, posts)
        config = str(folder / "gazette.toml")
        synced = child(SYNC, config)
        bare = child(BARE_FEEDGEN, config, str(folder / "bare"))
        full = child(BUILD, config)
        again = child(BUILD, config)
        add_post(folder)
        child(SYNC, config)
        added = child(BUILD, config)
    base = bare["seconds"]
    print(f"{posts:>7} posts (catalog sync, untimed: {synced['seconds']:.1f} s)")
    print(
        f"  bare feedgen   {base:7.2f} s  {bare['peak_mb']:6.0f} MB  {bare['written']:6.0f} files"
    )
    for name, figures in (("full build", full), ("no change", again), ("new post", added)):
        print(
            f"  {name:<14} {figures['seconds']:7.2f} s  {figures['peak_mb']:6.0f} MB  "
            f"{figures['written']:6.0f} written  {figures['kept']:6.0f} kept  "
            f"{figures['seconds'] / base:5.2f}x bare feedgen"
        )
    print(f"  no change / full build: {again['seconds'] / full['seconds']:.3f} (target < 0.1)")


def main() -> None:
    for posts in parse_sizes(__doc__):
        measure(posts)


if __name__ == "__main__":
    main()
