"""lambda.provisioned_concurrency_waste: p95 of hourly Maximum utilisation below 0.3."""

from __future__ import annotations

import pytest

from auditor.model import Inventory
from auditor.pricing.book import PriceBook
from checks.lambda_ import ProvisionedConcurrencyWaste, provisioned_utilization
from tests import factories as f


def run(values: list[float], allocated: int = 50, memory: int = 1024,
        arch: str = "x86_64") -> list:  # type: ignore[type-arg]
    fn = f.function("checkout", "arn:aws:iam::123456789012:role/r", memory=memory, arch=arch)
    config = f.provisioned(fn, allocated=allocated)
    check = ProvisionedConcurrencyWaste()
    inventory = Inventory(lambda_functions=(fn,), provisioned_concurrency=(config,))
    series = {provisioned_utilization(config): f.hourly(values)}
    return list(check.evaluate(inventory, f.context(check, series)))


@pytest.mark.fires("lambda.provisioned_concurrency_waste")
def test_idle_provisioned_concurrency_fails_with_savings_from_unused_gb_seconds() -> None:
    [finding] = run([0.1] * 336, allocated=50, memory=1024)
    assert finding.resource_arn.endswith(":function:checkout:live")
    assert finding.evidence["recommended_provisioned"] == 5
    assert finding.evidence["unused_environments"] == 45
    expected = 45 * 1.0 * 730 * 3600 * PriceBook().lambda_provisioned_gb_s
    assert finding.monthly_savings_usd == pytest.approx(round(expected, 2))


def test_arm64_uses_the_arm_provisioned_price() -> None:
    [finding] = run([0.1] * 336, arch="arm64")
    assert finding.evidence["price_per_gb_s"] == PriceBook().lambda_arm_provisioned_gb_s


@pytest.mark.quiet("lambda.provisioned_concurrency_waste")
def test_busy_p95_passes_even_with_quiet_hours() -> None:
    assert run([0.05] * 300 + [0.9] * 36) == []


def test_no_metrics_is_not_judged() -> None:
    assert run([]) == []
