"""ecs.task_overprovisioned: p99 of hourly Maximum CPU and peak memory, Fargate right-size."""

from __future__ import annotations

import pytest

from auditor.model import Inventory
from auditor.pricing.book import PriceBook
from checks.ecs import TaskOverprovisioned, service_metric
from tests import factories as f


def run(cpu: list[float], memory: list[float], cpu_units: int = 2048, memory_mib: int = 4096,
        desired: int = 2, **params: float) -> list:  # type: ignore[type-arg]
    td = f.task_definition(cpu=cpu_units, memory=memory_mib)
    svc = f.service("api", td, desired=desired)
    check = TaskOverprovisioned(params)
    series = {service_metric(svc, "CPUUtilization"): f.hourly(cpu),
              service_metric(svc, "MemoryUtilization"): f.hourly(memory)}
    inventory = Inventory(task_definitions=(td,), ecs_services=(svc,))
    assert set(check.metric_queries(inventory, f.context(check))) == set(series)
    return list(check.evaluate(inventory, f.context(check, series)))


@pytest.mark.fires("ecs.task_overprovisioned")
def test_oversized_service_gets_smallest_valid_size_and_exact_savings() -> None:
    [finding] = run(cpu=[10.0] * 336, memory=[20.0] * 336)
    # Peak use: 10% of 2048 units = 204.8 -> needs 292.6 units at 70%; 20% of 4096 MiB = 819.2
    # -> needs 1170.3 MiB. Cheapest valid size with both: 512 CPU / 2048 MiB.
    assert finding.evidence["recommended_size"] == {"cpu_units": 512, "memory_mib": 2048}
    prices = PriceBook()
    per_task = 730 * ((2 - 0.5) * prices.fargate_vcpu_hour + (4 - 2) * prices.fargate_gb_hour)
    assert finding.monthly_savings_usd == pytest.approx(round(2 * per_task, 2))
    assert finding.evidence["cpu_peak_percent"] == 10.0
    assert "p99" in finding.message and "$" in finding.message


def test_p99_ignores_a_single_spike_but_not_sustained_load() -> None:
    spiky = [10.0] * 335 + [95.0]
    assert run(cpu=spiky, memory=[20.0] * 336)  # one hot hour in 336 is above the p99 cut
    sustained = [10.0] * 300 + [60.0] * 36
    assert run(cpu=sustained, memory=[20.0] * 336) == []


@pytest.mark.quiet("ecs.task_overprovisioned")
def test_busy_memory_keeps_the_service_quiet() -> None:
    assert run(cpu=[10.0] * 336, memory=[55.0] * 336) == []


def test_too_little_data_is_not_judged() -> None:
    assert run(cpu=[10.0] * 10, memory=[20.0] * 10) == []


def test_already_smallest_size_is_not_flagged() -> None:
    assert run(cpu=[1.0] * 336, memory=[1.0] * 336, cpu_units=256, memory_mib=512) == []


def test_thresholds_are_configurable() -> None:
    assert run(cpu=[30.0] * 336, memory=[20.0] * 336, cpu_max_percent=25.0) == []
