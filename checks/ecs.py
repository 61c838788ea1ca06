"""ECS checks: service sizing, from configuration and hourly CloudWatch metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from auditor.check import Check, CheckContext, Param, series_or_none
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery, Statistic
from auditor.model import EcsService, Inventory, TaskDefinition
from auditor.pricing.fargate import FargateSize, cheapest_fitting


def service_metric(service: EcsService, metric: str, stat: Statistic = "Maximum") -> MetricQuery:
    return MetricQuery(
        service.account, service.region, "AWS/ECS", metric,
        (("ClusterName", service.cluster_name), ("ServiceName", service.name)), stat,
    )


def _fargate_sized(inv: Inventory, service: EcsService) -> TaskDefinition | None:
    task_definition = inv.task_definition(service.task_definition_arn)
    if (not service.on_fargate or task_definition is None or task_definition.cpu_units is None
            or task_definition.memory_mib is None):
        return None
    return task_definition


class TaskOverprovisioned(Check):
    id = "ecs.task_overprovisioned"
    title = "Fargate tasks sized well above their peak use"
    severity = Severity.MEDIUM
    category = Category.COST
    rationale = (
        "Fargate bills the vCPU and memory a task asks for, used or not. A service whose busiest "
        "hours stay far below its size pays for idle capacity every hour of the month."
    )
    remediation = (
        "Register a task definition revision with the recommended CPU and memory, deploy it, "
        "and watch CPUUtilization and MemoryUtilization for a week."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions", "cloudwatch.metrics"})
    subject_kinds = ("ecs-service",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "cpu_percentile": Param(99.0, "percentile of hourly Maximum CPUUtilization compared"),
        "cpu_max_percent": Param(40.0, "flag when that CPU percentile is below this"),
        "memory_max_percent": Param(50.0, "flag when the Maximum MemoryUtilization is below this"),
        "target_peak_percent": Param(70.0, "the recommended size keeps the peak at or below this"),
        "min_hours_of_data": Param(72, "hourly datapoints needed before judging"),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        for service in inventory.ecs_services:
            if _fargate_sized(inventory, service) is not None:
                yield service_metric(service, "CPUUtilization")
                yield service_metric(service, "MemoryUtilization")

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            task_definition = _fargate_sized(inventory, service)
            if task_definition is None or service.desired_count == 0:
                continue
            finding = self._judge(service, task_definition, ctx)
            if finding is not None:
                yield finding

    def _judge(self, service: EcsService, td: TaskDefinition, ctx: CheckContext
               ) -> Finding | None:
        assert td.cpu_units is not None and td.memory_mib is not None
        cpu = series_or_none(ctx, service_metric(service, "CPUUtilization"))
        memory = series_or_none(ctx, service_metric(service, "MemoryUtilization"))
        min_hours = ctx.number("min_hours_of_data")
        if cpu is None or memory is None or min(len(cpu), len(memory)) < min_hours:
            return None
        pct = ctx.number("cpu_percentile")
        cpu_peak = cpu.percentile(pct) or 0.0
        memory_peak = memory.maximum() or 0.0
        if cpu_peak >= ctx.number("cpu_max_percent") or (
                memory_peak >= ctx.number("memory_max_percent")):
            return None
        target = ctx.number("target_peak_percent") / 100
        cpu_needed = td.cpu_units * cpu_peak / 100 / target
        memory_needed = td.memory_mib * memory_peak / 100 / target
        arch = td.cpu_architecture

        def month(size: FargateSize) -> float:
            return ctx.prices.fargate_task_month(size.vcpu, size.memory_gb, arch)

        current = FargateSize(td.cpu_units, td.memory_mib)
        best = cheapest_fitting(cpu_needed, memory_needed, month)
        if best is None or month(best) >= month(current):
            return None
        tasks = max(service.desired_count, service.running_count)
        saving = (month(current) - month(best)) * tasks
        return self.finding(
            service,
            f"ECS service {service.name} runs {tasks} task(s) of {current}; over "
            f"{ctx.lookback_days} days the p{pct:g} of hourly peak CPU was {cpu_peak:.1f}% "
            f"(threshold {ctx.number('cpu_max_percent'):g}%) and peak memory "
            f"{memory_peak:.1f}% (threshold {ctx.number('memory_max_percent'):g}%); "
            f"{best} would keep the peak under {target:.0%} and save "
            f"${saving:,.2f}/month.",
            {
                "cluster": service.cluster_name,
                "task_definition": td.arn,
                "current_size": {"cpu_units": current.cpu_units, "memory_mib": current.memory_mib},
                "recommended_size": {"cpu_units": best.cpu_units, "memory_mib": best.memory_mib},
                "cpu_percentile": pct,
                "cpu_peak_percent": round(cpu_peak, 2),
                "memory_peak_percent": round(memory_peak, 2),
                "thresholds": {k: ctx.params[k] for k in self.parameters},
                "hourly_datapoints": {"cpu": len(cpu), "memory": len(memory)},
                "tasks": tasks,
                "architecture": arch,
                "monthly_cost_per_task_usd": {"current": round(month(current), 4),
                                              "recommended": round(month(best), 4)},
                "arithmetic": (
                    f"{tasks} task(s) x 730 h x [({current.vcpu:g}-{best.vcpu:g}) vCPU x "
                    f"vCPU-hour price + ({current.memory_gb:g}-{best.memory_gb:g}) GB x "
                    "GB-hour price]"
                ),
                "prices": ctx.prices.describe(),
            },
            monthly_savings_usd=saving,
        )
