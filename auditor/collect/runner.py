"""Run the service collectors over every (account, region) with a bounded worker pool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from auditor.collect import autoscaling, ec2, ecs, eks, elbv2, iam, lambda_, logs, rds
from auditor.collect.base import Recorder, ScopeCollector
from auditor.collect.invariants import incomplete
from auditor.model import GLOBAL_REGION, Inventory, Scope, merge
from auditor.session import ClientFactory

Collector = Callable[[ScopeCollector], Inventory]

REGIONAL: tuple[Collector, ...] = (
    ec2.collect, ecs.collect, autoscaling.collect, eks.collect, lambda_.collect, rds.collect,
    logs.collect, elbv2.collect,
)
ACCOUNT_WIDE: tuple[Collector, ...] = (iam.collect,)


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
) -> Inventory:
    jobs: list[tuple[Collector, ScopeCollector]] = []
    for target in targets:
        for collector in ACCOUNT_WIDE:
            scope = Scope(target.account, GLOBAL_REGION)
            jobs.append((collector, ScopeCollector(scope, target.clients, recorder, wanted, now)))
        for region in target.regions:
            scope = Scope(target.account, region)
            for collector in REGIONAL:
                jobs.append(
                    (collector, ScopeCollector(scope, target.clients, recorder, wanted, now))
                )
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        parts = list(pool.map(lambda job: job[0](job[1]), jobs))
    scopes = tuple(Scope(t.account, r) for t in targets for r in t.regions)
    inventory = replace(merge(parts), scopes=scopes, errors=tuple(recorder.errors))
    for error in incomplete(inventory, wanted):
        recorder.add(error)
    return replace(inventory, errors=tuple(recorder.errors))
