"""Cost Explorer: what each account was billed over the scan's window (`--bill`), for the cost
model to be set against (`auditor.cost.bill`).

Cost Explorer is global (its endpoint is in us-east-1) and charges $0.01 a request, so an
account costs at most `MAX_CALLS` requests, pages included: one daily `GetCostAndUsage` per
service group of `QUERIES`, filtered to the regions the scan reads, grouped by service and
region, or by region and usage type where the usage type says what the model can see (Fargate
tasks apart from other ECS usage, instance hours apart from other EC2). The groups are read in
order; each may page on as long as the groups after it keep one request each. A group whose
pages do not fit is not read at all (part of a bill reads as cost the model explains too
well), and a failed request ends the account's reading (the next would fare no better): each
is an `errors` entry, and the reconciliation names what was left unread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from auditor.collect.base import Recorder, ScopeCollector
from auditor.collect.runner import Target
from auditor.model import GLOBAL_REGION, CollectionError, Scope
from auditor.session import worker_pool

DATASET = "ce.cost_and_usage"
MAX_CALLS = 8
"""Cost Explorer requests an account may cost a scan, pages included ($0.01 each)."""

# Cost Explorer's SERVICE dimension values: EKS keeps the name it launched with.
LAMBDA = "AWS Lambda"
ECS = "Amazon Elastic Container Service"
EKS = "Amazon Elastic Container Service for Kubernetes"
EC2 = "Amazon Elastic Compute Cloud - Compute"
API_GATEWAY = "Amazon API Gateway"
ELB = "Amazon Elastic Load Balancing"

NET = "NetAmortizedCost"
UNBLENDED = "UnblendedCost"
USAGE = "UsageQuantity"
METRICS = (NET, UNBLENDED, USAGE)


@dataclass(frozen=True)
class Query:
    """One `GetCostAndUsage` request (and its pages)."""

    services: tuple[str, ...]
    by_usage_type: bool
    """Grouped by region and usage type (one service), else by service and region."""

    @property
    def group_by(self) -> tuple[str, str]:
        return ("REGION", "USAGE_TYPE") if self.by_usage_type else ("SERVICE", "REGION")


QUERIES = (
    Query((LAMBDA, API_GATEWAY, ELB), by_usage_type=False),
    Query((ECS,), by_usage_type=True),
    Query((EKS,), by_usage_type=True),
    Query((EC2,), by_usage_type=True),
)


@dataclass(frozen=True)
class BilledCost:
    """One day of one service in one region (and usage type, where asked), as billed."""

    region: str
    service: str
    usage_type: str
    """Empty where the request was not grouped by usage type."""
    day: date
    net_amortized_usd: float
    """What the account pays: after Savings Plans, Reserved Instances, credits and private
    pricing, upfront fees spread over their term."""
    unblended_usd: float
    """The same usage at the rates charged before those are netted out."""
    usage_quantity: float


@dataclass(frozen=True)
class Bill:
    """What Cost Explorer billed one account over [start, end) in the regions asked."""

    account: str
    regions: tuple[str, ...]
    start: date
    end: date
    """Exclusive, as Cost Explorer's `TimePeriod`."""
    calls: int
    costs: tuple[BilledCost, ...] = ()
    unread: Mapping[str, str] = field(default_factory=dict)
    """Services not read, each with why (their costs are absent, not zero)."""


def collect_bills(targets: Sequence[Target], wanted: frozenset[str], start: date, end: date,
                  recorder: Recorder, now: datetime, max_workers: int = 8) -> tuple[Bill, ...]:
    """Each account's bill, accounts side by side; none unless `--bill` wants it."""
    if DATASET not in wanted or not targets:
        return ()

    def one(target: Target) -> Bill:
        ctx = ScopeCollector(Scope(target.account, GLOBAL_REGION), target.clients, recorder,
                             wanted, now)
        return collect_bill(ctx, target.regions, start, end)

    with worker_pool(min(max_workers, len(targets))) as pool:
        return tuple(pool.map(one, targets))


def collect_bill(ctx: ScopeCollector, regions: Sequence[str], start: date, end: date) -> Bill:
    """One account's bill, in at most `MAX_CALLS` requests."""
    client = ctx.client("ce")
    costs: list[BilledCost] = []
    unread: dict[str, str] = {}
    calls = 0
    for index, query in enumerate(QUERIES):
        # Every group after this one keeps a request of its own.
        budget = MAX_CALLS - calls - (len(QUERIES) - index - 1)
        read = _Read()
        with ctx.loading(DATASET, "ce", "GetCostAndUsage"):
            _pages(client, query, tuple(regions), start, end, budget, read)
        calls += read.calls
        if read.complete:
            costs.extend(read.costs)
        elif read.cut:
            ctx.recorder.add(CollectionError(
                ctx.scope.account, ctx.scope.region, "ce", "GetCostAndUsage",
                "RequestBudgetExhausted",
                f"Cost Explorer had more pages for {', '.join(query.services)} than the "
                f"{MAX_CALLS} requests ($0.01 each) a scan makes per account; not reconciled",
                (DATASET,)))
            unread.update(dict.fromkeys(
                query.services, f"more pages than the {MAX_CALLS} requests a scan may make"))
        else:
            # Denied, throttled past the retries, or answered out of shape: the next request
            # would fare no better, and each costs a cent.
            failed = f"GetCostAndUsage failed: {_failure(ctx)}"
            unread.update(dict.fromkeys(
                (service for rest in QUERIES[index:] for service in rest.services), failed))
            break
    return Bill(ctx.scope.account, tuple(regions), start, end, calls, tuple(costs), unread)


@dataclass
class _Read:
    calls: int = 0
    costs: list[BilledCost] = field(default_factory=list)
    complete: bool = False
    cut: bool = False
    """Pages were left when the budget ran out."""


def _pages(client: Any, query: Query, regions: tuple[str, ...], start: date, end: date,
           budget: int, read: _Read) -> None:
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(METRICS),
        "Filter": {"And": [{"Dimensions": {"Key": "SERVICE", "Values": list(query.services)}},
                           {"Dimensions": {"Key": "REGION", "Values": list(regions)}}]},
        "GroupBy": [{"Type": "DIMENSION", "Key": key} for key in query.group_by],
    }
    token: str | None = None
    while True:
        if read.calls == budget:
            read.cut = True
            return
        # Counted before it is sent: a request that fails may still be billed.
        read.calls += 1
        page = client.get_cost_and_usage(**request, **({"NextPageToken": token} if token
                                                       else {}))
        read.costs.extend(_costs(page, query))
        token = page.get("NextPageToken")
        if token is not None and not isinstance(token, str):
            raise TypeError(f"NextPageToken is not a string: {token!r:.60}")
        if not token:
            read.complete = True
            return


def _costs(page: Mapping[str, Any], query: Query) -> list[BilledCost]:
    """A page's groups; a shape Cost Explorer does not send raises (the group is unread)."""
    found = []
    for period in page.get("ResultsByTime") or []:
        day = date.fromisoformat(period["TimePeriod"]["Start"])
        for group in period.get("Groups") or []:
            first, second = (str(key) for key in group["Keys"])
            service, region, usage_type = ((query.services[0], first, second)
                                           if query.by_usage_type else (first, second, ""))
            metrics = group.get("Metrics") or {}
            found.append(BilledCost(region, service, usage_type, day,
                                    _amount(metrics, NET, cost=True),
                                    _amount(metrics, UNBLENDED, cost=True),
                                    _amount(metrics, USAGE, cost=False)))
    return found


def _amount(metrics: Mapping[str, Any], name: str, cost: bool) -> float:
    value = metrics.get(name)
    if value is None:
        return 0.0
    unit = value.get("Unit")
    if cost and unit not in (None, "USD"):
        raise ValueError(f"{name} is in {unit}, not USD")
    return float(value["Amount"])


def _failure(ctx: ScopeCollector) -> str:
    """The code of the Cost Explorer failure just recorded for this account."""
    return next((e.code for e in reversed(ctx.recorder.errors)
                 if e.account == ctx.scope.account and e.service == "ce"), "see errors")
