"""Benchmark: the auditor against Cloud Custodian and a naive boto3 script, in one run.

Starts the benchmark moto server (bench/moto_server.py) in this process with a per-request
latency, seeds a large account into it, then runs each tool in its own subprocess against it
(AWS_ENDPOINT_URL), one after the other:
- ours:  `auditor scan --region R ... --format json` (the CLI, so its peak RSS is its own);
- c7n:   `custodian run --dryrun` with bench/c7n-policies.yml (a separate venv: README.md);
- naive: bench/naive.py.
Requests are counted by the server's middleware (retries included); wall time and peak RSS
are measured around the tool by bench/peak_rss.py (the kernel's rusage for that child alone).

    .venv/bin/python bench/run.py                      # full scale, about 15 minutes
    .venv/bin/python bench/run.py --functions 200 --services 40 --eks-clusters 4
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from floor import excess, floor
from moto_server import MotoServer
from seed import Scale, seed
from tabulate import tabulate

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGETS = {"requests vs c7n": 0.1, "wall vs c7n": 0.2, "peak RSS MB": 300.0,
           "requests per workload": 0.25, "requests vs floor": 1.1}


@dataclass
class Result:
    tool: str
    requests: int
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    by_operation: dict[str, int]
    metric_series: int | None = None
    notes: list[str] = field(default_factory=list)

    def top(self, n: int = 6) -> str:
        ranked = sorted(self.by_operation.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{op} {count}" for op, count in ranked)


def _env(server: MotoServer) -> dict[str, str]:
    """This process's environment minus anything that could reach real AWS."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "BOTO_")) and k != "VIRTUAL_ENV"}
    env.update(server.client_env())
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "PYTHONUNBUFFERED": "1"})
    return env


def measure(tool: str, argv: list[str], server: MotoServer, logs: Path) -> Result:
    """Run one tool to completion through bench/peak_rss.py; the server's counters are reset
    first. Wall time is the tool's own, as peak_rss.py measured it around the child."""
    server.reset_counts()
    usage = logs / f"{tool}.usage.json"
    launcher = [sys.executable, "-S", str(BENCH / "peak_rss.py"), str(usage), "--"]
    with (logs / f"{tool}.stdout").open("wb") as out, (logs / f"{tool}.stderr").open("wb") as err:
        subprocess.run(launcher + argv, env=_env(server), stdout=out, stderr=err, cwd=ROOT,
                       check=False)
    measured = json.loads(usage.read_text())
    return Result(tool, server.total(), measured["wall_s"], measured["peak_rss_kib"] / 1024,
                  measured["exit_code"], server.counts())


def run_ours(regions: tuple[str, ...], server: MotoServer, logs: Path) -> Result:
    report = logs / "auditor-report.json"
    exe = Path(sys.executable).with_name("auditor")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "auditor.cli"]
    argv += ["scan", *(f"--region={r}" for r in regions), "--format", "json",
             "--output", str(report), "--quiet"]
    result = measure("ours", argv, server, logs)
    if report.exists():
        document = json.loads(report.read_text())
        stats = document.get("stats", {})
        result.metric_series = stats.get("metric_queries")
        result.notes.append(f"its own count: {stats.get('api_calls')} calls")
        errors: dict[str, int] = {}
        for error in document.get("errors", []):
            key = f"{error['service']}:{error['operation']} {error['code']}"
            errors[key] = errors.get(key, 0) + 1
        if errors:
            result.notes.append("errors: " + ", ".join(f"{k} x{v}" for k, v in errors.items()))
    else:
        result.notes.append(f"no report; see {logs / 'ours.stderr'}")
    return result


def run_c7n(custodian: Path, regions: tuple[str, ...], server: MotoServer, logs: Path
            ) -> Result:
    argv = [str(custodian), "run", "--dryrun", "--cache-period", "0", "-s", str(logs / "c7n"),
            *(f"--region={r}" for r in regions), str(BENCH / "c7n-policies.yml")]
    result = measure("c7n", argv, server, logs)
    result.metric_series = result.by_operation.get("cloudwatch:GetMetricStatistics", 0)
    # c7n logs a failed call and carries on: a metric filter's as a warning.
    marks = (":ERROR", "Traceback", "CW Retrieval error")
    failures = sum(1 for line in (logs / "c7n.stderr").read_text().splitlines()
                   if any(mark in line for mark in marks))
    if failures:
        result.notes.append(f"{failures} error line(s) in c7n.stderr")
    return result


def run_naive(regions: tuple[str, ...], workers: int, server: MotoServer, logs: Path
              ) -> Result:
    argv = [sys.executable, str(BENCH / "naive.py"), *(f"--region={r}" for r in regions),
            "--workers", str(workers)]
    result = measure("naive", argv, server, logs)
    output = (logs / "naive.stdout").read_text()
    result.metric_series = json.loads(output)["series"] if output else None
    return result


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "-"


def render(results: list[Result], workloads: int, least: dict[str, int] | None = None) -> str:
    """The table; `least`: the request floor by operation for what ours read (bench/floor.py),
    printed as a row of its own."""
    rows = [[r.tool, r.requests, f"{r.requests / workloads:.3f}", f"{r.wall_s:.1f}",
             f"{r.peak_rss_mb:.0f}", r.metric_series if r.metric_series is not None else "-",
             r.exit_code] for r in results]
    if least is not None:
        total = sum(least.values())
        rows.append(["floor", total, f"{total / workloads:.3f}", "-", "-", "-", "-"])
    table = tabulate(rows, headers=["tool", "requests", "req/workload", "wall s",
                                    "peak RSS MB", "metric series", "exit"],
                     tablefmt="github")
    lines = [table, ""]
    by_tool = {r.tool: r for r in results}
    ours = by_tool.get("ours")
    if ours:
        for other in ("c7n", "naive"):
            if other in by_tool:
                them = by_tool[other]
                lines.append(f"ours/{other}: requests {_ratio(ours.requests, them.requests)}, "
                             f"wall {_ratio(ours.wall_s, them.wall_s)}, "
                             f"peak RSS {_ratio(ours.peak_rss_mb, them.peak_rss_mb)}")
        lines.append("")
        checks = [("requests per workload", ours.requests / workloads, "<=")]
        if least:
            checks.append(("requests vs floor", ours.requests / sum(least.values()), "<="))
            over = excess(ours.by_operation, least)
            if over:
                ours.notes.append("above the floor: " + ", ".join(over[:8]))
        if "c7n" in by_tool:
            c7n = by_tool["c7n"]
            checks += [("requests vs c7n", ours.requests / c7n.requests, "<="),
                       ("wall vs c7n", ours.wall_s / c7n.wall_s, "<=")]
        checks.append(("peak RSS MB", ours.peak_rss_mb, "<="))
        for name, value, _ in checks:
            verdict = "met" if value <= TARGETS[name] else "MISSED"
            lines.append(f"target {name} <= {TARGETS[name]:g}: {value:.3f} {verdict}")
    lines.append("")
    for r in results:
        lines.append(f"{r.tool}: {r.top()}")
        lines += [f"  {note}" for note in r.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    defaults = Scale()
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=defaults.functions)
    parser.add_argument("--services", type=int, default=defaults.services)
    parser.add_argument("--ecs-clusters", type=int, default=defaults.ecs_clusters)
    parser.add_argument("--eks-clusters", type=int, default=defaults.eks_clusters)
    parser.add_argument("--regions", default=",".join(defaults.regions))
    parser.add_argument("--metric-sample", type=float, default=defaults.metric_sample,
                        help="share of functions and services with 14 days of hourly data")
    parser.add_argument("--vpc-fraction", type=float, default=defaults.vpc_fraction,
                        help="share of functions attached to a VPC")
    parser.add_argument("--latency-ms", type=float, default=30.0,
                        help="added to every measured request (not to seeding)")
    parser.add_argument("--naive-workers", type=int, default=8)
    parser.add_argument("--custodian", type=Path, default=BENCH / ".venv" / "bin" / "custodian")
    parser.add_argument("--tools", default="ours,c7n,naive")
    parser.add_argument("--logs", type=Path, help="keep logs and reports here")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    scale = Scale(args.functions, args.services, args.ecs_clusters, args.eks_clusters,
                  tuple(r for r in args.regions.split(",") if r), args.metric_sample,
                  args.vpc_fraction)
    tools = [t for t in args.tools.split(",") if t]
    if "c7n" in tools and not args.custodian.exists():
        print(f"c7n skipped: {args.custodian} not found. Install it apart from the project:\n"
              "  python3 -m venv bench/.venv && bench/.venv/bin/pip install c7n",
              file=sys.stderr)
        tools.remove("c7n")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="auditor-bench-"))
    logs.mkdir(parents=True, exist_ok=True)

    with MotoServer(latency_s=0.0) as server:
        os.environ.update(_env(server))
        started = time.monotonic()
        seeded = seed(scale, datetime.now(UTC))
        print(f"seeded in {time.monotonic() - started:.0f}s: {len(seeded.functions)} functions, "
              f"{len(seeded.services)} ECS services in {scale.ecs_clusters} clusters, "
              f"{len(seeded.eks_clusters)} EKS clusters, {seeded.roles} IAM roles, "
              f"{seeded.datapoints} hourly datapoints, regions {','.join(scale.regions)}",
              file=sys.stderr)
        server.set_latency(args.latency_ms / 1000)
        results: list[Result] = []
        for tool in tools:
            print(f"running {tool} ...", file=sys.stderr)
            if tool == "ours":
                results.append(run_ours(scale.regions, server, logs))
            elif tool == "c7n":
                results.append(run_c7n(args.custodian, scale.regions, server, logs))
            elif tool == "naive":
                results.append(run_naive(scale.regions, args.naive_workers, server, logs))
            print(f"  {results[-1].tool}: {results[-1].requests} requests, "
                  f"{results[-1].wall_s:.1f}s", file=sys.stderr)

    header = (f"{scale.workloads} workloads ({scale.functions} functions, {scale.services} "
              f"services, {scale.eks_clusters} EKS clusters) in {len(scale.regions)} regions; "
              f"latency {args.latency_ms:g} ms/request; {os.cpu_count()} CPUs")
    print(header)
    ours = next((r for r in results if r.tool == "ours"), None)
    least = floor(scale, seeded, ours.by_operation, ours.metric_series or 0,
                  seeded.datapoints) if ours else None
    print(render(results, scale.workloads, least))
    if args.json:
        args.json.write_text(json.dumps({"scale": scale.__dict__, "latency_ms": args.latency_ms,
                                         "results": [r.__dict__ for r in results],
                                         "floor": least}, indent=2))
    if args.logs is None and all(r.exit_code in (0, 1) for r in results):
        shutil.rmtree(logs, ignore_errors=True)
    else:
        print(f"\nlogs: {logs}")


if __name__ == "__main__":
    main()
