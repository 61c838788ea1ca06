"""Elastic Load Balancing v2: the load balancers and target groups of a region, so the cost
model knows which services and functions sit behind an ALB (and can read its request metrics
and LCUs). Two paginated listings per region, plus one `DescribeTargetHealth` per target group
of type `lambda` (the only way to see which function it invokes)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.collect.base import ScopeCollector, paginate, parse_time
from auditor.model import Inventory, LoadBalancer, TargetGroup

_DATASET = "elbv2.load_balancers"


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(_DATASET):
        return Inventory()
    client = ctx.client("elbv2")
    balancers: list[LoadBalancer] = []
    groups: list[TargetGroup] = []
    with ctx.loading(_DATASET, "elbv2", "DescribeLoadBalancers"):
        balancers = ctx.parse_each(paginate(client, "describe_load_balancers", "LoadBalancers"),
                                   lambda raw: _balancer(raw, ctx), (_DATASET,), "elbv2",
                                   "DescribeLoadBalancers")
    with ctx.loading(_DATASET, "elbv2", "DescribeTargetGroups"):
        groups = ctx.parse_each(paginate(client, "describe_target_groups", "TargetGroups"),
                                lambda raw: _group(raw, ctx), (_DATASET,), "elbv2",
                                "DescribeTargetGroups")
    found = (_with_lambda_targets(ctx, client, group) for group in groups)
    return Inventory(load_balancers=tuple(balancers),
                     target_groups=tuple(group for group in found if group is not None))


def _balancer(raw: dict[str, Any], ctx: ScopeCollector) -> LoadBalancer:
    return LoadBalancer(
        raw["LoadBalancerArn"], ctx.scope.account, ctx.scope.region,
        name=raw.get("LoadBalancerName", ""),
        lb_type=raw.get("Type", "application"),
        scheme=raw.get("Scheme", "internet-facing"),
        vpc_id=raw.get("VpcId"),
        created=parse_time(raw.get("CreatedTime")),
    )


def _group(raw: dict[str, Any], ctx: ScopeCollector) -> TargetGroup:
    return TargetGroup(
        raw["TargetGroupArn"], ctx.scope.account, ctx.scope.region,
        name=raw.get("TargetGroupName", ""),
        protocol=raw.get("Protocol"),
        target_type=raw.get("TargetType", "instance"),
        load_balancer_arns=tuple(raw.get("LoadBalancerArns", [])),
    )


def _with_lambda_targets(ctx: ScopeCollector, client: Any, group: TargetGroup
                         ) -> TargetGroup | None:
    """Which function a Lambda target group invokes. Unread, the group is unknown (and so is
    the share of its ALB that a function would carry); deleted since it was listed, it is
    dropped (kept, it would read as a group with no target registered)."""
    if group.target_type != "lambda":
        return group
    targets: tuple[str, ...] = ()
    # Unread, any of the region's functions may be the one behind it.
    functions = f"arn:aws:lambda:{ctx.scope.region}:{ctx.scope.account}:function:*"
    with ctx.describing(_DATASET, "elbv2", "DescribeTargetHealth",
                        resources=(group.arn, functions)) as call:
        health = client.describe_target_health(TargetGroupArn=group.arn)
        targets = tuple(str(d["Target"]["Id"]) for d in health.get("TargetHealthDescriptions",
                                                                   [])
                        if d.get("Target", {}).get("Id"))
    return None if call.gone else replace(group, lambda_targets=targets)
