"""Reports to render: the demo account's (`demo_report`, tests/conftest.py) and a small
hand-made one with every case a format must handle, including hostile text in names, tags and
messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from auditor.cost.bill import Billing, Reconciled
from auditor.cost.model import Line, Option
from auditor.cost.priced import Confidence, PricedWorkload
from auditor.findings import Category, Finding, Severity
from auditor.report.document import ErrorEntry, Report, Stats

ACCOUNT = "123456789012"
SCRIPT_TAG = "<script>document.body.setAttribute('data-pwned','script')</script>"
IMG_TAG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app-role"
FN_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:checkout:live"
SERVICE_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/orders"
HOSTILE_TAGS = {
    "owner": SCRIPT_TAG,
    "cost-centre": "=HYPERLINK(\"http://evil.example/\",\"click\")",
    "notify": "@security-team [docs](http://evil.example/) | not a column",
    "note": "line one\nline two",
}


def finding(check_id: str, arn: str, severity: Severity, **changes: Any) -> Finding:
    values: dict[str, Any] = {
        "check_id": check_id, "title": f"Title of {check_id}", "severity": severity,
        "category": Category.COST, "status": "fail", "resource_arn": arn,
        "resource_type": "iam-role", "account": ACCOUNT, "region": "us-east-1",
        "message": f"{check_id} saw something on {arn}.", "evidence": {"threshold": 1},
        "remediation": "Fix it.",
    }
    values.update(changes)
    return Finding(**values)


def workload(name: str, platform: str, options: list[Option]) -> PricedWorkload:
    """Running on `platform` as priced by its option of that platform."""
    current = next(o for o in options if o.platform == platform)
    cheapest = min(options, key=lambda o: o.monthly_usd)
    return PricedWorkload(
        arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}", name=name,
        platform=platform, account=ACCOUNT, region="us-east-1",
        usage={"requests_per_month": 10_000_000, "avg_duration_ms": 100, "memory_mb": 512},
        current_monthly_usd=current.monthly_usd, current=current, options=tuple(options),
        recommended_platform=cheapest.platform,
        monthly_savings_usd=round(current.monthly_usd - cheapest.monthly_usd, 2),
        confidence=Confidence.HIGH,
        assumptions=("peak = 3 x average", f"{SCRIPT_TAG} as text"))


def option(platform: str, *lines: tuple[str, float], blockers: tuple[str, ...] = ()) -> Option:
    return Option(platform, tuple(Line(name, usd, f"${usd:,.2f}") for name, usd in lines),
                  blockers)


def hostile_report() -> Report:
    """Every kind of finding (fail, unknown, suppressed, expired note, baselined), errors,
    workloads, and account text that tries to break out of each format."""
    findings = (
        finding("iam.shared_role", ROLE_ARN, Severity.HIGH, category=Category.IAM,
                message=f"Role app-role {IMG_TAG} is shared | by two <b>workloads</b>.",
                evidence={"used_by": [SCRIPT_TAG], "threshold": 1}),
        finding("lambda.provisioned_concurrency_waste", FN_ARN, Severity.MEDIUM,
                resource_type="lambda-function", monthly_savings_usd=394.21,
                suppression_reason="suppression expired on 2026-01-31: load test"),
        finding("ecs.task_overprovisioned", SERVICE_ARN, Severity.MEDIUM, status="unknown",
                resource_type="ecs-service", message="-2+3 metrics failed to load."),
        finding("ecs.no_autoscaling", SERVICE_ARN, Severity.LOW, resource_type="ecs-service",
                suppressed=True, suppression_reason="team accepts it (until 2027-01-31)"),
        finding("network.single_az", SERVICE_ARN, Severity.INFO, resource_type="ecs-service",
                sub_key="subnet-1"),
    )
    return Report(
        generated_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        accounts=(ACCOUNT,), regions=("us-east-1",), lookback_days=14,
        findings=findings,
        errors=(ErrorEntry(ACCOUNT, "us-east-1", "cloudwatch", "GetMetricData", "Throttling",
                           f"Rate exceeded {SCRIPT_TAG}", ("ecs.task_overprovisioned",)),),
        stats=Stats(12, {"ecs:DescribeServices": 2}, 1.5, 9, 4),
        checks_run=tuple(sorted({f.check_id for f in findings})),
        pricing={"source": "embedded"},
        workloads=(
            workload("checkout", "lambda", [
                option("lambda", ("requests", 2.0), ("duration", 6.67), ("api_gateway", 10.0)),
                option("ecs-fargate", ("compute", 72.08), ("load_balancer", 21.2))]),
            workload("orders", "ecs-fargate", [
                option("ecs-fargate", ("compute", 720.8), ("load_balancer", 66.2)),
                option("lambda", ("requests", 100.0), ("duration", 333.34),
                       ("api_gateway", 500.0))]),
        ),
        resource_tags={ROLE_ARN: HOSTILE_TAGS,
                       FN_ARN: {"team": "payments"}},
        baselined=frozenset({findings[4].fingerprint}),
        billing=BILLING,
    )


BILLING = Billing(
    source="Cost Explorer GetCostAndUsage", start=date(2026, 11, 9), end=date(2026, 11, 23),
    calls=4,
    by_platform=(Reconciled(ACCOUNT, "us-east-1", "lambda", 8.15, 8.67, 1.0638),
                 Reconciled(ACCOUNT, "us-east-1", "ecs-fargate", 800.0, 720.8, 0.901),
                 Reconciled(ACCOUNT, "us-east-1", "ec2", 912.5, 0.0, 0.0)),
    effective_discount={"lambda": 0.0, "ecs-fargate": 0.12},
    # Notes say what the account holds; none of it may become markup.
    notes=(f"EC2 instance hours not in any node group or ECS cluster: $912.50/month in "
           f"{ACCOUNT}/us-east-1 {IMG_TAG}",))


@pytest.fixture
def hostile() -> Report:
    return hostile_report()
