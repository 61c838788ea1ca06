"""A priced workload as the report carries it, typed, from the scan to the renderers.

The scan makes one of each `WorkloadEstimate` (`PricedWorkload.of`); `auditor.report.read`
makes the same from a saved JSON report, so every format renders from these types whether the
report was just scanned or read back. `to_dict` is the report's `workloads[]` entry (schema
version 1). The estimate's inventory record and in-place steps stay behind: the report keeps
what it shows, its options as the cost model's own `Option`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from auditor.cost.model import FAMILIES, Family, Option
from auditor.model import (
    ContainerInstance,
    EcsCluster,
    EcsService,
    EksAddon,
    EksCluster,
    EksInsight,
    EksNodegroup,
    EventSourceMapping,
    FargateProfile,
    FunctionUrl,
    LambdaAlias,
    LambdaFunction,
    ProvisionedConcurrency,
    Resource,
    TaskDefinition,
)

if TYPE_CHECKING:
    from auditor.cost.optimizer import OptimizerEvidence
    from auditor.cost.workloads import WorkloadEstimate

SAVINGS_KINDS = ("idle", "right_size", "arm64", "provisioned_concurrency", "extended_support",
                 "migration")
"""What a saving comes from. A workload's savings compose, each counted once: idle is the
whole cost and nothing more; otherwise each in-place step (trimmed provisioned concurrency,
right-sizing, arm64, a supported version) saves on what the step before left, and migration
saves what moving platform does beyond the best in place."""

_KINDS: Mapping[Family, tuple[type[Resource], ...]] = {
    Family.LAMBDA: (LambdaFunction, LambdaAlias, ProvisionedConcurrency, EventSourceMapping,
                    FunctionUrl),
    Family.ECS: (EcsCluster, EcsService, TaskDefinition, ContainerInstance),
    Family.EKS: (EksCluster, EksNodegroup, FargateProfile, EksAddon, EksInsight),
}
KIND_FAMILIES: Mapping[str, Family] = {kind.kind: family for family, kinds in _KINDS.items()
                                       for kind in kinds}
"""The family of the service a resource of each inventory kind (a finding's
`resource_type`) belongs to; other kinds (IAM, the network, databases, EC2 instances) have
none."""


class Confidence(StrEnum):
    """How far the estimate's metrics cover the lookback (`auditor.cost.usage.confidence`)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class PricedWorkload:
    """One workload priced now and on each option: what `workloads[]` of the JSON says."""

    arn: str
    name: str
    platform: str
    """A key of `auditor.cost.model.FAMILIES` (`lambda`, `ecs-fargate`, `ecs-ec2`, `eks`)."""
    account: str
    region: str
    current_monthly_usd: float
    current: Option | None
    """How it is priced now, line by line (a report may state only the total)."""
    options: tuple[Option, ...]
    recommended_platform: str | None
    monthly_savings_usd: float | None
    confidence: Confidence
    assumptions: tuple[str, ...]
    usage: Mapping[str, Any] = field(default_factory=dict)
    """The usage the estimate is priced from, as evidence (its keys differ by platform)."""
    savings: Mapping[str, float] | None = None
    """Dollars a month by kind (`SAVINGS_KINDS`), composed."""
    migration_savings_usd: float | None = None
    metric_days: float | None = None
    rates_flip: Mapping[str, Any] | None = None
    compute_optimizer: OptimizerEvidence | None = None

    @property
    def family(self) -> Family:
        return FAMILIES[self.platform]

    @classmethod
    def of(cls, estimate: WorkloadEstimate) -> PricedWorkload:
        resource = estimate.resource
        return cls(
            arn=resource.arn, name=estimate.name, platform=estimate.platform,
            account=resource.account, region=resource.region,
            current_monthly_usd=estimate.current.monthly_usd, current=estimate.current,
            options=estimate.options, recommended_platform=estimate.recommended.platform,
            monthly_savings_usd=estimate.monthly_savings_usd,
            confidence=Confidence(estimate.confidence), assumptions=estimate.assumptions,
            usage=estimate.usage,
            savings={kind: estimate.savings[kind] for kind in SAVINGS_KINDS
                     if kind in estimate.savings},
            migration_savings_usd=estimate.migration_savings_usd,
            metric_days=round(estimate.metric_days, 2), rates_flip=estimate.rates_flip,
            compute_optimizer=estimate.compute_optimizer,
        )

    def to_dict(self) -> dict[str, Any]:
        current = self.current
        return {
            "arn": self.arn,
            "name": self.name,
            "platform": self.platform,
            "account": self.account,
            "region": self.region,
            "usage": dict(self.usage),
            "current_monthly_usd": self.current_monthly_usd,
            **({"current": {"platform": current.platform,
                            "breakdown": {line.name: line.usd for line in current.lines},
                            "arithmetic": {line.name: line.formula for line in current.lines},
                            "shape": dict(current.shape), "rates": current.rates}}
               if current is not None else {}),
            "options": [o.to_dict() for o in self.options],
            "recommended_platform": self.recommended_platform,
            "monthly_savings_usd": self.monthly_savings_usd,
            **({"savings": dict(self.savings)} if self.savings is not None else {}),
            **({"migration_savings_usd": self.migration_savings_usd}
               if self.migration_savings_usd is not None else {}),
            **({"rates_flip": dict(self.rates_flip)} if self.rates_flip else {}),
            "confidence": self.confidence.value,
            **({"metric_days": self.metric_days} if self.metric_days is not None else {}),
            "assumptions": list(self.assumptions),
            **({"compute_optimizer": self.compute_optimizer.to_dict()}
               if self.compute_optimizer else {}),
        }
