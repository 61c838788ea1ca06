"""What the account pays less than list for: its Savings Plans with their rates, how much of
its spend they covered (Cost Explorer), and its EC2 Reserved Instances. Read only with
`--bill` (`[billing] enabled`), for the cost model's effective rates
(`auditor.pricing.commitments`).

Per account: `DescribeSavingsPlans` (active plans), then per plan one or two
`DescribeSavingsPlanRates` (its Lambda and Fargate rates, its Linux EC2 rates) in the scanned
regions, and, only when a plan is active, one Cost Explorer `GetSavingsPlansCoverage` request
($0.01) over the lookback, by SERVICE, in the scanned regions: exactly one, never its further
pages, whatever they hold. Per region: one `DescribeReservedInstances` (active ones). The
Savings Plans API and `DescribeReservedInstances` are free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

from auditor.collect.base import ScopeCollector
from auditor.model import (
    CoveredSpend,
    Inventory,
    ReservedInstance,
    SavingsPlan,
    SavingsPlanRate,
    SavingsPlansCoverage,
)

SAVINGS_PLANS = "savingsplans.plans"
COVERAGE = "ce.savings_plans_coverage"
RESERVED = "ec2.reserved_instances"
DATASETS = frozenset({SAVINGS_PLANS, COVERAGE, RESERVED})
"""Wanted by a scan with `--bill` that prices workloads."""
PRODUCTS = ("Lambda", "Fargate")
"""Savings Plan products the cost model prices besides EC2 (whose rates are asked apart,
Linux and shared tenancy only, the instances node groups run)."""
COVERAGE_DAYS_MAX = 365
"""Cost Explorer answers for the last 13 months; a longer lookback is cut to a year."""
PAGE = 1000
"""The most either Savings Plans listing returns a page."""
MAX_PAGES = 10
"""Pages read of one listing: thousands of plans or of one plan's rates in the scanned
regions are far beyond any account; an answer that never stops paging is refused."""


class PageLimitExceeded(Exception):
    """A listing still had pages after `MAX_PAGES`."""


def savings_plans(ctx: ScopeCollector) -> Inventory:
    """The account's active Savings Plans, their rates and, with a plan active, coverage."""
    if not ctx.wants(SAVINGS_PLANS, COVERAGE) or not ctx.regions:
        return Inventory()
    client = ctx.client("savingsplans")
    plans: list[SavingsPlan] = []
    listed = False
    with ctx.loading(ctx.wanted_among((SAVINGS_PLANS, COVERAGE)), "savingsplans",
                     "DescribeSavingsPlans"):
        plans = ctx.parse_each(
            _pages(client.describe_savings_plans, "savingsPlans", states=["active"],
                   maxResults=PAGE),
            lambda raw: _plan(raw, ctx), (SAVINGS_PLANS,), "savingsplans",
            "DescribeSavingsPlans")
        listed = True
    if ctx.wants(SAVINGS_PLANS):
        plans = [_with_rates(ctx, client, plan) for plan in plans]
    coverage = _coverage(ctx) if listed and plans and ctx.wants(COVERAGE) else None
    return Inventory(savings_plans=tuple(plans),
                     savings_plans_coverage=(coverage,) if coverage else ())


def reserved_instances(ctx: ScopeCollector) -> Inventory:
    """The region's active Reserved Instances."""
    if not ctx.wants(RESERVED):
        return Inventory()
    found: list[ReservedInstance] = []
    with ctx.loading(RESERVED, "ec2", "DescribeReservedInstances"):
        answer = ctx.client("ec2").describe_reserved_instances(
            Filters=[{"Name": "state", "Values": ["active"]}])
        found = ctx.parse_each(answer.get("ReservedInstances", []),
                               lambda raw: _reserved(raw, ctx), (RESERVED,), "ec2",
                               "DescribeReservedInstances")
    return Inventory(reserved_instances=tuple(found))


# --------------------------------------------------------------------------- Savings Plans


def _pages(call: Callable[..., Any], key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under `key` across the pages of a call botocore has no paginator for."""
    token: str | None = None
    for _ in range(MAX_PAGES):
        page = call(**kwargs, **({"nextToken": token} if token else {}))
        yield from page.get(key) or []
        token = page.get("nextToken")
        if not token:
            return
    raise PageLimitExceeded(f"{key} still had pages after {MAX_PAGES} of {PAGE}: not read")


def _plan(raw: dict[str, Any], ctx: ScopeCollector) -> SavingsPlan:
    return SavingsPlan(
        raw["savingsPlanArn"], ctx.scope.account, ctx.scope.region,
        plan_id=str(raw.get("savingsPlanId", "")),
        plan_type=str(raw.get("savingsPlanType", "")),
        state=str(raw.get("state", "")),
        commitment_per_hour=float(raw.get("commitment") or 0),
        payment_option=str(raw.get("paymentOption", "")),
        term_seconds=int(raw.get("termDurationInSeconds") or 0),
        products=tuple(str(p) for p in raw.get("productTypes") or ()),
        plan_region=raw.get("region") or None,
        ec2_instance_family=raw.get("ec2InstanceFamily") or None,
    )


def _rate_queries(ctx: ScopeCollector, plan: SavingsPlan) -> list[list[dict[str, Any]]]:
    """The filters of each rates call a plan needs: its Lambda and Fargate rates, and its
    Linux shared-tenancy EC2 rates, in the scanned regions it applies in."""
    regions = [r for r in ctx.regions if plan.plan_region in (None, r)]
    if not regions:
        return []
    where = {"name": "region", "values": regions}
    queries = []
    products = [p for p in PRODUCTS if p in plan.products]
    if products:
        queries.append([where, {"name": "productType", "values": products}])
    if "EC2" in plan.products:
        queries.append([where, {"name": "productType", "values": ["EC2"]},
                        {"name": "tenancy", "values": ["shared"]},
                        {"name": "productDescription", "values": ["Linux/UNIX"]}])
    return queries


def _with_rates(ctx: ScopeCollector, client: Any, plan: SavingsPlan) -> SavingsPlan:
    """The plan with its rates; a failed call leaves the plan without them (priced as if it
    were not there), and the failure in `errors`."""
    rates: list[SavingsPlanRate] = []
    for filters in _rate_queries(ctx, plan):
        with ctx.describing(SAVINGS_PLANS, "savingsplans", "DescribeSavingsPlanRates",
                            resources=(plan.arn,)):
            rates += [_rate(raw) for raw in _pages(
                client.describe_savings_plan_rates, "searchResults",
                savingsPlanId=plan.plan_id, filters=filters, maxResults=PAGE)]
    return replace(plan, rates=tuple(rates))


def _rate(raw: dict[str, Any]) -> SavingsPlanRate:
    properties = {str(p.get("name")): str(p.get("value")) for p in raw.get("properties") or ()}
    return SavingsPlanRate(
        product=str(raw.get("productType", "")),
        region=properties.get("region", ""),
        usage_type=str(raw.get("usageType", "")),
        usd=float(raw["rate"]),
        instance_type=properties.get("instanceType"),
    )


def _coverage(ctx: ScopeCollector) -> SavingsPlansCoverage | None:
    """One Cost Explorer request: the eligible spend covered, by service, over the lookback."""
    end = ctx.now.date()
    start = end - timedelta(days=min(ctx.lookback_days, COVERAGE_DAYS_MAX))
    found: SavingsPlansCoverage | None = None
    with ctx.loading(COVERAGE, "ce", "GetSavingsPlansCoverage"):
        answer = ctx.client("ce").get_savings_plans_coverage(
            TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
            GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}],
            Filter={"Dimensions": {"Key": "REGION", "Values": list(ctx.regions)}})
        spend: dict[str, tuple[float, float]] = {}
        for entry in answer.get("SavingsPlansCoverages") or ():
            service = str((entry.get("Attributes") or {}).get("SERVICE") or "")
            figures = entry.get("Coverage") or {}
            covered, total = spend.get(service, (0.0, 0.0))
            spend[service] = (covered + float(figures.get("SpendCoveredBySavingsPlans") or 0),
                              total + float(figures.get("TotalCost") or 0))
        found = SavingsPlansCoverage(
            f"arn:aws:ce::{ctx.scope.account}:savings-plans-coverage", ctx.scope.account,
            ctx.scope.region, start=start.isoformat(), end=end.isoformat(),
            regions=tuple(ctx.regions),
            by_service={name: CoveredSpend(*figures) for name, figures in spend.items()
                        if name})
    return found


# --------------------------------------------------------------------------- Reserved Instances


def _reserved(raw: dict[str, Any], ctx: ScopeCollector) -> ReservedInstance:
    account, region = ctx.scope.account, ctx.scope.region
    reservation = str(raw["ReservedInstancesId"])
    recurring = sum(float(c.get("Amount") or 0) for c in raw.get("RecurringCharges") or ()
                    if c.get("Frequency") == "Hourly")
    return ReservedInstance(
        f"arn:aws:ec2:{region}:{account}:reserved-instances/{reservation}", account, region,
        reservation_id=reservation,
        instance_type=str(raw.get("InstanceType", "")),
        instance_count=int(raw.get("InstanceCount") or 0),
        state=str(raw.get("State", "")),
        product_description=str(raw.get("ProductDescription", "")),
        tenancy=str(raw.get("InstanceTenancy", "default")),
        zonal=raw.get("Scope") == "Availability Zone",
        offering_type=str(raw.get("OfferingType", "")),
        duration_seconds=int(raw.get("Duration") or 0),
        fixed_price=float(raw.get("FixedPrice") or 0),
        hourly_price=float(raw.get("UsagePrice") or 0) + recurring,
    )
