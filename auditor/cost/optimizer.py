"""AWS Compute Optimizer's recommendation beside ours, for each workload priced.

With `--compute-optimizer` every workload of a region where Compute Optimizer was asked gets
an entry: its recommendation (finding, current and recommended size, its estimated monthly
saving with currency and basis, its lookback), ours, and one sentence saying why the two
differ. Their saving is evidence, never ours: it enters no savings total, and no check reads
it. Without the flag no region was asked, and no workload has an entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.datasets import OPTIMIZER_DATASETS
from auditor.model import (
    Inventory,
    OptimizerEnrollment,
    OptimizerRecommendation,
    OptimizerSaving,
)

if TYPE_CHECKING:
    from auditor.cost.priced import PricedWorkload
    from auditor.cost.workloads import WorkloadEstimate

STATUSES = ("recommendation", "no_recommendation", "not_enrolled", "unread", "not_covered")
"""`recommendation`: Compute Optimizer answered for the workload (its `finding` says what);
`no_recommendation`: it answered for the region but not for this workload; `not_enrolled`:
the account is not enrolled; `unread`: the call failed (an errors entry names it);
`not_covered`: a workload Compute Optimizer does not recommend for (EKS, ECS on EC2)."""
_DATASET = {"lambda": "compute_optimizer.lambda", "ecs-fargate": "compute_optimizer.ecs"}
_BASIS = {"PublicPricing": "public prices",
          "CostExplorerRightsizing": "the account's own rates (Cost Explorer)",
          "CostOptimizationHub": "the account's own rates (Cost Optimization Hub)"}
_STEPS = {"idle": "stopping it", "provisioned_concurrency": "trimming provisioned concurrency",
          "arm64": "moving to arm64", "extended_support": "a version in standard support"}


@dataclass(frozen=True)
class OptimizerEvidence:
    """One workload's Compute Optimizer entry (`compute_optimizer` in the report): with a
    recommendation, what they say (`theirs`, after "Compute Optimizer") and what we do
    (`ours`, after "our model recommends"), which the explanation joins."""

    status: str
    """One of `STATUSES`."""
    explanation: str
    recommendation: OptimizerRecommendation | None = None
    enrollment: OptimizerEnrollment | None = None
    theirs: str = ""
    ours: str = ""
    our_savings_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        found = self.recommendation
        if found is not None:
            out.update({
                "finding": found.finding,
                "reasons": list(found.reasons),
                "current": _size(found.current_cpu_units, found.current_memory_mb),
                "recommended": _size(found.recommended_cpu_units, found.recommended_memory_mb)
                or None,
                "estimated_monthly_savings": _saving(found.saving),
                "estimated_monthly_savings_after_discounts": _saving(
                    found.saving_after_discounts),
                "savings_basis": found.saving_basis,
                "lookback_days": found.lookback_days,
                "performance_risk": found.performance_risk,
                "last_refreshed": found.refreshed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                if found.refreshed_at else None,
                "their_recommendation": self.theirs,
                "our_recommendation": self.ours,
                "our_monthly_savings_usd": self.our_savings_usd,
            })
        if self.enrollment is not None:
            out["enrollment"] = {"status": self.enrollment.status,
                                 "reason": self.enrollment.reason}
        out["explanation"] = self.explanation
        return out


def optimizer_evidence(estimate: WorkloadEstimate, inventory: Inventory
                       ) -> OptimizerEvidence | None:
    """The workload's entry, or None when Compute Optimizer was not asked in its region."""
    resource = estimate.resource
    enrollment = inventory.optimizer_enrollment_in(resource.scope)
    failures = [e for e in inventory.errors if e.scope == resource.scope
                and OPTIMIZER_DATASETS & set(e.datasets)]
    if enrollment is None and not failures:
        return None
    dataset = _DATASET.get(estimate.platform)
    if dataset is None:
        return OptimizerEvidence("not_covered", _not_covered(estimate.platform))
    found = inventory.optimizer_recommendation(resource.arn)
    failed = [e for e in failures if dataset in e.datasets
              and (not (e.resources or e.unread) or resource.arn in e.resources)]
    if found is None and failed:
        calls = ", ".join(sorted({f"{e.service}:{e.operation} {e.code}" for e in failed}))
        return OptimizerEvidence("unread", f"Compute Optimizer's recommendation could not be "
                                           f"read ({calls}); ours stands alone.")
    if enrollment is not None and not enrollment.active:
        return OptimizerEvidence(
            "not_enrolled",
            f"Account {resource.account} is not enrolled in AWS Compute Optimizer (status "
            f"{enrollment.status}): it has no recommendation to set beside ours.", None,
            enrollment)
    if found is None:
        return OptimizerEvidence("no_recommendation",
                                 "Compute Optimizer returned no recommendation for it.")
    theirs, ours = _theirs(found, estimate.platform), _ours(estimate)
    return OptimizerEvidence(
        "recommendation",
        f"Compute Optimizer {theirs}; our model recommends {ours}; the difference: "
        f"{_difference(found, estimate)}.",
        found, None, theirs, ours, estimate.monthly_savings_usd)


def optimizer_summary(workloads: Iterable[PricedWorkload]) -> dict[str, Any] | None:
    """For the report's summary: the entries counted by status, and one note per account
    that is not enrolled (rather than one per workload). None when no region was asked."""
    counts: dict[str, int] = {}
    unenrolled: dict[str, dict[str, str]] = {}
    for workload in workloads:
        entry = workload.compute_optimizer
        if entry is None:
            continue
        counts[entry.status] = counts.get(entry.status, 0) + 1
        if entry.status == "not_enrolled":
            unenrolled.setdefault(workload.account, {})[workload.region] = (
                entry.enrollment.status if entry.enrollment else "Inactive")
    if not counts:
        return None
    notes = [
        f"Account {account} is not enrolled in AWS Compute Optimizer (status {_statuses(regions)}"
        "): opt in (its console, or `aws compute-optimizer update-enrollment-status --status "
        "Active`) to see its recommendations beside ours."
        for account, regions in sorted(unenrolled.items())]
    return {"workloads": dict(sorted(counts.items())), "notes": notes}


def _statuses(regions: Mapping[str, str]) -> str:
    """`Inactive`, or `Inactive in us-east-1, Pending in eu-west-1` when regions differ."""
    if len(set(regions.values())) == 1:
        return next(iter(regions.values()))
    return ", ".join(f"{status} in {region}" for region, status in sorted(regions.items()))


# --------------------------------------------------------------------------- the sentence


def _theirs(found: OptimizerRecommendation, platform: str) -> str:
    """What Compute Optimizer says, after its name."""
    current = _shape(found.current_cpu_units, found.current_memory_mb)
    if found.finding == "Unavailable":
        why = ", ".join(found.reasons) + (f": {found.message}" if found.message else "")
        return "has no recommendation for it" + (f" ({why})" if why else "")
    if found.finding == "Optimized":
        return "finds it optimized" + (f" at {current}" if current else "")
    recommended = _shape(found.recommended_cpu_units, found.recommended_memory_mb)
    within, per = ("Lambda", "") if platform == "lambda" else ("Fargate", " tasks")
    text = (f"recommends {recommended}{per} (from {current})" if recommended and current
            else f"finds it {found.finding} but names no other size in {within}")
    if any("Underprovisioned" in reason for reason in found.reasons):
        text += " for performance"
    if found.saving is not None and found.saving.amount > 0:
        text += f", saving {_money(found.saving)}/month"
        if found.saving.percent is not None:
            text += f" ({found.saving.percent:g}%)"
    return text


def _ours(estimate: WorkloadEstimate) -> str:
    """What our model recommends, step by step, with the composed saving."""
    total = estimate.monthly_savings_usd
    if not total:
        return (f"keeping it as it is (nothing is cheaper than its "
                f"${estimate.current.monthly_usd:,.2f}/month)")
    if estimate.idle:
        return f"stopping it (idle: its whole cost, ${total:,.2f}/month, is the saving)"
    steps = []
    for kind, saving in estimate.savings.items():
        if kind == "right_size":
            option = estimate.step("right_size")
            shape = option.shape if option is not None else {}
            what = (f"right-sizing to {shape['vcpu']:g} vCPU / {shape['memory_gb']:g} GB"
                    if "vcpu" in shape else "right-sizing")
        elif kind == "migration":
            what = f"moving to {estimate.recommended.platform}"
        else:
            what = _STEPS.get(kind, kind)
        steps.append(f"{what} (${saving:,.2f})")
    listed = steps[0] if len(steps) == 1 else ", ".join(steps[:-1]) + " and " + steps[-1]
    return f"{listed}, saving ${total:,.2f}/month" + (" in all" if len(steps) > 1 else "")


def _difference(found: OptimizerRecommendation, estimate: WorkloadEstimate) -> str:
    rates = _BASIS.get(found.saving_basis or "", "their own rates")
    lookback = (f"their {found.lookback_days:g}-day lookback" if found.lookback_days
                else "their lookback")
    days = f"{round(estimate.metric_days, 1):g} day(s) of hourly metrics"
    if estimate.platform == "lambda":
        return (f"they size memory within Lambda from its measured memory use and duration, "
                f"priced at {rates} over {lookback}; we keep its memory (the metrics we read "
                f"do not show memory use) and compare arm64 and other platforms at list "
                f"prices over {days}")
    return (f"they size the task within Fargate, priced at {rates} over {lookback}; we "
            f"right-size to the cheapest Fargate size that keeps the observed peak under our "
            f"target and compare arm64 and other platforms at list prices over {days}")


def _not_covered(platform: str) -> str:
    if platform == "eks":
        return ("Compute Optimizer recommends Lambda functions and ECS services on Fargate; "
                "an EKS cluster's nodes are EC2 instances, whose recommendations are not read.")
    return ("Compute Optimizer recommends ECS services on Fargate only; this service runs on "
            "EC2 container instances.")


# --------------------------------------------------------------------------- formatting


def _shape(cpu_units: int | None, memory_mb: int | None) -> str:
    if memory_mb is None:
        return ""
    if cpu_units is None:
        return f"{memory_mb:,} MB"
    return f"{cpu_units / 1024:g} vCPU / {memory_mb / 1024:g} GB"


def _size(cpu_units: int | None, memory_mb: int | None) -> dict[str, int]:
    size = {"cpu_units": cpu_units, "memory_mb": memory_mb}
    return {key: value for key, value in size.items() if value is not None}


def _saving(saving: OptimizerSaving | None) -> dict[str, Any] | None:
    if saving is None:
        return None
    return {"amount": round(saving.amount, 2), "currency": saving.currency,
            "percent": saving.percent}


def _money(saving: OptimizerSaving) -> str:
    return (f"${saving.amount:,.2f}" if saving.currency == "USD"
            else f"{saving.currency} {saving.amount:,.2f}")
