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
    .venv/bin/python bench/run.py --org 10 --functions 90 --services 8 --eks-clusters 2

`--org N` (README.md, "Org mode") seeds an organization of N accounts instead, each holding
the scale given (by default 1,000 workloads in 2 regions), and runs ours alone with
`--org --role-name AuditorRole`, the server enforcing AWS's documented request rates.
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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from floor import excess, floor, org_floor
from moto_server import THROTTLING_CODES, Bucket, MotoServer, Second, bucket_of
from seed import Scale, Seeded, seed, seed_org
from tabulate import tabulate

from auditor.config import Config

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGETS = {"requests vs c7n": 0.1, "wall vs c7n": 0.2, "peak RSS MB": 300.0,
           "requests per workload": 0.25, "requests vs floor": 1.1}
LARGE = 10_000
"""Above this many workloads the peak RSS target is `LARGE_RSS_MB`, the one for ten times the
full scale (issue 17); at or below, the full scale's 300 MB."""
LARGE_RSS_MB = 1000.0
ORG_SCALE = Scale(functions=900, services=90, ecs_clusters=2, eks_clusters=10,
                  regions=("us-east-1", "eu-west-1"), metric_sample=0.01)
"""An organization's account, by default: 1,000 workloads in 2 regions, 1% with data."""
ROLE_NAME = "AuditorRole"


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
        targets = {**TARGETS, **({"peak RSS MB": LARGE_RSS_MB} if workloads > LARGE else {})}
        for name, value, _ in checks:
            verdict = "met" if value <= targets[name] else "MISSED"
            lines.append(f"target {name} <= {targets[name]:g}: {value:.3f} {verdict}")
    lines.append("")
    for r in results:
        lines.append(f"{r.tool}: {r.top()}")
        lines += [f"  {note}" for note in r.notes]
    return "\n".join(lines)


# --------------------------------------------------------------------------- org mode


@dataclass(frozen=True)
class BucketPeak:
    """What one of AWS's buckets (account, region or "global", service, operation class)
    received, against the scan's budget: `share` of AWS's rate and of its burst."""

    account: str
    region: str
    service: str
    bucket: str
    requests: int
    """In its busiest wall-clock second."""
    budget: float
    """The scan's share of AWS's sustained rate: requests per second."""
    burst: float
    """The scan's share of AWS's burst: what a full bucket lets a stretch of seconds add."""
    excess: float
    """The most any stretch of whole seconds received above `budget` times its length: a
    token bucket at the budget allows up to `burst`."""

    @property
    def load(self) -> float:
        return self.requests / self.budget

    @property
    def within(self) -> bool:
        return self.excess <= self.burst

    def __str__(self) -> str:
        return (f"{self.account} {self.region} {self.service} {self.bucket!r}: "
                f"{self.requests}/s, budget {self.budget:g}/s + {self.burst:g} burst "
                f"(most above the budget in any stretch: {self.excess:g})")


def bucket_peaks(seconds: list[Second], share: float) -> list[BucketPeak]:
    """Every bucket's busiest second and its most loaded stretch of seconds, the most loaded
    second against its budget first."""
    counts: dict[Bucket, Counter[int]] = {}
    rates = {}
    for second in seconds:
        key, rate = bucket_of(second.account, second.region, second.service, second.operation)
        counts.setdefault(key, Counter())[second.at] += second.requests
        rates[key] = rate.share(share)
    found = []
    for key, by_second in counts.items():
        budget = rates[key].per_second
        # The stretch with the most requests above the budget (Kadane's maximum subarray):
        # `run` is the best stretch ending at this second; seconds without requests between
        # two that have some each lower it by the budget.
        run, excess, last = 0.0, 0.0, None
        for at in sorted(by_second):
            idle = at - last - 1 if last is not None else 0
            run = max(0.0, run - budget * idle) + by_second[at] - budget
            excess, last = max(excess, run), at
        found.append(BucketPeak(*key, max(by_second.values()), budget, rates[key].burst,
                                round(excess, 3)))
    return sorted(found, key=lambda p: -p.load)


def account_peaks(seconds: list[Second]) -> dict[tuple[str, str], int]:
    """(account, service) -> its requests in its busiest wall-clock second, all regions and
    operations together."""
    per_second: Counter[tuple[int, str, str]] = Counter()
    for second in seconds:
        per_second[(second.at, second.account, second.service)] += second.requests
    peak: dict[tuple[str, str], int] = {}
    for (_, account, service), count in per_second.items():
        peak[(account, service)] = max(peak.get((account, service), 0), count)
    return peak


@dataclass
class OrgResult:
    accounts: int
    workloads: int
    result: Result
    accounts_scanned: list[str]
    """The report's scope: each account once, however often it was scanned."""
    roles_assumed: int
    """sts:AssumeRole requests: one per account if none was scanned twice."""
    throttles: dict[str, int]
    """Requests the server throttled, by service."""
    throttling_errors: int
    """Errors in the report with a throttling code: requests given up after their retries."""
    share: float
    buckets: list[BucketPeak]
    peaks: dict[tuple[str, str], int]
    least: dict[str, int]
    """The request floor by operation (bench/floor.py `org_floor`)."""


def run_org(scale: Scale, seeded: dict[str, Seeded], server: MotoServer,
            logs: Path) -> OrgResult:
    report = logs / "auditor-report.json"
    exe = Path(sys.executable).with_name("auditor")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "auditor.cli"]
    argv += ["scan", "--org", "--role-name", ROLE_NAME,
             *(f"--region={r}" for r in scale.regions),
             "--format", "json", "--output", str(report), "--quiet"]
    result = measure("ours", argv, server, logs)
    scanned: list[str] = []
    throttling_errors = metric_queries = 0
    if report.exists():
        document = json.loads(report.read_text())
        scanned = list(document.get("scope", {}).get("accounts", []))
        metric_queries = document.get("stats", {}).get("metric_queries") or 0
        result.notes.append(f"its own count: {document.get('stats', {}).get('api_calls')} "
                            "calls")
        errors = Counter(f"{e['service']}:{e['operation']} {e['code']}"
                         for e in document.get("errors", []))
        throttling_errors = sum(1 for e in document.get("errors", [])
                                if e["code"] in THROTTLING_CODES)
        if errors:
            result.notes.append("errors: " + ", ".join(f"{k} x{v}" for k, v in errors.items()))
    else:
        result.notes.append(f"no report; see {logs / 'ours.stderr'}")
    throttles: Counter[str] = Counter()
    for (_, service), count in server.throttles().items():
        throttles[service] += count
    share = Config().api_rate_share
    seconds = server.by_second()
    by_account: dict[str, Counter[str]] = {}
    for second in seconds:
        by_account.setdefault(second.account, Counter())[
            f"{second.service}:{second.operation}"] += second.requests
    return OrgResult(len(seeded), scale.workloads * len(seeded), result, scanned,
                     result.by_operation.get("sts:AssumeRole", 0), dict(throttles),
                     throttling_errors, share, bucket_peaks(seconds, share),
                     account_peaks(seconds),
                     org_floor(scale, seeded, by_account, metric_queries))


def render_org(org: OrgResult) -> str:
    r = org.result
    throttles = sum(org.throttles.values())
    least = sum(org.least.values())
    table = tabulate([[org.accounts, org.workloads, r.requests,
                       f"{r.requests / org.workloads:.3f}", least, _ratio(r.requests, least),
                       f"{r.wall_s:.1f}", f"{r.peak_rss_mb:.0f}", throttles,
                       org.throttling_errors, r.exit_code]],
                     headers=["accounts", "workloads", "requests", "req/workload", "floor",
                              "ours/floor", "wall s", "peak RSS MB", "throttles seen",
                              "throttling errors", "exit"],
                     tablefmt="github", disable_numparse=True)
    lines = [table, ""]
    over = [p for p in org.buckets if not p.within]
    if org.buckets:
        above = sum(1 for p in org.buckets if p.requests > p.budget)
        lines += [f"busiest second of any bucket against its budget (AWS's rate and burst x "
                  f"{org.share:g}): {org.buckets[0]}",
                  f"buckets with a second above the sustained budget: {above} of "
                  f"{len(org.buckets)} (the burst allows it; a stretch past it is not)"]
    checks = [
        ("accounts scanned, each once", f"{len(org.accounts_scanned)} of {org.accounts}, "
         f"{org.roles_assumed} roles assumed",
         len(org.accounts_scanned) == org.accounts == org.roles_assumed),
        ("every bucket within its budget in every stretch of seconds",
         f"{len(over)} bucket(s) over", not over),
        ("throttles seen = 0", str(throttles), throttles == 0),
        ("throttling errors in the report = 0", str(org.throttling_errors),
         org.throttling_errors == 0),
        (f"requests vs floor <= {TARGETS['requests vs floor']:g}", _ratio(r.requests, least),
         bool(least) and r.requests / least <= TARGETS["requests vs floor"]),
    ]
    lines += [f"target {name}: {value} {'met' if ok else 'MISSED'}" for name, value, ok in checks]
    lines += [f"  over budget: {p}" for p in over[:8]]
    lines.append("")

    requests: Counter[str] = Counter()
    for key, count in r.by_operation.items():
        requests[key.split(":", 1)[0]] += count
    rows = []
    for service in sorted(requests, key=lambda s: -requests[s]):
        peaks = {account: n for (account, svc), n in org.peaks.items() if svc == service}
        busiest = max(peaks, key=lambda a: peaks[a]) if peaks else None
        worst = next((p for p in org.buckets if p.service == service), None)
        rows.append([service, requests[service], org.throttles.get(service, 0),
                     f"{peaks[busiest]} ({busiest})" if busiest else "-",
                     f"{worst.requests}/s of {worst.budget:g}/s + {worst.burst:g} "
                     f"({worst.bucket})" if worst else "-"])
    lines.append(tabulate(rows, headers=["service", "requests", "throttles",
                                         "peak req/s of one account",
                                         "busiest bucket: peak vs budget + burst"],
                          tablefmt="github"))
    lines.append("")
    lines.append(f"ours: {r.top()}")
    over_floor = excess(r.by_operation, org.least)
    if over_floor:
        lines.append("  above the floor: " + ", ".join(over_floor[:8]))
    lines += [f"  {note}" for note in r.notes]
    return "\n".join(lines)


def run_org_mode(accounts: int, scale: Scale, latency_ms: float, keep: Path | None,
                 json_path: Path | None) -> None:
    logs = keep or Path(tempfile.mkdtemp(prefix="auditor-bench-org-"))
    logs.mkdir(parents=True, exist_ok=True)
    with MotoServer(latency_s=0.0) as server:
        os.environ.update(_env(server))
        started = time.monotonic()
        seeded = seed_org(scale, accounts, datetime.now(UTC), ROLE_NAME)
        print(f"seeded in {time.monotonic() - started:.0f}s: {_seeded(seeded)}", file=sys.stderr)
        server.set_latency(latency_ms / 1000)
        server.enforce_rates()
        print("running ours ...", file=sys.stderr)
        org = run_org(scale, seeded, server, logs)
    print(f"organization of {accounts} accounts, each {scale.workloads} workloads "
          f"({scale.functions} functions, {scale.services} services, {scale.eks_clusters} EKS "
          f"clusters, {scale.metric_sample:g} with data) in {len(scale.regions)} regions; "
          f"latency {latency_ms:g} ms/request; AWS's rates enforced; {os.cpu_count()} CPUs")
    print(render_org(org))
    if json_path:
        json_path.write_text(json.dumps({
            "org": accounts, "scale": scale.__dict__, "latency_ms": latency_ms,
            "result": org.result.__dict__, "accounts_scanned": org.accounts_scanned,
            "throttles": org.throttles, "throttling_errors": org.throttling_errors,
            "api_rate_share": org.share, "floor": org.least,
            "buckets": [p.__dict__ for p in org.buckets]},
            indent=2))
    if keep is None and org.result.exit_code in (0, 1):
        shutil.rmtree(logs, ignore_errors=True)
    else:
        print(f"\nlogs: {logs}")


def _seeded(accounts: dict[str, Seeded]) -> str:
    every = list(accounts.values())
    return (f"{len(accounts)} accounts, {sum(len(s.functions) for s in every)} functions, "
            f"{sum(len(s.services) for s in every)} ECS services, "
            f"{sum(len(s.eks_clusters) for s in every)} EKS clusters, "
            f"{sum(s.roles for s in every)} IAM roles, "
            f"{sum(s.datapoints for s in every)} hourly datapoints")


def _arguments(argv: list[str] | None) -> tuple[argparse.Namespace, Scale]:
    single, org = Scale(), ORG_SCALE
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--org", type=int, metavar="N",
                        help="seed an organization of N accounts and run ours alone, AWS's "
                             "request rates enforced; the scale options are then per account")

    def scale_option(name: str, kind: Callable[[str], Any], text: str = "") -> None:
        key = name[2:].replace("-", "_")
        shown = [",".join(v) if isinstance(v, tuple) else v
                 for v in (getattr(single, key), getattr(org, key))]
        parser.add_argument(name, type=kind,
                            help=f"{text}default {shown[0]}; {shown[1]} with --org")

    for name in ("--functions", "--services", "--ecs-clusters", "--eks-clusters"):
        scale_option(name, int)
    scale_option("--regions", lambda text: tuple(r for r in text.split(",") if r))
    scale_option("--metric-sample", float,
                 "share of functions and services with 14 days of hourly data; ")
    scale_option("--vpc-fraction", float, "share of functions attached to a VPC; ")
    parser.add_argument("--latency-ms", type=float, default=30.0,
                        help="added to every measured request (not to seeding)")
    parser.add_argument("--naive-workers", type=int, default=8)
    parser.add_argument("--custodian", type=Path, default=BENCH / ".venv" / "bin" / "custodian")
    parser.add_argument("--tools", default="ours,c7n,naive")
    parser.add_argument("--logs", type=Path, help="keep logs and reports here")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    given = {key: getattr(args, key) for key in ("functions", "services", "ecs_clusters",
                                                  "eks_clusters", "regions", "metric_sample",
                                                  "vpc_fraction")}
    return args, replace(org if args.org else single,
                         **{key: value for key, value in given.items() if value is not None})


def main(argv: list[str] | None = None) -> None:
    args, scale = _arguments(argv)
    if args.org:
        run_org_mode(args.org, scale, args.latency_ms, args.logs, args.json)
        return
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
