"""Run the service collectors over every (account, region) with a bounded worker pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from auditor.collect import (
    apigateway,
    autoscaling,
    compute_optimizer,
    ec2,
    ecs,
    eks,
    elbv2,
    iam,
    lambda_,
    logs,
    rds,
)
from auditor.collect.base import Recorder, ScopeCollector
from auditor.collect.commitments import reserved_instances, savings_plans
from auditor.collect.invariants import incomplete
from auditor.model import GLOBAL_REGION, Inventory, Scope, merge, with_reserved_concurrency
from auditor.session import ClientFactory, worker_pool

Collector = Callable[[ScopeCollector], Inventory]

REGIONAL: tuple[Collector, ...] = (
    ec2.collect, ecs.collect, autoscaling.collect, eks.collect, lambda_.collect, rds.collect,
    logs.collect, elbv2.collect, apigateway.collect, reserved_instances,
)
ACCOUNT_WIDE: tuple[Collector, ...] = (iam.collect, savings_plans)
FollowUp = Callable[[ScopeCollector, Inventory], Inventory]
FOLLOW_UP: tuple[FollowUp, ...] = (compute_optimizer.collect, ec2.spot_prices,
                                   lambda_.reserved_concurrency)
"""Regional collectors that ask about what the first pass found (they name its ARNs, the
instance types its Spot nodes run, or the functions that can reach its databases)."""


@dataclass(frozen=True)
class Target:
    """One account to scan: its clients and the regions to read."""

    account: str
    clients: ClientFactory
    regions: tuple[str, ...]


def collect_inventory(
    targets: Sequence[Target],
    wanted: frozenset[str],
    now: datetime,
    recorder: Recorder,
    max_workers: int = 8,
    lookback_days: int = 14,
) -> Inventory:
    jobs: list[tuple[Collector, ScopeCollector]] = []
    for target in targets:
        for collector in ACCOUNT_WIDE:
            scope = Scope(target.account, GLOBAL_REGION)
            jobs.append((collector, ScopeCollector(scope, target.clients, recorder, wanted, now,
                                                   target.regions, lookback_days)))
        for region in target.regions:
            scope = Scope(target.account, region)
            for collector in REGIONAL:
                jobs.append(
                    (collector, ScopeCollector(scope, target.clients, recorder, wanted, now))
                )
    follow: list[tuple[FollowUp, ScopeCollector]] = [
        (collector, ScopeCollector(Scope(target.account, region), target.clients, recorder,
                                   wanted, now))
        for target in targets for region in target.regions for collector in FOLLOW_UP]
    with worker_pool(max_workers) as pool:
        found = merge(pool.map(lambda job: job[0](job[1]), jobs))
        parts = [found, *pool.map(lambda job: job[0](job[1], found), follow)]
    scopes = tuple(Scope(t.account, r) for t in targets for r in t.regions)
    inventory = replace(with_reserved_concurrency(merge(parts)), scopes=scopes,
                        errors=tuple(recorder.errors))
    for error in incomplete(inventory, wanted):
        recorder.add(error)
    return replace(inventory, errors=tuple(recorder.errors))
