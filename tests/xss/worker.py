"""Builds and judges a list of sites in one process: ``python -m tests.xss.worker PLAN OUT``.

The session fixture starts one worker per core, so the corpus is built and judged in
parallel and gazette is imported once per worker instead of once per command.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from .outputs import site_findings
from .sites import make_site


def work(plan: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each planned site built, mailed and judged; a crash is reported, never raised."""
    results = []
    for entry in plan:
        folder, channel = Path(str(entry["folder"])), str(entry["channel"])
        vectors = [(str(vid), str(vector)) for vid, vector in entry["vectors"]]  # type: ignore[attr-defined]
        result: dict[str, object] = {"channel": channel, "folder": str(folder)}
        try:
            site = make_site(folder, channel, vectors)
            findings, seen = site_findings(site)
            result.update(crashes=site.crashes, findings=findings,
                          seen={kind: sorted(ids) for kind, ids in seen.items()})  # fmt: skip
        except Exception:
            lines = traceback.format_exc().strip().splitlines()
            result.update(crashes=[f"the test's own build of {folder} failed: {lines[-1]}"],
                          findings=[], seen={})  # fmt: skip
        results.append(result)
    return results


def main() -> None:
    plan_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    out_path.write_text(json.dumps(work(plan)), encoding="utf-8")


if __name__ == "__main__":
    main()
