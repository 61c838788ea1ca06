"""What a check is: a small pure unit with its metadata, inventory and metrics in, findings out.

A check never calls AWS and never reads the clock: the inventory, the metric series it asked
for, the price book and the scan time all come in through `CheckContext`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from auditor.cost.workloads import Costs
from auditor.datasets import DATASETS, actions_for, tag_datasets
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery, MetricStore, Series
from auditor.model import Inventory, Resource
from auditor.params import Param, ParamValue

__all__ = ["Check", "CheckContext", "Param", "ParamValue", "listing", "series_or_none"]
from auditor.pricing.book import PriceBook


@dataclass(frozen=True)
class CheckContext:
    now: datetime
    lookback_days: int
    params: Mapping[str, ParamValue]
    metrics: MetricStore = field(default_factory=MetricStore)
    prices: PriceBook = field(default_factory=PriceBook)
    costs: Costs = field(default_factory=Costs)
    """Every workload priced by the cost model, for checks that `reads_costs`."""

    def number(self, name: str) -> float:
        value = self.params[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"parameter {name} is not a number")
        return float(value)


class Check(abc.ABC):
    """Subclass, set the class attributes, implement `evaluate` (and `metric_queries` if the
    check reads CloudWatch). `requires` names datasets from `auditor.datasets`; the IAM actions
    the check needs follow from them."""

    id: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[Category]
    rationale: ClassVar[str]
    remediation: ClassVar[str]
    requires: ClassVar[frozenset[str]]
    subject_kinds: ClassVar[tuple[str, ...]]
    """The resource kinds this check passes judgement on (they turn `unknown` when data fails)."""
    subject_requires: ClassVar[Mapping[str, frozenset[str]]] = {}
    """For a check judging several kinds: the part of `requires` a verdict on each kind rests
    on, so that a failed Lambda listing does not leave its ECS verdicts unknown. A kind not
    listed rests on all of `requires`."""
    parameters: ClassVar[Mapping[str, Param]] = {}
    reads_costs: ClassVar[bool] = False
    """The check reads its dollar figures from the cost model (`CheckContext.costs`) and
    does no arithmetic of its own: the scan then prices every workload, once."""

    def __init__(self, params: Mapping[str, ParamValue] | None = None) -> None:
        self.params: dict[str, ParamValue] = {k: p.default for k, p in self.parameters.items()}
        self.params.update(params or {})

    @property
    def iam_actions(self) -> frozenset[str]:
        return actions_for(self.requires | self.wants_tags)

    @property
    def wants_tags(self) -> frozenset[str]:
        """Where the tags of what it judges come from when their listing carries none
        (Lambda's): read so that `auditor:ignore` and tag suppressions apply to its findings.
        Its verdicts do not rest on them unless it `requires` them too."""
        return tag_datasets(self.subject_kinds)

    def requires_for(self, kind: str) -> frozenset[str]:
        """The datasets a verdict on a subject of this kind rests on."""
        return self.subject_requires.get(kind, self.requires)

    def requires_for_subject(self, subject: Resource) -> frozenset[str]:
        """The datasets the verdict on this one subject rests on. Override when some subjects
        need less than their kind (a function in no VPC reaches no database, so its verdict
        does not rest on the RDS listing)."""
        return self.requires_for(subject.kind)

    @property
    def uses_metrics(self) -> bool:
        return "cloudwatch.metrics" in self.requires

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        """The CloudWatch series this check reads; fetched for it before `evaluate`."""
        return ()

    @abc.abstractmethod
    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        """Yield a `fail` finding for each problem seen, with its evidence."""

    # ---- helpers for subclasses

    def finding(
        self,
        resource: Resource,
        message: str,
        evidence: Mapping[str, Any],
        *,
        sub_key: str = "",
        monthly_savings_usd: float | None = None,
        savings_kind: str | None = None,
        severity: Severity | None = None,
        remediation: str | None = None,
    ) -> Finding:
        return Finding(
            check_id=self.id,
            title=self.title,
            severity=severity or self.severity,
            category=self.category,
            status="fail",
            resource_arn=resource.arn,
            resource_type=resource.kind,
            account=resource.account,
            region=resource.region,
            message=message,
            evidence=dict(evidence),
            remediation=remediation or self.remediation,
            monthly_savings_usd=None if monthly_savings_usd is None
            else round(monthly_savings_usd, 2),
            savings_kind=savings_kind if monthly_savings_usd is not None else None,
            sub_key=sub_key,
        )

    def unknown(
        self,
        resource: Resource,
        reason: str,
        evidence: Mapping[str, Any] | None = None,
        *,
        sub_key: str = "",
    ) -> Finding:
        """A verdict the check cannot reach from what was collected: the data breaks an AWS
        invariant (a VPC with no main route table means the tables were not all read), or a
        dated table does not know the value. Never a pass, never a fail."""
        return Finding(
            check_id=self.id, title=self.title, severity=self.severity,
            category=self.category, status="unknown", resource_arn=resource.arn,
            resource_type=resource.kind, account=resource.account, region=resource.region,
            message=f"Could not judge: {reason}.", evidence={"cause": reason, **(evidence or {})},
            remediation=self.remediation, sub_key=sub_key,
        )

    @classmethod
    def validate_declaration(cls) -> None:
        """Raise TypeError when a check class is missing metadata or names unknown datasets."""
        for attr in ("id", "title", "severity", "category", "rationale", "remediation",
                     "requires", "subject_kinds"):
            if not hasattr(cls, attr):
                raise TypeError(f"check {cls.__name__} does not declare {attr}")
        unknown = set(cls.requires) - DATASETS.keys()
        if unknown:
            raise TypeError(f"check {cls.id} requires unknown datasets {sorted(unknown)}")
        for kind, datasets in cls.subject_requires.items():
            if kind not in cls.subject_kinds or not datasets <= cls.requires:
                raise TypeError(f"check {cls.id}: subject_requires[{kind!r}] must name one of "
                                "its subject_kinds and datasets it requires")
        if "." not in cls.id:
            raise TypeError(f"check id {cls.id!r} must be namespaced, like 'area.name'")


def listing(items: Sequence[str], shown: int = 3, sep: str = ", ") -> str:
    """`a, b, c and 2 more`: the first few items of a message, and how many were left out."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return sep.join(items[:shown]) + more


def series_or_none(ctx: CheckContext, query: MetricQuery) -> Series | None:
    """The fetched series, or None when it has no datapoints."""
    series = ctx.metrics.get(query)
    return None if series is None or series.empty else series
