"""`auditor scan --demo`: every workload priced, and the planted moves worked out by hand.

The scan (`demo_report`) runs at a time on the hour, so the 14-day window holds exactly the 336
seeded hours: usage scales to a 730-hour month by 730/336, and the steady workloads' figures
are exact.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import jsonschema
import pytest

from auditor.cost.priced import KIND_FAMILIES
from auditor.demo import DemoAccount
from auditor.report.document import Report, to_dict
from auditor.report.json_ import schema
from tests.shared_demo import SharedDemo

HOURS = 730


@pytest.fixture(scope="module")
def demo(shared_demo: SharedDemo, demo_report: Report
         ) -> tuple[Report, DemoAccount, dict[str, Any]]:
    now = shared_demo.account.now
    assert now == now.replace(minute=0, second=0, microsecond=0), "the premise of the figures"
    return demo_report, shared_demo.account, to_dict(demo_report)


def workload(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(w for w in document["workloads"] if w["name"] == name)
    return found


def option(entry: dict[str, Any], platform: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in entry["options"] if o["platform"] == platform)
    return found


def findings(report: Report, check_id: str) -> dict[str, Any]:
    return {f.resource_arn: f for f in report.findings if f.check_id == check_id}


def test_every_workload_is_priced_with_options_a_recommendation_and_its_basis(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    report, _, document = demo
    validator = jsonschema.Draft202012Validator(schema())
    validator.validate(document)
    names = {w["name"] for w in document["workloads"]}
    assert {"clickstream-collector", "events-ingest", "partner-webhooks", "orders-api",
            "platform", "tools", "edge-auth"} <= names
    assert len(document["workloads"]) == document["summary"]["workloads"]
    for entry in document["workloads"]:
        assert len(entry["options"]) >= 3, entry["name"]
        assert entry["recommended_platform"], entry["name"]
        assert entry["monthly_savings_usd"] >= 0
        assert entry["confidence"] in ("high", "medium", "low")
        assert entry["assumptions"] and any("730-hour month" in a for a in entry["assumptions"])
        if entry["savings"].get("idle"):
            # Idle: the whole cost is the saving, and nothing else is counted.
            assert entry["savings"] == {"idle": entry["current_monthly_usd"]}
            continue
        recommended = (option(entry, entry["recommended_platform"])
                       if entry["monthly_savings_usd"] else None)
        if recommended is not None:
            assert recommended["feasible"]
            assert recommended["monthly_usd"] == pytest.approx(
                entry["current_monthly_usd"] - entry["monthly_savings_usd"], abs=0.005)
        for entry_option in entry["options"]:
            assert set(entry_option["arithmetic"]) == set(entry_option["breakdown"])
            assert entry_option["monthly_usd"] == pytest.approx(
                sum(entry_option["breakdown"].values()), abs=0.005)
    # Metric-backed workloads are high confidence; EKS without Container Insights is low.
    assert workload(document, "clickstream-collector")["confidence"] == "high"
    assert workload(document, "platform")["confidence"] == "low"
    assert report.errors == ()


def test_the_steady_high_volume_lambda_moves_to_fargate(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    report, account, document = demo
    entry = workload(document, "clickstream-collector")
    # 150 requests a second, 100 ms, 512 MB arm64, behind a function URL.
    requests = 150 * 3600 * HOURS                                  # 394,200,000 a month
    assert entry["usage"]["requests_per_month"] == requests
    assert entry["usage"]["front_door"] == "function-url"
    lambda_requests = round(requests / 1e6 * 0.20, 2)              # $78.84
    lambda_duration = round(requests * 0.1 * 0.5 * 0.0000133334, 2)  # 19.71M GB-s: $262.80
    assert entry["current"]["breakdown"] == {"requests": 78.84, "duration": 262.80,
                                             "function_url": 0.0}
    assert entry["current_monthly_usd"] == lambda_requests + lambda_duration == 341.64
    # Fargate: peak 300 req/s (30 concurrent at 100 ms) / 500 req/s per 1-vCPU task = 1,
    # at least 2; a new ALB in place of the function URL: 10 KB x 150 req/s = 5.4 GB/h.
    arm = option(entry, "ecs-fargate-arm")
    compute = round(2 * HOURS * (1 * 0.03238 + 2 * 0.00356), 2)    # $57.67
    alb = round(HOURS * 0.0225 + HOURS * 5.4 * 0.008, 2)          # $47.96
    assert arm["shape"]["tasks"] == 2 and arm["shape"]["vcpu"] == 1
    assert arm["breakdown"] == {"compute": compute, "load_balancer": alb}
    assert entry["recommended_platform"] == "ecs-fargate-arm"
    assert entry["monthly_savings_usd"] == round(341.64 - (compute + alb), 2) == 236.01
    finding = findings(report, "cost.migration_opportunity")[account.arns[
        "lambda.function.clickstream-collector"]]
    assert finding.monthly_savings_usd == 236.01
    assert "ecs-fargate-arm" in finding.message and "$341.64" in finding.message


def test_the_low_traffic_fargate_service_moves_to_lambda(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    report, account, document = demo
    entry = workload(document, "partner-webhooks")
    # 720 requests an hour at 80 ms through its own ALB, which used 0.05 LCU each hour.
    assert entry["usage"]["requests_per_month"] == 720 * HOURS  # 525,600
    assert entry["usage"]["avg_duration_ms"] == 80.0
    assert entry["usage"]["load_balancers"] == ["partner-webhooks"]
    alb = round(HOURS * 0.0225 + HOURS * 0.05 * 0.008, 2)         # $16.72
    tasks = round(2 * HOURS * (0.5 * 0.04048 + 1 * 0.004445), 2)  # $36.04
    assert entry["current"]["breakdown"] == {"compute": tasks, "load_balancer": alb}
    assert entry["current_monthly_usd"] == 52.76
    # On Lambda behind the same ALB: 1,024 MB (the task's memory) for 80 ms.
    lam = option(entry, "lambda-arm")
    requests = round(525_600 / 1e6 * 0.20, 2)                     # $0.11
    duration = round(525_600 * 0.08 * 1.0 * 0.0000133334, 2)      # 42,048 GB-s: $0.56
    assert lam["breakdown"] == {"requests": requests, "duration": duration,
                                "load_balancer": alb}
    assert entry["recommended_platform"] == "lambda-arm"
    assert entry["monthly_savings_usd"] == round(52.76 - (0.11 + 0.56 + 16.72), 2) == 35.37
    # The finding claims only what moving adds to the best it could do on Fargate (ARM at
    # the same size, its peaks leaving no smaller size: 60% CPU, 65% memory).
    in_place = option(entry, "ecs-fargate-arm")["monthly_usd"]
    assert in_place == round(2 * HOURS * (0.5 * 0.03238 + 1 * 0.00356) + 1e-9, 2) + alb
    assert entry["migration_savings_usd"] == round(in_place - 17.39, 2) == 28.17
    finding = findings(report, "cost.migration_opportunity")[account.arns[
        "ecs.service.partner-webhooks"]]
    assert finding.monthly_savings_usd == 28.17
    assert finding.evidence["best_in_place"] == {"platform": "ecs-fargate-arm",
                                                 "monthly_usd": in_place}


def test_api_gateway_front_doors_and_spot_nodes_are_priced(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    _, _, document = demo
    # edge-auth sits behind an HTTP API (in eu-west-1), notify-sms behind a REST API: each
    # invocation is one API request, at $1.00/M and $3.50/M on top of Lambda's own lines.
    for name, door, per_million, kind in (("edge-auth", "apigw-http", 1.00, "HTTP API"),
                                          ("notify-sms", "apigw-rest", 3.50, "REST API")):
        entry = workload(document, name)
        requests = entry["usage"]["requests_per_month"]
        assert entry["usage"]["front_door"] == door
        assert entry["current"]["breakdown"]["api_gateway"] == pytest.approx(
            requests / 1e6 * per_million, abs=0.01)
        assert entry["current"]["arithmetic"]["api_gateway"] == (
            f"{requests:,} x ${per_million:.2f}/M ({kind})")
        # Containers would sit behind an ALB instead of the API.
        assert "api_gateway" not in option(entry, "ecs-fargate-arm")["breakdown"]
    # platform's nodes: general, on demand, 2 x m6i.large x 730 h x $0.096 = $140.16; spot,
    # 2 x m6i.large x 730 h x $0.0402 (the mean of its subnets' zones, us-east-1a $0.0392
    # and us-east-1b $0.0412) = $58.692; a Karpenter node, c6i.large on Spot in us-east-1b,
    # 730 h x $0.0362 = $26.426. $225.278 in all, beside the $438.00 control plane.
    platform = workload(document, "platform")
    assert platform["current"]["breakdown"] == {"control_plane": 438.0, "nodes": 225.28}
    assert platform["current_monthly_usd"] == 663.28
    assert (platform["usage"]["nodes"], platform["usage"]["other_nodes"]) == (
        5, {"karpenter": 1})
    # On standard support it would cost $73.00 + $225.28, less than 5 Fargate tasks of a
    # node's size (2 vCPU, 8 GB; ARM: 5 x 730 h x $0.09324 = $340.33): it stays put.
    assert option(platform, "eks")["monthly_usd"] == 298.28
    assert option(platform, "ecs-fargate-arm")["monthly_usd"] == 340.33
    # general's 2 x m6i.large on m6g.large: 2 x 730 h x ($0.096 - $0.077) = $27.74.
    assert platform["savings"] == {"extended_support": 365.0, "arm64": 27.74}


def test_cost_checks_and_workloads_agree(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    report, account, document = demo
    # Right-sizing: the check's recommended size and saving are the workload's option's.
    reporting = workload(document, "reporting")
    [finding] = findings(report, "ecs.task_overprovisioned").values()
    fargate = option(reporting, "ecs-fargate")
    size = finding.evidence["recommended_size"]
    assert (fargate["shape"]["vcpu"], fargate["shape"]["memory_gb"]) == (
        size["cpu_units"] / 1024, size["memory_mib"] / 1024)
    assert finding.monthly_savings_usd == pytest.approx(
        reporting["current_monthly_usd"] - fargate["monthly_usd"], abs=0.01)
    # Extended support: the EKS check's saving is the workload's current control plane less
    # the same cluster on standard support.
    platform = workload(document, "platform")
    extended = findings(report, "eks.extended_support")[account.arns["eks.cluster.platform"]]
    assert extended.monthly_savings_usd == pytest.approx(
        platform["current_monthly_usd"] - option(platform, "eks")["monthly_usd"], abs=0.01)
    assert platform["current"]["breakdown"]["control_plane"] == 438.0
    # Findings never claim more than the workload saves in all.
    by_arn = {w["arn"]: w for w in document["workloads"]}
    for arn, finding in findings(report, "cost.migration_opportunity").items():
        assert finding.monthly_savings_usd <= by_arn[arn]["monthly_savings_usd"]


def test_findings_never_promise_back_more_than_a_workload_costs_and_one_total(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    report, account, document = demo
    claimed: dict[str, float] = defaultdict(float)
    kinds: dict[str, set[str]] = defaultdict(set)
    elsewhere = 0.0
    by_arn = {w["arn"]: w for w in document["workloads"]}
    for f in report.findings:
        if f.status == "fail" and f.monthly_savings_usd:
            if f.resource_type not in KIND_FAMILIES:
                # A NAT gateway's, a load balancer's or a subnet's own cost: no workload's.
                elsewhere += f.monthly_savings_usd
                continue
            # A provisioned-concurrency configuration's saving is its function's, a node
            # group's its cluster's.
            arn = f.resource_arn if f.resource_arn in by_arn else f.evidence.get(
                "function", f.evidence.get("cluster_arn"))
            claimed[arn] += f.monthly_savings_usd
            assert f.savings_kind not in kinds[arn], f"{f.check_id} counted twice on {arn}"
            kinds[arn].add(str(f.savings_kind))
            assert f.monthly_savings_usd <= by_arn[arn]["savings"][f.savings_kind] + 0.01
    for arn, total in claimed.items():
        assert total <= by_arn[arn]["current_monthly_usd"] + 0.01, arn
    # The small EKS cluster: $103.37 a month, once claimed $73.00 + $45.70 = $118.70.
    tools = account.arns["eks.cluster.tools"]
    assert claimed[tools] <= by_arn[tools]["current_monthly_usd"]
    # One savings total in the summary, equal to the sum of its breakdown by kind.
    summary = document["summary"]
    assert "monthly_savings_usd" not in summary["costs"]
    assert summary["total_monthly_savings_usd"] == pytest.approx(
        sum(summary["savings_by_kind"].values()), abs=0.005)
    assert summary["total_monthly_savings_usd"] == pytest.approx(
        sum(claimed.values()) + elsewhere, abs=0.01)
    assert set(summary["savings_by_kind"]) <= {
        "idle", "right_size", "arm64", "provisioned_concurrency", "extended_support",
        "migration", "data_transfer"}


def test_report_totals_by_platform_and_scope(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    _, _, document = demo
    costs = document["summary"]["costs"]
    workloads = document["workloads"]
    assert costs["current_monthly_usd"] == pytest.approx(
        sum(w["current_monthly_usd"] for w in workloads), abs=0.01)
    assert costs["current_monthly_usd"] == pytest.approx(
        document["summary"]["total_current_monthly_usd"], abs=0.01)
    assert set(costs["by_platform"]) == {"lambda", "ecs-fargate", "eks"}
    assert sum(p["workloads"] for p in costs["by_platform"].values()) == len(workloads)
    scopes = {(s["account"], s["region"]): s for s in costs["by_account_region"]}
    assert set(scopes) == {("123456789012", "us-east-1"), ("123456789012", "eu-west-1")}
    assert scopes[("123456789012", "eu-west-1")]["workloads"] == 1


def test_the_scan_uses_embedded_prices_and_never_the_price_list(
        demo: tuple[Report, DemoAccount, dict[str, Any]]) -> None:
    report, _, document = demo
    assert not any(op.startswith("pricing:") for op in report.stats.api_calls_by_operation)
    assert document["pricing"]["source"] == "embedded AWS list prices, us-east-1, on-demand"
    assert document["pricing"]["free_tier"] == "off"
    # The eu-west-1 function is priced for its region, and says how.
    edge = workload(document, "edge-auth")
    assert any("same list prices as us-east-1" in a for a in edge["assumptions"])
