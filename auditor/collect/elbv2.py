"""Elastic Load Balancing v2: the load balancers and target groups of a region, so the cost
model knows which services and functions sit behind an ALB (and can read its request metrics
and LCUs). Two paginated listings per region, plus one `DescribeTargetHealth` per target group
of type `lambda` (the only way to see which function it invokes)."""

from __future__ import annotations

from typing import Any

from auditor.collect.base import ScopeCollector, paginate
from auditor.model import Inventory, LoadBalancer, TargetGroup

_DATASET = "elbv2.load_balancers"


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(_DATASET):
        return Inventory()
    client = ctx.client("elbv2")
    balancers: list[LoadBalancer] = []
    groups: list[TargetGroup] = []
    with ctx.loading(_DATASET, "elbv2", "DescribeLoadBalancers"):
        balancers = [_balancer(raw, ctx)
                     for raw in paginate(client, "describe_load_balancers", "LoadBalancers")]
        groups = [_group(raw, ctx)
                  for raw in paginate(client, "describe_target_groups", "TargetGroups")]
        groups = [_with_lambda_targets(client, group) for group in groups]
    return Inventory(load_balancers=tuple(balancers), target_groups=tuple(groups))


def _balancer(raw: dict[str, Any], ctx: ScopeCollector) -> LoadBalancer:
    return LoadBalancer(
        raw["LoadBalancerArn"], ctx.scope.account, ctx.scope.region,
        name=raw.get("LoadBalancerName", ""),
        lb_type=raw.get("Type", "application"),
        scheme=raw.get("Scheme", "internet-facing"),
        vpc_id=raw.get("VpcId"),
    )


def _group(raw: dict[str, Any], ctx: ScopeCollector) -> TargetGroup:
    return TargetGroup(
        raw["TargetGroupArn"], ctx.scope.account, ctx.scope.region,
        name=raw.get("TargetGroupName", ""),
        protocol=raw.get("Protocol"),
        target_type=raw.get("TargetType", "instance"),
        load_balancer_arns=tuple(raw.get("LoadBalancerArns", [])),
    )


def _with_lambda_targets(client: Any, group: TargetGroup) -> TargetGroup:
    if group.target_type != "lambda":
        return group
    health = client.describe_target_health(TargetGroupArn=group.arn)
    targets = tuple(str(d["Target"]["Id"]) for d in health.get("TargetHealthDescriptions", [])
                    if d.get("Target", {}).get("Id"))
    return TargetGroup(group.arn, group.account, group.region, group.name, group.protocol,
                       group.target_type, group.load_balancer_arns, targets)
