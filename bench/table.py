"""One table from the files `run.py --json` writes, single-account and org-mode runs side by
side: every tool's requests, requests per workload, wall time and peak RSS, with the request
floor computed for that run (bench/floor.py) beside ours.

    .venv/bin/python bench/table.py full.json x10.json org.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tabulate import tabulate

HEADERS = ["run", "tool", "workloads", "requests", "req/workload", "floor", "ours/floor",
           "wall s", "peak RSS MB", "throttles", "exit"]


def _workloads(scale: dict[str, Any]) -> int:
    return int(scale["functions"]) + int(scale["services"]) + int(scale["eks_clusters"])


def rows(document: dict[str, Any]) -> list[list[Any]]:
    """The rows of one run: a row per tool, the floor beside ours."""
    scale = document["scale"]
    accounts = int(document.get("org") or 1)
    workloads = _workloads(scale) * accounts
    least = sum(document["floor"].values()) if document.get("floor") else None
    if accounts > 1:
        run = f"org: {accounts} accounts x {_workloads(scale):,}"
        results = [document["result"]]
        throttles: Any = sum(document.get("throttles", {}).values())
    else:
        run = f"1 account, {len(scale['regions'])} regions"
        results = document["results"]
        throttles = "-"
    table = []
    for result in results:
        ours = result["tool"] == "ours"
        table.append([
            run, result["tool"], f"{workloads:,}", f"{result['requests']:,}",
            f"{result['requests'] / workloads:.3f}",
            f"{least:,}" if ours and least else "-",
            f"{result['requests'] / least:.3f}" if ours and least else "-",
            f"{result['wall_s']:.0f}", f"{result['peak_rss_mb']:.0f}",
            throttles if ours else "-", result["exit_code"]])
    return table


def render(documents: list[dict[str, Any]]) -> str:
    latencies = sorted({f"{d['latency_ms']:g}" for d in documents})
    return (tabulate([row for document in documents for row in rows(document)],
                     headers=HEADERS, tablefmt="github", disable_numparse=True)
            + f"\n\nlatency {'/'.join(latencies)} ms a request; throttles: requests the server "
              "answered with a throttling error (org mode enforces AWS's rates)")


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit(__doc__)
    print(render([json.loads(Path(path).read_text()) for path in argv]))


if __name__ == "__main__":
    main(sys.argv[1:])
