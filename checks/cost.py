"""Cost checks over the workload cost model (`auditor.cost`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from auditor.check import Check, CheckContext, Param
from auditor.cost.workloads import COST_DATASETS, SUBJECT_DATASETS, WorkloadEstimate
from auditor.findings import Category, Finding, Severity
from auditor.model import Inventory
from auditor.params import COUNT, PERCENT


class MigrationOpportunity(Check):
    id = "cost.migration_opportunity"
    title = "Workload cheaper on another platform"
    severity = Severity.INFO
    category = Category.COST
    rationale = (
        "Lambda bills per request and millisecond, containers per hour: steady high volume is "
        "usually cheaper on Fargate, and a little traffic on always-on tasks cheaper on "
        "Lambda. The cost model prices every workload on each platform from its observed "
        "usage; this reports the ones where moving saves a worthwhile amount beyond what "
        "tuning it in place would."
    )
    remediation = (
        "Read the workload's options in the report (each line with its arithmetic and "
        "assumptions), check the blockers do not apply, and trial the recommended platform "
        "on part of the traffic before moving it all."
    )
    requires = COST_DATASETS
    subject_kinds = ("lambda-function", "ecs-service", "eks-cluster")
    subject_requires = SUBJECT_DATASETS
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_monthly_savings_usd": Param(20.0, "report when moving saves more than this a "
                                               "month", COUNT),
        "min_savings_percent": Param(20.0, "... and more than this share of the current cost",
                                     PERCENT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for estimate in ctx.costs.estimates:
            saving = estimate.migration_savings_usd
            current = estimate.current.monthly_usd
            if (saving > ctx.number("min_monthly_savings_usd") and current > 0
                    and saving / current * 100 > ctx.number("min_savings_percent")):
                yield self._finding(estimate, ctx)

    def _finding(self, estimate: WorkloadEstimate, ctx: CheckContext) -> Finding:
        current, best = estimate.current, estimate.recommended
        in_place = estimate.best_in_place
        saving = estimate.migration_savings_usd
        staying = ("" if in_place is current else
                   f" (the best on its own platform, {in_place.platform}, is "
                   f"${in_place.monthly_usd:,.2f})")
        flip = estimate.rates_flip
        flipped = ("" if flip is None else
                   f" Effective rates make the difference: at list prices "
                   f"{flip['at_list']['recommended_platform']} would be the cheapest.")
        return self.finding(
            estimate.resource,
            f"{estimate.name} costs ${current.monthly_usd:,.2f}/month on {current.platform}"
            f"{staying}; on {best.platform} it would cost ${best.monthly_usd:,.2f}, "
            f"${saving:,.2f}/month ({saving / current.monthly_usd:.0%}) less "
            f"(confidence {estimate.confidence}).{flipped}",
            {
                "current": {"platform": current.platform, "monthly_usd": current.monthly_usd,
                            "breakdown": {line.name: line.usd for line in current.lines},
                            "arithmetic": {line.name: line.formula for line in current.lines},
                            "rates": current.rates},
                "best_in_place": {"platform": in_place.platform,
                                  "monthly_usd": in_place.monthly_usd},
                "recommended": best.to_dict(),
                "usage": dict(estimate.usage),
                "confidence": estimate.confidence,
                "assumptions": list(estimate.assumptions),
                "thresholds": {k: ctx.params[k] for k in self.parameters},
                "arithmetic": (f"{in_place.platform} ${in_place.monthly_usd:,.2f} - "
                               f"{best.platform} ${best.monthly_usd:,.2f} = ${saving:,.2f}"),
                "prices": ctx.prices.in_region(estimate.resource.region).describe(),
                **({"rates_flip": dict(flip)} if flip else {}),
            },
            monthly_savings_usd=saving,
            savings_kind="migration",
        )
