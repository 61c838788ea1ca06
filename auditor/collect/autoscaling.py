"""Application Auto Scaling targets of ECS services: one paginated `DescribeScalableTargets`
per region, whatever the number of services."""

from __future__ import annotations

from typing import Any

from auditor.collect.base import ScopeCollector, paginate
from auditor.model import Inventory, ScalableTarget

_DATASET = "autoscaling.targets"


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(_DATASET):
        return Inventory()
    client = ctx.client("application-autoscaling")
    targets: list[ScalableTarget] = []
    with ctx.loading(_DATASET, "application-autoscaling", "DescribeScalableTargets"):
        targets = [
            _target(raw, ctx)
            for raw in paginate(client, "describe_scalable_targets", "ScalableTargets",
                                ServiceNamespace="ecs")
        ]
    return Inventory(scalable_targets=tuple(targets))


def _target(raw: dict[str, Any], ctx: ScopeCollector) -> ScalableTarget:
    account, region = ctx.scope.account, ctx.scope.region
    namespace = raw.get("ServiceNamespace", "ecs")
    resource_id = raw["ResourceId"]
    dimension = raw.get("ScalableDimension", "")
    # ScalableTargetARN arrived in 2023; older responses (and some emulators) lack it, so the
    # target's identity (namespace, resource and dimension) stands in.
    arn = raw.get("ScalableTargetARN") or (
        f"arn:aws:application-autoscaling:{region}:{account}:scalable-target/"
        f"{namespace}/{resource_id}/{dimension}"
    )
    return ScalableTarget(
        arn, account, region,
        service_namespace=namespace,
        resource_id=resource_id,
        scalable_dimension=dimension,
        min_capacity=int(raw.get("MinCapacity", 0)),
        max_capacity=int(raw.get("MaxCapacity", 0)),
    )
