"""Run the service collectors over every (account, region) with a bounded worker pool, at
most `account_concurrency` of them at once in any one account."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TypeVar

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
T = TypeVar("T")

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
    account_concurrency: int = 4,
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
        found = merge(by_account(pool, account_concurrency, [
            (ctx.scope.account, partial(collector, ctx)) for collector, ctx in jobs]))
        parts = [found, *by_account(pool, account_concurrency, [
            (ctx.scope.account, partial(follower, ctx, found)) for follower, ctx in follow])]
    scopes = tuple(Scope(t.account, r) for t in targets for r in t.regions)
    inventory = replace(with_reserved_concurrency(merge(parts)), scopes=scopes,
                        errors=tuple(recorder.errors))
    for error in incomplete(inventory, wanted):
        recorder.add(error)
    return replace(inventory, errors=tuple(recorder.errors))


def by_account(pool: Executor, per_account: int, jobs: Sequence[tuple[str, Callable[[], T]]]
               ) -> list[T]:
    """Run `(account, job)` pairs on `pool`, at most `per_account` of one account at once,
    and return their results in the jobs' order.

    Each account gets up to `per_account` lanes, each a pool task taking that account's next
    job until none is left: a worker never waits on a busy account while another has work.
    The lanes are queued account by account in turn, so the pool's first workers spread over
    as many accounts as they can, and an organization's accounts are scanned side by side.
    """
    queues: dict[str, deque[int]] = {}
    for index, (account, _) in enumerate(jobs):
        queues.setdefault(account, deque()).append(index)
    results: dict[int, T] = {}

    def lane(queue: deque[int]) -> None:
        while queue:
            try:
                index = queue.popleft()
            except IndexError:  # another lane took the last one
                return
            results[index] = jobs[index][1]()

    sizes = [len(queue) for queue in queues.values()]
    lanes = [pool.submit(lane, queue) for turn in range(max(1, per_account))
             for queue, size in zip(queues.values(), sizes, strict=True) if turn < size]
    for running in lanes:
        running.result()
    return [results[index] for index in range(len(jobs))]
