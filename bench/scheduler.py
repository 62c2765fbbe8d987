"""Scheduler benchmark: what the build job costs on each tick, with peak memory.

`gazette run` calls the build job every `feeds.schedule` (15 minutes by default), and
nearly every tick finds nothing changed. The job first compares a fingerprint of what a
build is made of (gazette.freshness: the source files' names, sizes and mtimes, the
settings, templates, sent issues and output files) with the last build's, and does
nothing more when they match. The named baseline is what a tick would cost without that
check: a catalog sync plus a feed build that finds every file current. Each step runs in
a fresh process:

    python3 bench/scheduler.py                  # 1k, 10k and 100k posts
    python3 bench/scheduler.py --sizes 1000

- idle tick: build_if_changed on an unchanged site (the common case);
- sync + build: the baseline, on the same unchanged site;
- new-post tick: one post appended to the newest listing page, then build_if_changed.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalog import parse_sizes, write_corpus
from feeds import BUILD, PRELUDE, SYNC, add_post, child

TICK = (
    PRELUDE
    + r"""
from gazette.cycle import build_if_changed
start = time.perf_counter()
outcome = build_if_changed(settings, store, now)
report = outcome.report
finish(start, written=len(report.written) if report else 0, reason=outcome.reason)
"""
)

SYNC_AND_BUILD = (
    PRELUDE
    + r"""
from gazette.feeds import build_feeds
start = time.perf_counter()
update_catalog(settings, store, now)
report = build_feeds(settings, store, now)
finish(start, written=len(report.written))
"""
)


def measure(posts: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_corpus(folder, posts)
        config = str(folder / "gazette.toml")
        child(SYNC, config)
        child(BUILD, config)
        child(TICK, config)  # the first tick builds ("no build yet"): untimed
        idle = child(TICK, config)
        baseline = child(SYNC_AND_BUILD, config)
        add_post(folder)
        added = child(TICK, config)
    base = baseline["seconds"]
    print(f"{posts:>7} posts")
    print(f"  sync + build   {base:8.3f} s  {baseline['peak_mb']:6.0f} MB  (baseline)")
    for name, figures in (("idle tick", idle), ("new-post tick", added)):
        print(
            f"  {name:<14} {figures['seconds']:8.3f} s  {figures['peak_mb']:6.0f} MB  "
            f"{figures['written']:4.0f} written  {figures['seconds'] / base:6.3f}x baseline  "
            f"({figures['reason']})"
        )


def main() -> None:
    for posts in parse_sizes(__doc__):
        measure(posts)


if __name__ == "__main__":
    main()
