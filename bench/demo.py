"""How fast the demo is: `auditor scan --demo` end to end, and moto's own GetMetricData against
the indexed one the demo installs (`auditor.demo.emulator.fast_metric_data`).

Figures, not tests. The suite proves what the demo reports and that the indexed GetMetricData
reads each stored datapoint once per call (tests/demo/test_emulator.py); how long either takes
depends on the machine and its load, so it is measured here, in one run, and printed with the
promises it is held to:
- the README's first command, `auditor scan --demo`, finishes in under 20 s;
- the indexed GetMetricData answers 80 queries sooner than moto's own answers 8 of them, and
  the same 8 at least 5 times sooner.

    .venv/bin/python bench/demo.py        # about a minute on 2 CPUs
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

from auditor.config import Config
from auditor.demo import demo_environment, emulated_aws
from auditor.demo.emulator import DEFAULT_ACCOUNT
from auditor.scan import Environment, scan

DEMO_TARGET_S = 20.0
INDEXED_TARGET = 5.0
REGION = "us-east-1"
SERIES, HOURS = 40, 336


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def demo_command() -> tuple[float, int]:
    """The README's first command, in its own process as a user runs it; wall seconds and
    the exit code (1: the demo plants high findings)."""
    exe = Path(sys.executable).with_name("auditor")
    argv = ([str(exe)] if exe.exists()
            else [sys.executable, "-c", "from auditor.cli import main; main()"])
    with tempfile.TemporaryDirectory() as out:
        seconds, done = timed(lambda: subprocess.run(
            [*argv, "scan", "--demo", "--format", "json", "--output", out, "--quiet",
             "--fail-on", "high"], capture_output=True, check=False))
    if done.returncode not in (0, 1):
        sys.exit(f"auditor scan --demo failed ({done.returncode}): {done.stderr.decode()}")
    return seconds, done.returncode


def demo_phases() -> tuple[float, float]:
    """Seeding and scanning the demo account in this process, apart."""
    with demo_environment() as demo:
        config = Config(regions=demo.account.regions)
        scan_s, _ = timed(lambda: scan(config, Environment(hooks=demo.extra_hooks, demo=True),
                                       demo.account.now))
        return demo.account.seed_seconds, scan_s


def metric_data() -> tuple[float, float, float]:
    """Seconds for moto's own GetMetricData on 8 queries, the indexed one on the same 8 and on
    all 80, over 40 series of 336 hourly points (the auditor's metric pass: 2 stats each)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    dims = [[{"Name": "ClusterName", "Value": "prod"}, {"Name": "ServiceName", "Value": f"s{i}"}]
            for i in range(SERIES)]
    queries = [{"Id": f"q{i}{stat.lower()}", "MetricStat": {
        "Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Dimensions": d},
        "Period": 3600, "Stat": stat}}
        for i, d in enumerate(dims) for stat in ("Maximum", "Average")]
    start, end = (now - timedelta(hours=HOURS)).replace(tzinfo=None), now.replace(tzinfo=None)
    with emulated_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION,
                                  config=BotoConfig(parameter_validation=False))
        datums = [{"MetricName": "CPUUtilization", "Dimensions": d,
                   "Timestamp": now - timedelta(hours=hour),
                   "StatisticValues": {"SampleCount": 60, "Sum": 600.0 + i, "Minimum": 1.0,
                                       "Maximum": 20.0 + i}}
                  for i, d in enumerate(dims) for hour in range(1, HOURS + 1)]
        for first in range(0, len(datums), 1000):
            cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=datums[first:first + 1000])
        backend = cloudwatch_backends[DEFAULT_ACCOUNT][REGION]
        # emulated_aws() has the indexed version installed; moto's own is what it wraps.
        indexed = CloudWatchBackend.__dict__["get_metric_data"]
        moto = indexed.__wrapped__
        moto_s, by_moto = timed(lambda: moto(backend, queries[:8], start, end))
        eight_s, by_index = timed(lambda: indexed(backend, queries[:8], start, end))
        all_s, _ = timed(lambda: indexed(backend, queries, start, end))
    if by_moto != by_index:
        sys.exit("the indexed GetMetricData disagrees with moto's")
    return moto_s, eight_s, all_s


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}")

    wall, code = demo_command()
    seed_s, scan_s = demo_phases()
    print(f"auditor scan --demo --format json: {wall:.1f} s (exit {code}); "
          f"target < {DEMO_TARGET_S:g} s: {verdict(wall < DEMO_TARGET_S)}")
    print(f"  in one process apart: seeding {seed_s:.1f} s, scan {scan_s:.1f} s")

    moto_s, eight_s, all_s = metric_data()
    print(f"GetMetricData over {SERIES} series x {HOURS} hourly points "
          f"({SERIES * HOURS:,} datapoints):")
    print(f"  moto's own, 8 queries: {moto_s:.2f} s")
    print(f"  indexed,    8 queries: {eight_s:.3f} s, {moto_s / eight_s:.0f}x sooner; "
          f"target >= {INDEXED_TARGET:g}x: {verdict(eight_s * INDEXED_TARGET < moto_s)}")
    print(f"  indexed,   80 queries: {all_s:.3f} s, {moto_s / all_s:.0f}x sooner than moto's 8; "
          f"target sooner: {verdict(all_s < moto_s)}")


if __name__ == "__main__":
    main()
