"""Elastic Load Balancing checks: application and network load balancers that serve nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param, listing
from auditor.cost.model import Change, balancer_line
from auditor.cost.usage import Window, balancer_users, per_hour
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery, balancer_query
from auditor.model import Inventory, LoadBalancer, TargetGroup
from auditor.params import COUNT

TRAFFIC = {"application": ("RequestCount", "requests"), "network": ("NewFlowCount", "new flows")}
"""What each type of load balancer counts of its work, and how messages name it."""
_LABEL = {"application": "ALB", "network": "NLB"}


def _judged(inventory: Inventory) -> list[LoadBalancer]:
    """Application and network load balancers (gateway load balancers carry appliances'
    traffic, which neither metric counts)."""
    return [lb for lb in inventory.load_balancers if lb.lb_type in TRAFFIC]


def _traffic_query(lb: LoadBalancer) -> MetricQuery:
    return balancer_query(lb, TRAFFIC[lb.lb_type][0], "Sum")


def _lcu_query(lb: LoadBalancer) -> MetricQuery:
    return balancer_query(lb, "ConsumedLCUs", "Average")


class UnusedLoadBalancer(Check):
    id = "elb.unused_load_balancer"
    title = "Load balancer that serves nothing"
    severity = Severity.LOW
    category = Category.COST
    rationale = (
        "An application or network load balancer is billed for every hour it exists ($16.43 "
        "a month in us-east-1) whether or not anything reaches it. One that handled no "
        "requests (ALB `RequestCount`) or opened no flows (NLB `NewFlowCount`) over the whole "
        "lookback, or that has nothing to send traffic to (no target group, or only target "
        "groups with no registered target), is left over. An ALB with no target group that "
        "answers requests serves redirects or fixed responses, and is in use. Load balancers "
        "younger than the lookback are not judged. The saving is its hours and capacity "
        "units; for one in front of a service or function the cost model prices it within "
        "that workload, so no saving is counted beside it."
    )
    remediation = (
        "Check that nothing refers to its DNS name (DNS records, clients' configuration), turn "
        "off deletion protection if it is on, then delete the load balancer and the target "
        "groups only it used."
    )
    requires = frozenset({"elbv2.load_balancers", "cloudwatch.metrics"})
    subject_kinds = ("load-balancer",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_requests": Param(0, "flag when an ALB handled at most this many requests, or an "
                                 "NLB opened at most this many flows, over the lookback",
                              COUNT),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        for lb in _judged(inventory):
            yield _traffic_query(lb)
            yield _lcu_query(lb)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        start = ctx.now - timedelta(days=ctx.lookback_days)
        users = balancer_users(inventory)
        for lb in _judged(inventory):
            traffic = ctx.metrics.get(_traffic_query(lb))
            if traffic is None or (lb.created is not None and lb.created > start):
                continue
            groups = [g for g in inventory.target_groups if lb.arn in g.load_balancer_arns]
            handled = traffic.total()
            idle = handled <= ctx.number("max_requests")
            empty = _nothing_to_route(inventory, lb, groups)
            if not (idle or empty):
                continue
            yield self._finding(lb, groups, handled, empty, users.get(lb.arn, 0), ctx)

    def _finding(self, lb: LoadBalancer, groups: list[TargetGroup], handled: float,
                 empty: str | None, users: int, ctx: CheckContext) -> Finding:
        label, (metric, unit) = _LABEL[lb.lb_type], TRAFFIC[lb.lb_type]
        book = ctx.prices.in_region(lb.region)
        lcu_series = ctx.metrics.get(_lcu_query(lb))
        lcu = 0.0 if lcu_series is None or lcu_series.empty else per_hour(
            Window(ctx.lookback_days, ctx.metrics), lcu_series)
        change = Change((balancer_line(book, lb.lb_type, lcu, "measured ConsumedLCUs"),))
        why = [f"{handled:,.0f} {unit} in the {ctx.lookback_days}-day lookback"]
        if empty or not groups:
            why.append(empty or "no target group")
        if users:
            cost = (f"its ${change.monthly_usd:,.2f}/month is priced within the {users} "
                    "workload(s) behind it, whose findings claim it")
        else:
            cost = f"it costs ${change.monthly_usd:,.2f}/month for nothing"
        evidence: dict[str, Any] = {
            "name": lb.name, "type": lb.lb_type, "scheme": lb.scheme, "vpc_id": lb.vpc_id,
            "created": lb.created.isoformat() if lb.created else None,
            metric: handled, "lookback_days": ctx.lookback_days,
            "threshold_max_requests": ctx.number("max_requests"),
            "target_groups": [_group(g) for g in groups],
            "nothing_to_route": empty, "workloads_behind_it": users,
            "cost": change.evidence(), "prices": book.describe(),
        }
        return self.finding(
            lb, f"{label} {lb.name}: {'; '.join(why)}: {cost}.", evidence,
            monthly_savings_usd=None if users else change.monthly_usd,
            savings_kind="idle")


def _nothing_to_route(inventory: Inventory, lb: LoadBalancer,
                      groups: list[TargetGroup]) -> str | None:
    """Why the load balancer has nowhere to send traffic, or None. Only Lambda target groups'
    targets are read (DescribeTargetHealth); an instance or IP group may have some."""
    if not groups:
        # An ALB answers redirects and fixed responses without one; an NLB only forwards.
        return "no target group" if lb.lb_type == "network" else None
    unread = [g for g in groups if inventory.failed_for(g.arn)]
    if not unread and all(g.target_type == "lambda" and not g.lambda_targets for g in groups):
        names = listing([g.name for g in groups])
        return f"its target group(s) {names} have no registered target"
    return None


def _group(group: TargetGroup) -> dict[str, Any]:
    targets = list(group.lambda_targets) if group.target_type == "lambda" else "not read"
    return {"name": group.name, "target_type": group.target_type, "targets": targets}
