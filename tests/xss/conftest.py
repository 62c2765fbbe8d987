"""The corpus built once per session: every channel's sites, built, mailed and judged by
one worker process per core (see worker.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..conftest import ROOT
from .corpus import vectors
from .sites import CHANNELS, shards


@dataclass
class ChannelRun:
    """What one channel's sites gave: crashes, findings, and the vectors each kind of
    output showed."""

    channel: str
    folders: list[Path] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    findings: list[tuple[str, str, str]] = field(default_factory=list)
    seen: dict[str, set[str]] = field(default_factory=dict)


def _plans(base: Path, workers: int) -> list[list[dict[str, object]]]:
    corpus = list(vectors())
    entries = [
        {"folder": str(base / f"{channel}-{number}"), "channel": channel, "vectors": shard}
        for channel in CHANNELS
        for number, shard in enumerate(shards(corpus))
    ]
    return [entries[start::workers] for start in range(workers)]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAZETTE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    return env


@pytest.fixture(scope="session")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ChannelRun]:
    """Every channel's sites built and judged, by channel."""
    base = tmp_path_factory.mktemp("xss")
    plans = _plans(base / "sites", max(2, os.cpu_count() or 2))
    workers = []
    for number, plan in enumerate(plans):
        plan_path, out_path = base / f"plan-{number}.json", base / f"out-{number}.json"
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        command = [sys.executable, "-m", "tests.xss.worker", str(plan_path), str(out_path)]
        workers.append((plan, out_path, subprocess.Popen(
            command, cwd=ROOT, env=_environment(), stderr=subprocess.PIPE, text=True
        )))  # fmt: skip
    runs = {channel: ChannelRun(channel) for channel in CHANNELS}
    for plan, out_path, process in workers:
        _, errors = process.communicate(timeout=1800)
        if process.returncode != 0 or not out_path.exists():
            for entry in plan:
                runs[str(entry["channel"])].crashes.append(
                    f"{entry['folder']}: the worker died ({process.returncode}): {errors[-500:]}"
                )
            continue
        for result in json.loads(out_path.read_text(encoding="utf-8")):
            run = runs[result["channel"]]
            run.folders.append(Path(result["folder"]))
            run.crashes.extend(result["crashes"])
            run.findings.extend(tuple(f) for f in result["findings"])
            for kind, ids in result["seen"].items():
                run.seen.setdefault(kind, set()).update(ids)
    return runs
