"""Effective rates from what an account has committed to: its Savings Plans, weighed by how
much of its spend they covered, and its EC2 Reserved Instances (read with `--bill`,
`auditor.collect.commitments`).

A plan's discount on a platform comes from its own rates against the list prices of the same
usage (`1 - rate / list`, averaged over the usage types it has rates for in the region; plans
weighed by their hourly commitment), times the share of the platform's eligible spend the
plans covered over the lookback (Cost Explorer): 46% off at 80% coverage is 36.8% off the
platform's list prices, the average its usage paid. Where the platform had no eligible spend,
the account's coverage over all its services stands in (new usage there would draw on the same
commitment), and the discount says so.

EC2 is discounted per instance family: the region's active Linux Reserved Instances of the
family cover its running instances (node groups, ECS container instances, Karpenter and Auto
Mode nodes; Spot aside) in the share their normalised units allow, at their own rate (the
upfront price spread over the term plus the hourly charges); the plans cover the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial

from auditor.collect.commitments import COVERAGE, RESERVED, SAVINGS_PLANS
from auditor.model import (
    Inventory,
    ReservedInstance,
    SavingsPlan,
    SavingsPlanRate,
    SavingsPlansCoverage,
    Scope,
)
from auditor.pricing.book import PriceBook
from auditor.pricing.discounts import FAMILIES, Discount, percent
from auditor.pricing.refresh import SPECS, bare_usage

COVERAGE_FAMILIES: Mapping[str, str] = {
    "AWS Lambda": "lambda",
    "Amazon Elastic Container Service": "fargate",
    "Amazon Elastic Container Service for Kubernetes": "fargate",
    "Amazon Elastic Compute Cloud - Compute": "ec2",
}
"""Cost Explorer's SERVICE names, and the family their eligible spend is: ECS's and EKS's is
Fargate (their EC2 instances bill as EC2)."""
_PRODUCTS = {"lambda": "Lambda", "fargate": "Fargate"}
_LIST_PRICES = {spec.usage: spec.key for spec in SPECS
                if spec.service in ("AWSLambda", "AmazonECS") and spec.scale == 1.0}
"""Usage type (no region prefix) -> the book's list price of it."""
_PLAN_NAMES = {"Compute": "Compute", "EC2Instance": "EC2 Instance"}
_SIZE_UNITS = {"nano": 0.25, "micro": 0.5, "small": 1.0, "medium": 2.0, "large": 4.0,
               "xlarge": 8.0}
"""AWS's normalisation factors: a Linux Reserved Instance covers any size of its family in
these units (`2xlarge` is 16, `12xlarge` 96)."""
_YEAR_SECONDS = 365 * 24 * 3600


def effective_book(inventory: Inventory, prices: PriceBook, scope: Scope) -> PriceBook:
    """The book for an account and region: the region's prices with the discounts its plans
    and Reserved Instances give, before the book's own (private pricing)."""
    book = prices.in_region(scope.region)
    discounts, notes = commitments(inventory, book, scope)
    return book.with_discounts(discounts, tuple(notes)) if discounts or notes else book


def commitments(inventory: Inventory, book: PriceBook, scope: Scope
                ) -> tuple[dict[str, Discount], list[str]]:
    """The discounts by family key (`lambda`, `fargate`, `ec2:t3`) and what they rest on."""
    notes: list[str] = []
    failed = sorted(inventory.failed_datasets(scope) & {SAVINGS_PLANS, COVERAGE, RESERVED})
    if failed:
        notes.append(f"Not read ({', '.join(failed)}; see errors): what they would take off "
                     "list prices is not applied.")
    plans = [p for p in inventory.savings_plans
             if p.account == scope.account and p.state == "active"]
    coverage = next((c for c in inventory.savings_plans_coverage
                     if c.account == scope.account), None)
    if plans and coverage is None and COVERAGE not in failed:
        notes.append("Savings Plans coverage was not read: the plans are not applied.")
    discounts: dict[str, Discount] = {}
    for family, product in _PRODUCTS.items():
        found = _plans(plans, scope.region, family, coverage, notes,
                       partial(_list_price, book, product=product))
        if found is not None:
            discounts[family] = found
    for family, used in sorted(_instance_units(inventory, scope).items()):
        found = _instances(inventory, book, scope, family, used, plans, coverage, notes)
        if found is not None:
            discounts[f"ec2:{family}"] = found
    return discounts, list(dict.fromkeys(notes))


# --------------------------------------------------------------------------- Savings Plans


def _list_price(book: PriceBook, rate: SavingsPlanRate, product: str) -> float | None:
    key = _LIST_PRICES.get(bare_usage(rate.usage_type))
    return float(getattr(book, key)) if rate.product == product and key else None


def _plans(plans: Sequence[SavingsPlan], region: str, family: str,
           coverage: SavingsPlansCoverage | None, notes: list[str],
           list_price: Callable[[SavingsPlanRate], float | None],
           applies_to: str = "") -> Discount | None:
    """The plans' discount on the rates `list_price` prices in `region`, times coverage."""
    weighted = weights = 0.0
    used: list[SavingsPlan] = []
    for plan in plans:
        offs = [max(0.0, 1 - rate.usd / listed) for rate in plan.rates
                if rate.region == region and (listed := list_price(rate))]
        if offs:
            weight = plan.commitment_per_hour or 1.0
            weighted += weight * sum(offs) / len(offs)
            weights += weight
            used.append(plan)
    if not used or coverage is None:
        return None
    off = weighted / weights
    name = (f"{_PLAN_NAMES.get(used[0].plan_type, used[0].plan_type)} Savings Plan"
            if len(used) == 1 else f"{len(used)} Savings Plans")
    share, basis = _covered(coverage, family)
    what = applies_to or FAMILIES[family]
    if share <= 0:
        notes.append(f"{name}: {percent(off)} off {what} by its rates, but it covered none of "
                     f"the spend from {coverage.start} to {coverage.end}: {what} at list.")
        return None
    notes.append(f"Savings Plans coverage: Cost Explorer, {coverage.start} to {coverage.end} "
                 f"(exclusive), in {', '.join(coverage.regions)}. A plan's discount times its "
                 "coverage is the average its platform's usage paid; usage beyond the "
                 "commitment pays list.")
    return Discount(off * share, f"{name} {percent(off)} x {percent(share)} coverage{basis}",
                    what)


def _covered(coverage: SavingsPlansCoverage, family: str) -> tuple[float, str]:
    """The share of the family's eligible spend covered, else the account's over every
    service (with why), else nothing."""
    mine = [s for name, s in coverage.by_service.items() if COVERAGE_FAMILIES.get(name) == family]
    total = sum(s.total_usd for s in mine)
    if total > 0:
        return sum(s.covered_usd for s in mine) / total, ""
    every = list(coverage.by_service.values())
    total = sum(s.total_usd for s in every)
    if total <= 0:
        return 0.0, ""
    return (sum(s.covered_usd for s in every) / total,
            f" (the account's across services: no {FAMILIES[family]} spend in the window)")


# --------------------------------------------------------------------------- EC2


def units(instance_type: str) -> float | None:
    """An instance size in normalised units (`large` 4), None for sizes without one."""
    size = instance_type.partition(".")[2]
    if size in _SIZE_UNITS:
        return _SIZE_UNITS[size]
    many = size.removesuffix("xlarge")
    return 8.0 * int(many) if many != size and many.isdigit() else None


def _instance_units(inventory: Inventory, scope: Scope) -> dict[str, float]:
    """Normalised units of on-demand instances running in the scope, by instance family."""
    running: list[tuple[str, int]] = [
        (g.instance_types[0], g.desired_size) for g in inventory.eks_nodegroups
        if g.scope == scope and g.instance_types and g.capacity_type != "SPOT"]
    running += [(str(i.instance_type), 1) for i in inventory.container_instances
                if i.scope == scope and i.instance_type]
    running += [(n.instance_type, 1) for n in inventory.cluster_nodes
                if n.scope == scope and not n.spot and n.provisioner != "managed-nodegroup"]
    found: dict[str, float] = defaultdict(float)
    for instance_type, count in running:
        size = units(instance_type)
        if size is not None and count > 0:
            found[instance_type.partition(".")[0]] += count * size
    return dict(found)


def _instances(inventory: Inventory, book: PriceBook, scope: Scope, family: str, used: float,
               plans: Sequence[SavingsPlan], coverage: SavingsPlansCoverage | None,
               notes: list[str]) -> Discount | None:
    """An instance family's discount: its Reserved Instances on the share of its hours they
    cover, the plans on the rest."""
    plan = _plans(plans, scope.region, "ec2", coverage, notes,
                  partial(_instance_price, book, family), f"EC2 {family}")
    reserved = [ri for ri in inventory.reserved_instances
                if ri.scope == scope and ri.state == "active" and ri.tenancy == "default"
                and ri.product_description.startswith("Linux/UNIX")
                and ri.instance_type.partition(".")[0] == family]
    found = _reserved(book, reserved)
    if found is None:
        return plan
    off, covered, bought = found
    share = min(1.0, covered / used)
    rest = plan.fraction if plan is not None else 0.0
    source = (f"Reserved Instances ({bought}) {percent(off)} on {percent(share)} of its hours"
              + (f", {plan.source} on the rest" if plan is not None and share < 1 else ""))
    return Discount(share * off + (1 - share) * rest, source, f"EC2 {family}")


def _instance_price(book: PriceBook, family: str, rate: SavingsPlanRate) -> float | None:
    """The list price of a plan's rate for an instance type of `family`."""
    kind = rate.instance_type
    return book.instance_hour(kind) if (rate.product == "EC2" and kind
                                        and kind.partition(".")[0] == family) else None


def _reserved(book: PriceBook, reserved: Iterable[ReservedInstance]
              ) -> tuple[float, float, str] | None:
    """What the reservations take off list, the normalised units they cover, and what they
    are, in words; None without any that can be priced."""
    paid = listed = covered = 0.0
    bought: list[str] = []
    for ri in reserved:
        hourly, size = book.instance_hour(ri.instance_type), units(ri.instance_type)
        if hourly is None or size is None or ri.instance_count <= 0:
            continue
        hours = ri.duration_seconds / 3600
        each = (ri.fixed_price / hours if hours else 0.0) + ri.hourly_price
        paid += ri.instance_count * each
        listed += ri.instance_count * hourly
        covered += ri.instance_count * size
        bought.append(f"{ri.instance_count} x {ri.instance_type}, "
                      f"{ri.duration_seconds / _YEAR_SECONDS:g}-year {ri.offering_type}")
    if not listed:
        return None
    return max(0.0, 1 - paid / listed), covered, "; ".join(bought)
