"""An organization scanned without throttling its neighbours: every account's requests keep to
its budgets, whatever the other accounts do, and no more than `account_concurrency` of its
collectors run at once, while different accounts are scanned side by side."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime

import boto3
import botocore.loaders
import botocore.session
import pytest

from auditor.accounts import assumed_session
from auditor.collect import runner
from auditor.collect.base import Recorder, ScopeCollector
from auditor.config import Config
from auditor.model import Inventory
from auditor.ratelimit import Rate, RateLimits, Stopped, scope_region
from auditor.scan import Environment, scan
from auditor.session import CallStats, ClientFactory
from tests.test_shards import ACCOUNTS, REGIONS, essence, role_arn, seed

NOW = datetime.now(UTC)
TINY = Rate(per_second=2, burst=3, source="a tiny budget, for the test", bucket="all")
"""One bucket per account, region and service: 3 requests at once, then 2 a second."""


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Granted(RateLimits):
    """Records when each request was let through, by account, region and service."""

    def __init__(self, time: FakeTime, rate: Rate) -> None:
        super().__init__(1.0, clock=time.clock, sleep=time.sleep, rates=lambda s, o: rate)
        self.time = time
        self.starts: dict[tuple[str, str, str], list[float]] = defaultdict(list)

    def take(self, account: str, region: str, service: str, operation: str,
             stopped: Stopped = lambda: False) -> bool:
        granted = super().take(account, region, service, operation, stopped)
        self.starts[account, scope_region(service, region), service].append(self.time.now)
        return granted


def busiest_second(starts: list[float]) -> int:
    return max(sum(1 for t in starts if first <= t < first + 1) for first in starts)


def org_scan(limits: RateLimits) -> tuple[Config, Environment]:
    # One worker: the fake clock moves only with this scan's own waits.
    config = Config(regions=REGIONS, account_roles=tuple(role_arn(a) for a in ACCOUNTS),
                    max_workers=1)
    return config, Environment(session=boto3.session.Session(), limits=limits)


@pytest.mark.usefixtures("aws")
def test_no_account_goes_over_its_budget_in_any_second_and_the_findings_are_the_same() -> None:
    seed()
    limited = Granted(FakeTime(), TINY)
    report = scan(*org_scan(limited), NOW)
    unlimited = scan(*org_scan(Granted(FakeTime(), Rate(1e9, 1e9, "no limit", "all"))), NOW)

    assert essence(report) == essence(unlimited)
    assert set(report.accounts) == set(ACCOUNTS) and report.findings
    # Every request but the very first (who am I?) waited for its account's budget.
    assert sum(map(len, limited.starts.values())) == report.stats.api_calls - 1
    # The scan's own account too: its STS assumes the roles.
    assert {account for account, _, _ in limited.starts} > set(ACCOUNTS)
    for bucket, starts in limited.starts.items():
        assert busiest_second(starts) <= TINY.burst + TINY.per_second, bucket
    assert limited.time.now > 1, "the budget held requests back"


def jobs_in_flight(track: dict[str, int], peaks: dict[str, int], lock: threading.Lock,
                   both: threading.Barrier, started: set[str]) -> runner.Collector:
    """A collector that counts the jobs of its account running with it. The first job of
    each account waits for the other account's (the two accounts run side by side or this
    breaks after a hang guard); each lingers a moment, long enough for a second job of its
    account to start beside it if the cap let one."""

    def collect(ctx: ScopeCollector) -> Inventory:
        account = ctx.scope.account
        with lock:
            track[account] += 1
            peaks[account] = max(peaks[account], track[account])
            first = account not in started
            started.add(account)
        if first:
            both.wait()
        threading.Event().wait(0.05)
        with lock:
            track[account] -= 1
        return Inventory()

    return collect


def test_one_account_runs_at_most_its_cap_of_collectors_while_accounts_run_side_by_side(
        monkeypatch: pytest.MonkeyPatch) -> None:
    track: dict[str, int] = defaultdict(int)
    peaks: dict[str, int] = defaultdict(int)
    collector = jobs_in_flight(track, peaks, threading.Lock(), threading.Barrier(2, timeout=60),
                               set())
    monkeypatch.setattr(runner, "REGIONAL", (collector,) * 4)
    monkeypatch.setattr(runner, "ACCOUNT_WIDE", ())
    monkeypatch.setattr(runner, "FOLLOW_UP", ())
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x")
    targets = [runner.Target(account, ClientFactory(session, CallStats()), REGIONS)
               for account in ACCOUNTS]
    runner.collect_inventory(targets, frozenset(), NOW, Recorder(), max_workers=8,
                             account_concurrency=1)
    assert dict(peaks) == {account: 1 for account in ACCOUNTS}

    peaks.clear()
    monkeypatch.setattr(runner, "REGIONAL", (jobs_in_flight(
        track, peaks, threading.Lock(), threading.Barrier(2, timeout=60), set()),) * 4)
    runner.collect_inventory(targets, frozenset(), NOW, Recorder(), max_workers=8,
                             account_concurrency=3)
    assert max(peaks.values()) > 1, "with a cap of 3, an account's collectors run together"


def test_every_assumed_account_reads_the_service_models_parsed_for_the_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The test process shares one loader among all sessions (tests/conftest.py); a user's
    # process does not, and each account's session would parse every model again.
    monkeypatch.setattr(botocore.session, "create_loader", botocore.loaders.create_loader)
    base = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                 region_name="us-east-1")
    loader = base._session.get_component("data_loader")
    for account in ACCOUNTS:
        session = assumed_session(base, role_arn(account))
        assert session._session.get_component("data_loader") is loader
