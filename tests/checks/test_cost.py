"""cost.migration_opportunity over hand-built inventories: it reports what moving saves
beyond the best the current platform can do, above both thresholds."""

from __future__ import annotations

import pytest

from auditor.cost.usage import workload_queries
from auditor.model import Inventory
from checks.cost import MigrationOpportunity
from tests.cost.test_workloads import ROLE, lambda_series, service_series
from tests.factories import context, function, service, task_definition


def evaluate(inventory: Inventory, series: dict, **params: float) -> list:  # type: ignore[type-arg]
    check = MigrationOpportunity(params)
    assert set(workload_queries(inventory)) >= set(series)
    return list(check.evaluate(inventory, context(check, series, inventory=inventory)))


@pytest.mark.fires("cost.migration_opportunity")
def test_steady_volume_on_lambda_is_reported_with_the_saving_beyond_arm64() -> None:
    fn = function("ingest", ROLE, memory=256)
    [finding] = evaluate(Inventory(lambda_functions=(fn,)), lambda_series(fn, 200, 120))
    # lambda-arm $315.36 (what lambda.x86_arm64_candidate leads to) - ecs-fargate-arm $116.14.
    assert finding.monthly_savings_usd == 199.22
    assert finding.evidence["recommended"]["platform"] == "ecs-fargate-arm"
    assert finding.evidence["best_in_place"] == {"platform": "lambda-arm",
                                                 "monthly_usd": 315.36}
    assert "lambda-arm" in finding.message and "$367.92" in finding.message
    assert finding.evidence["assumptions"]


@pytest.mark.quiet("cost.migration_opportunity")
@pytest.mark.parametrize(("threshold", "percent"), [(300.0, 20.0), (20.0, 90.0)])
def test_a_saving_under_either_threshold_is_not_reported(threshold: float,
                                                         percent: float) -> None:
    fn = function("ingest", ROLE, memory=256)
    assert evaluate(Inventory(lambda_functions=(fn,)), lambda_series(fn, 200, 120),
                    min_monthly_savings_usd=threshold, min_savings_percent=percent) == []


@pytest.mark.quiet("cost.migration_opportunity")
def test_a_trickle_on_lambda_and_a_busy_worker_stay_put() -> None:
    fn = function("hook", ROLE, memory=512)
    td = task_definition("worker", cpu=1024, memory=2048)
    worker = service("worker", td)
    inventory = Inventory(lambda_functions=(fn,), ecs_services=(worker,), task_definitions=(td,))
    assert evaluate(inventory, {**lambda_series(fn, 0.5, 200),
                                **service_series(worker, 65, 60)}) == []
