"""Every vector through every channel: no output of the build or the digest holds
anything a browser or feed reader would run, and every output shows every vector."""

from __future__ import annotations

from collections import Counter

import pytest

from .conftest import ChannelRun
from .corpus import vectors
from .sites import CHANNELS

FEED_KINDS = ("feed.xml", "atom.xml", "feed.json")
SHOWN = 30  # findings quoted in a failure message; the rest are counted
# Series come from front matter only: feed sources give their posts none.
KINDS = {
    channel: (
        *FEED_KINDS,
        *(f"tags/{name}" for name in FEED_KINDS),
        *((f"series/{name}" for name in FEED_KINDS) if channel.startswith("markdown") else ()),
        "archive",
        "index.html",
        "digest.html",
        "digest.eml",
    )
    for channel in CHANNELS
}
CASES = [
    pytest.param(channel, kind, id=f"{channel}-{kind}")
    for channel, kinds in KINDS.items()
    for kind in kinds
]


def _kind(output: str) -> str:
    parts = output.split("/")
    if parts[0] == "outbox":
        return "digest." + output.rsplit(".", 1)[1]
    if parts[1] in ("tags", "series"):
        return f"{parts[1]}/{parts[-1]}"
    return "archive" if parts[1] == "archive" else parts[-1]


def _category(problem: str) -> str:
    """A problem without its details: what kind of construct, in which field."""
    field, _, rest = problem.rpartition(": <")
    tag = rest.split(" ", 1)[0].split(">", 1)[0]
    ending = problem.rsplit("> ", 1)[-1] if "> " in problem else problem
    return f"{field + ': ' if field else ''}<{tag}> {ending}"[:120]


def report(run: ChannelRun, kind: str, findings: list[tuple[str, str, str]]) -> str:
    """The first findings in full (vector, channel, file, problem), then counts by kind."""
    lines = [f"{len(findings)} findings in {run.channel} {kind}:"]
    lines += [f"  {vid} | {run.channel} | {out} | {what}" for vid, out, what in findings[:SHOWN]]
    counts = Counter(_category(what) for _, _, what in findings)
    lines.append("by category:")
    lines += [f"  {count:5d}  {category}" for category, count in counts.most_common(20)]
    return "\n".join(lines)


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_build_and_digest_finish(corpus_runs: dict[str, ChannelRun], channel: str) -> None:
    """`gazette build` and `gazette digest --send` finish on every site of the channel."""
    run = corpus_runs[channel]
    assert run.crashes == [], "\n".join(run.crashes[:SHOWN])


@pytest.mark.parametrize(("channel", "kind"), CASES)
def test_output_runs_nothing(corpus_runs: dict[str, ChannelRun], channel: str, kind: str) -> None:
    """No file of this kind holds an executable element, handler, style, script URL or
    formula marker for any vector of the channel."""
    run = corpus_runs[channel]
    findings = sorted({f for f in run.findings if _kind(f[1]) == kind})
    assert findings == [], report(run, kind, findings)


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_every_output_shows_every_vector(
    corpus_runs: dict[str, ChannelRun], channel: str
) -> None:
    """Each kind of output (feeds, tag and series feeds, archive, index, digest) has a post
    for every vector, so the judge saw them all."""
    run = corpus_runs[channel]
    expected = {vid for vid, _ in vectors()}
    missing = {
        kind: sorted(expected - run.seen.get(kind, set())) for kind in KINDS[channel]
    }
    missing = {kind: ids for kind, ids in missing.items() if ids}
    assert missing == {}, "\n".join(
        f"{kind}: {len(ids)} missing, e.g. {ids[:5]}" for kind, ids in missing.items()
    )
