"""elb.unused_load_balancer: ALBs with no requests and NLBs with no flows over the lookback,
or with nothing to send traffic to, priced by the cost model."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from auditor.engine import run_checks
from auditor.findings import Finding
from auditor.metrics import MetricStore, Series, balancer_query
from auditor.model import Inventory, LoadBalancer, TargetGroup
from auditor.pricing.book import PriceBook
from checks.elb import UnusedLoadBalancer
from tests import factories as f

OLD = f.NOW - timedelta(days=60)


def run(lb: LoadBalancer, traffic: list[float] | None, groups: tuple[TargetGroup, ...] = (),
        lcu: list[float] | None = None, **inventory: object) -> list[Finding]:
    check = UnusedLoadBalancer()
    metric = "NewFlowCount" if lb.lb_type == "network" else "RequestCount"
    series: dict = {}  # type: ignore[type-arg]
    if traffic is not None:
        series[balancer_query(lb, metric, "Sum")] = f.hourly(traffic) if traffic else Series(
            (), ())
    if lcu is not None:
        series[balancer_query(lb, "ConsumedLCUs", "Average")] = f.hourly(lcu)
    inv = Inventory(load_balancers=(lb,), target_groups=groups, **inventory)  # type: ignore[arg-type]
    return list(check.evaluate(inv, f.context(check, series)))


@pytest.mark.fires("elb.unused_load_balancer")
def test_alb_with_no_requests_all_lookback_costs_its_hours() -> None:
    lb = f.load_balancer("legacy", created=OLD)
    [finding] = run(lb, [], (f.target_group("legacy", lb),))
    assert finding.resource_arn == lb.arn and finding.resource_type == "load-balancer"
    # 730 h x $0.0225 with no LCUs in use.
    assert finding.monthly_savings_usd == 16.43
    assert finding.savings_kind == "idle"
    cost = finding.evidence["cost"]
    assert cost["arithmetic"]["load_balancer"] == (
        "730 h x $0.0225 + 730 h x 0 LCU [measured ConsumedLCUs] x $0.008/LCU-h")
    assert finding.evidence["RequestCount"] == 0
    assert finding.evidence["target_groups"] == [
        {"name": "legacy", "target_type": "ip", "targets": "not read"}]
    assert "0 requests in the 14-day lookback" in finding.message


@pytest.mark.fires("elb.unused_load_balancer")
def test_nlb_with_no_target_group_and_capacity_units_priced_from_consumed_lcus() -> None:
    lb = f.load_balancer("tcp", lb_type="network", created=OLD)
    [finding] = run(lb, [5.0] * 336, lcu=[2.0] * 336)
    assert finding.evidence["nothing_to_route"] == "no target group"
    # 730 h x ($0.0225 + 2 NLCU x $0.006).
    assert finding.monthly_savings_usd == 25.19
    assert "2 NLCU" in finding.evidence["cost"]["arithmetic"]["load_balancer"]


@pytest.mark.fires("elb.unused_load_balancer")
def test_alb_whose_lambda_target_group_has_no_function_registered() -> None:
    lb = f.load_balancer("fn", created=OLD)
    [finding] = run(lb, [100.0] * 336, (f.target_group("fn", lb, "lambda"),))
    assert "fn have no registered target" in finding.message


@pytest.mark.quiet("elb.unused_load_balancer")
def test_busy_new_unread_or_redirecting_load_balancers_are_not_flagged() -> None:
    lb = f.load_balancer("web", created=OLD)
    group = f.target_group("web", lb)
    assert run(lb, [100.0] * 336, (group,)) == []
    # Younger than the lookback, not fetched (the engine says unknown), gateway type.
    assert run(f.load_balancer("new", created=f.NOW - timedelta(days=3)), []) == []
    assert run(lb, None, (group,)) == []
    assert run(f.load_balancer("gwy", lb_type="gateway", created=OLD), []) == []
    # An ALB with no target group answering requests serves redirects or fixed responses.
    assert run(lb, [100.0] * 336) == []
    # A Lambda group with its function registered has somewhere to send requests.
    fn_group = f.target_group("fn", lb, "lambda", (f"arn:aws:lambda:{f.REGION}:{f.ACCOUNT}"
                                                  ":function:api",))
    assert run(lb, [100.0] * 336, (fn_group,)) == []


def test_a_load_balancer_priced_within_its_workloads_claims_no_saving_of_its_own() -> None:
    lb = f.load_balancer("web", created=OLD)
    group = f.target_group("web", lb)
    td = f.task_definition()
    svc = replace(f.service("orders", td), target_group_arns=(group.arn,))
    [finding] = run(lb, [], (group,), ecs_services=(svc,), task_definitions=(td,))
    assert finding.monthly_savings_usd is None
    assert finding.evidence["workloads_behind_it"] == 1
    assert "priced within the 1 workload(s) behind it" in finding.message


def test_failed_request_count_leaves_the_verdict_unknown() -> None:
    lb = f.load_balancer("web", created=OLD)
    query = balancer_query(lb, "RequestCount", "Sum")
    run_ = run_checks([UnusedLoadBalancer()], Inventory(load_balancers=(lb,)),
                      MetricStore({}, failed={query: "Throttling"}), f.NOW, 14, PriceBook())
    [finding] = run_.findings
    assert finding.status == "unknown" and finding.resource_arn == lb.arn
