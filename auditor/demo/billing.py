"""The demo account's bill, served by moto's Cost Explorer (`--bill` is on in the demo).

moto 5.2 implements `GetCostAndUsage` but tracks no cost: it answers what was configured
through its `/moto-api/static/ce/cost-and-usage-results` API (in process,
`moto_api_backend.set_ce_cost_usage`), taking one configured answer per distinct request.
`DemoBill.hook`, a botocore `before-call` handler, configures the answer to each request just
before moto reads it: the account's daily costs (`DEMO_BILL`) in the request's window, filtered
and grouped as asked. Any window and any regions get the bill a real account would show, and
moto serves it through the real protocol.

The bill is the account's usage at list prices less a 5% enterprise discount, so the model
(list prices, from CloudWatch usage) explains Lambda, Fargate and EKS's control planes well,
and it shows what the model cannot see: three CI runners and a bastion on EC2 outside any node
group, EKS Fargate pods, API Gateway traffic the model knows no function behind.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from moto.ce.models import ce_backends
from moto.moto_api._internal.models import moto_api_backend

from auditor.demo.emulator import DEFAULT_ACCOUNT

DISCOUNT = 0.05
"""Private pricing on everything: NetAmortizedCost is UnblendedCost less this."""


@dataclass(frozen=True)
class DailyCost:
    """One usage type's cost and quantity on each day of the bill."""

    region: str
    service: str
    usage_type: str
    unblended_usd: float
    quantity: float


def _line(service: str, region: str = "us-east-1") -> Callable[[str, float, float], DailyCost]:
    return lambda usage_type, usd, quantity: DailyCost(region, service, usage_type, usd,
                                                       quantity)


_LAMBDA = _line("AWS Lambda")
_LAMBDA_EU = _line("AWS Lambda", "eu-west-1")
_ECS = _line("Amazon Elastic Container Service")
_EKS = _line("Amazon Elastic Container Service for Kubernetes")
_EC2 = _line("Amazon Elastic Compute Cloud - Compute")
_ELB = _line("Amazon Elastic Load Balancing")
_API = _line("Amazon API Gateway")
_API_EU = _line("Amazon API Gateway", "eu-west-1")

DEMO_BILL = (
    _LAMBDA("USE1-Request", 7.70, 38_500_000),
    _LAMBDA("USE1-Lambda-GB-Second", 10.60, 636_000),
    _LAMBDA("USE1-Lambda-GB-Second-ARM", 12.78, 958_500),
    _LAMBDA("USE1-Lambda-Provisioned-Concurrency-ARM", 16.50, 4_950_000),
    _LAMBDA("USE1-Lambda-Provisioned-GB-Second-ARM", 4.30, 552_860),
    _LAMBDA_EU("EUW1-Request", 0.088, 440_000),
    _LAMBDA_EU("EUW1-Lambda-GB-Second-ARM", 0.044, 3_300),
    # Seven services' tasks, around the clock.
    _ECS("USE1-Fargate-vCPU-Hours:perCPU", 11.86, 293),
    _ECS("USE1-Fargate-GB-Hours", 2.60, 585),
    _ECS("USE1-DataTransfer-Regional-Bytes", 0.12, 12),
    # Two control planes, one in extended support, and the "batch" Fargate profile's pods.
    _EKS("USE1-AmazonEKS-Hours:perCluster", 4.80, 48),
    _EKS("USE1-AmazonEKS-Hours:extendedSupport", 12.00, 24),
    _EKS("USE1-Fargate-vCPU-Hours:perCPU", 1.94, 48),
    _EKS("USE1-Fargate-GB-Hours", 0.43, 96),
    # The node groups' and Karpenter's nodes ...
    _EC2("BoxUsage:m6i.large", 4.61, 48),
    _EC2("SpotUsage:m6i.large", 1.92, 48),
    _EC2("SpotUsage:c6i.large", 0.84, 24),
    _EC2("BoxUsage:t3.medium", 1.00, 24),
    # ... and what no node group or ECS cluster holds: three CI runners and a bastion.
    _EC2("BoxUsage:m5.2xlarge", 27.65, 72),
    _EC2("BoxUsage:t3.small", 0.50, 24),
    _EC2("CPUCredits:t3", 0.06, 1.2),
    _ELB("USE1-LoadBalancerUsage", 1.08, 48),
    _ELB("USE1-LCUUsage", 0.36, 45),
    _API("USE1-ApiGatewayRequest", 0.90, 257_000),
    _API_EU("EUW1-ApiGatewayHttpRequest", 0.46, 460_000),
)


class DemoBill:
    """The account's daily costs over `days`, served through moto's Cost Explorer."""

    def __init__(self, days: Sequence[date] = (), costs: Sequence[DailyCost] = DEMO_BILL,
                 account_id: str = DEFAULT_ACCOUNT) -> None:
        self.days = tuple(days)
        self.costs = tuple(costs)
        self.account_id = account_id

    @classmethod
    def seeded(cls, now: datetime, lookback: timedelta) -> DemoBill:
        """The bill of every day the seeded metrics touch, up to yesterday."""
        first, today = (now - lookback).date(), now.date()
        return cls([first + timedelta(days=n) for n in range((today - first).days)])

    @property
    def hooks(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        return (("before-call.ce.GetCostAndUsage", self.hook),)

    def hook(self, params: Mapping[str, Any], **_: Any) -> None:
        """botocore `before-call` handler: configure moto's answer to this request. moto
        keeps an answer per distinct request and hands the next configured one to each new
        request, so one a repeated request left unread is dropped first. The scan asks
        Cost Explorer one request at a time per account, which keeps the pair in step."""
        answer = self.answer(json.loads(params["body"]))
        ce_backends[self.account_id]["global"].cost_usage_results_queue.clear()
        moto_api_backend.set_ce_cost_usage(result=answer, account_id=self.account_id)

    def answer(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """`GetCostAndUsage`'s answer (DAILY, grouped by DIMENSIONs, filtered by `And` of
        `Dimensions`, the shapes the scan asks in)."""
        period = request["TimePeriod"]
        start, end = date.fromisoformat(period["Start"]), date.fromisoformat(period["End"])
        keys = [group["Key"] for group in request.get("GroupBy", [])]
        wanted = _filter(request.get("Filter"))
        costs = [cost for cost in self.costs if all(
            _dimension(cost, key) in values for key, values in wanted.items())]
        last = max(self.days, default=None)
        results = []
        for day in (d for d in self.days if start <= d < end):
            groups: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(
                float))
            for cost in costs:
                sums = groups[tuple(_dimension(cost, key) for key in keys)]
                sums["NetAmortizedCost"] += cost.unblended_usd * (1 - DISCOUNT)
                sums["UnblendedCost"] += cost.unblended_usd
                sums["UsageQuantity"] += cost.quantity
            results.append({
                "TimePeriod": {"Start": day.isoformat(),
                               "End": (day + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [{"Keys": list(group), "Metrics": {
                    metric: {"Amount": f"{sums[metric]:.10f}",
                             "Unit": "N/A" if metric == "UsageQuantity" else "USD"}
                    for metric in request["Metrics"]}} for group, sums in groups.items()],
                # Cost Explorer's latest day is still an estimate.
                "Estimated": day == last,
            })
        return {"GroupDefinitions": [{"Type": "DIMENSION", "Key": key} for key in keys],
                "ResultsByTime": results, "DimensionValueAttributes": []}


def _filter(expression: Mapping[str, Any] | None) -> dict[str, set[str]]:
    """Dimension -> values allowed, from `Dimensions` or an `And` of them."""
    if not expression:
        return {}
    parts = expression.get("And", [expression])
    if any(set(part) != {"Dimensions"} for part in parts):
        raise ValueError(f"the demo's Cost Explorer filters by Dimensions only: {expression}")
    return {part["Dimensions"]["Key"]: set(part["Dimensions"]["Values"]) for part in parts}


def _dimension(cost: DailyCost, key: str) -> str:
    return {"SERVICE": cost.service, "REGION": cost.region, "USAGE_TYPE": cost.usage_type}[key]
