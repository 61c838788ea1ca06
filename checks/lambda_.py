"""Lambda checks."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import ClassVar

from auditor.check import Check, CheckContext, Param, series_or_none
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery
from auditor.model import Inventory, LambdaFunction, ProvisionedConcurrency
from auditor.pricing.book import HOURS_PER_MONTH


def provisioned_utilization(config: ProvisionedConcurrency) -> MetricQuery:
    return MetricQuery(
        config.account, config.region, "AWS/Lambda", "ProvisionedConcurrencyUtilization",
        (("FunctionName", config.function_name),
         ("Resource", f"{config.function_name}:{config.qualifier}")),
        "Maximum",
    )


class ProvisionedConcurrencyWaste(Check):
    id = "lambda.provisioned_concurrency_waste"
    title = "Provisioned concurrency mostly unused"
    severity = Severity.MEDIUM
    category = Category.COST
    rationale = (
        "Provisioned concurrency is billed for every second it is configured, busy or not. When "
        "even the busy hours use a small share of it, most of that charge buys nothing."
    )
    remediation = (
        "Lower the provisioned concurrency to what the busy hours use (or schedule it with "
        "Application Auto Scaling for the hours that need it), or remove it if cold starts "
        "are acceptable."
    )
    requires = frozenset({"lambda.functions", "lambda.provisioned_concurrency",
                          "cloudwatch.metrics"})
    subject_kinds = ("lambda-provisioned-concurrency",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "percentile": Param(95.0, "percentile of hourly Maximum utilisation compared"),
        "max_utilization": Param(0.3, "flag when that percentile is below this (0-1)"),
        "min_hours_of_data": Param(72, "hourly datapoints needed before judging"),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        return (provisioned_utilization(c) for c in inventory.provisioned_concurrency)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for config in inventory.provisioned_concurrency:
            function = inventory.get(config.function_arn)
            if not isinstance(function, LambdaFunction) or config.allocated <= 0:
                continue
            finding = self._judge(config, function, ctx)
            if finding is not None:
                yield finding

    def _judge(self, config: ProvisionedConcurrency, function: LambdaFunction,
               ctx: CheckContext) -> Finding | None:
        series = series_or_none(ctx, provisioned_utilization(config))
        if series is None or len(series) < ctx.number("min_hours_of_data"):
            return None
        pct = ctx.number("percentile")
        busy = series.percentile(pct) or 0.0
        if busy >= ctx.number("max_utilization"):
            return None
        # Keep what the busy hours used; the rest is idle in every hour of the month.
        keep = max(1, math.ceil(config.allocated * busy))
        unused = config.allocated - keep
        memory_gb = function.memory_mb / 1024
        price = ctx.prices.provisioned_gb_s(function.architecture)
        unused_gb_s = unused * memory_gb * HOURS_PER_MONTH * 3600
        saving = unused_gb_s * price
        return self.finding(
            config,
            f"{function.name}:{config.qualifier} keeps {config.allocated} environments "
            f"provisioned, but the p{pct:g} of hourly peak utilisation over "
            f"{ctx.lookback_days} days was {busy:.0%} (threshold "
            f"{ctx.number('max_utilization'):.0%}); {unused} of them sit idle, "
            f"${saving:,.2f}/month.",
            {
                "function": function.arn,
                "qualifier": config.qualifier,
                "allocated": config.allocated,
                "utilization_percentile": pct,
                "utilization_at_percentile": round(busy, 4),
                "peak_utilization": round(series.maximum() or 0.0, 4),
                "hourly_datapoints": len(series),
                "recommended_provisioned": keep,
                "unused_environments": unused,
                "memory_mb": function.memory_mb,
                "architecture": function.architecture,
                "price_per_gb_s": price,
                "arithmetic": (f"{unused} x {memory_gb:g} GB x {HOURS_PER_MONTH:g} h x 3600 s "
                               f"x ${price}/GB-s = ${saving:,.2f}"),
                "prices": ctx.prices.describe(),
            },
            monthly_savings_usd=saving,
        )
