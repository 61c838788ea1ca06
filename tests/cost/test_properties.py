"""Property tests: the cost model is sane for any usage, not only the examples.

Fixed seed (derandomize) and a small budget, so the suite stays fast and repeatable."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.cost.model import FRONT_DOORS, Assumptions
from auditor.cost.scenario import Scenario, estimate, options_at
from auditor.cost.workloads import estimate_workloads
from auditor.engine import Registry, run_checks
from auditor.metrics import MetricStore, provisioned_query
from auditor.model import Inventory
from auditor.pricing.book import PriceBook
from tests.cost.test_workloads import lambda_series, service_series
from tests.factories import NOW, function, hourly, provisioned, service, task_definition

# No clock: neither a per-example deadline nor the too-slow check on generating examples, both
# of which a busy machine trips.
FAST = settings(max_examples=40, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SIZES = [(0.25, 0.5), (0.5, 1), (1, 2), (1, 4), (2, 4), (2, 8), (4, 8), (4, 16)]

scenarios = st.builds(
    Scenario,
    requests_per_month=st.floats(0, 5e9),
    avg_duration_ms=st.floats(1, 60_000),
    memory_mb=st.sampled_from([128, 256, 512, 1024, 1769, 3008, 10_240]),
    arch=st.sampled_from(["x86_64", "arm64"]),
    front_door=st.sampled_from(list(FRONT_DOORS)),
    tasks=st.one_of(st.none(), st.integers(1, 50)),
    alb_monthly_usd=st.one_of(st.none(), st.floats(0, 500)),
    assumptions=st.builds(Assumptions, peak_factor=st.floats(1, 10)),
).flatmap(lambda s: st.sampled_from(SIZES).map(
    lambda size: replace(s, vcpu=size[0], memory_gb=size[1])))


def costs(s: Scenario) -> dict[str, float]:
    return {o.platform: o.monthly_usd for o in options_at(s, s.traffic())}


def no_cheaper(before: dict[str, float], after: dict[str, float]) -> bool:
    return all(after[p] >= before[p] for p in before)


@FAST
@given(scenarios)
def test_no_cost_is_ever_negative(s: Scenario) -> None:
    for option in options_at(s, s.traffic()):
        assert option.monthly_usd >= 0
        assert all(line.usd >= 0 for line in option.lines)


@FAST
@given(scenarios, st.floats(1, 10))
def test_more_requests_never_cost_less(s: Scenario, factor: float) -> None:
    assert no_cheaper(costs(s), costs(replace(s, requests_per_month=s.requests_per_month
                                              * factor)))


@FAST
@given(scenarios, st.floats(1, 10))
def test_longer_requests_never_cost_less(s: Scenario, factor: float) -> None:
    assert no_cheaper(costs(s), costs(replace(s, avg_duration_ms=min(
        s.avg_duration_ms * factor, 900_000))))


@FAST
@given(scenarios, st.sampled_from([128, 512, 2048, 10_240]))
def test_more_memory_never_costs_less(s: Scenario, extra: int) -> None:
    before = costs(s)
    assert no_cheaper(before, costs(replace(s, memory_mb=s.memory_mb + extra)))
    bigger = replace(s, memory_gb=s.memory_gb * 2) if s.memory_gb * 2 <= 8 * s.vcpu else s
    assert no_cheaper(before, costs(bigger))


@FAST
@given(scenarios, st.integers(1, 20))
def test_more_tasks_never_cost_less(s: Scenario, extra: int) -> None:
    tasks = s.tasks or 1
    stated = replace(s, tasks=tasks)
    assert no_cheaper(costs(stated), costs(replace(stated, tasks=tasks + extra)))


@FAST
@given(scenarios)
def test_arm64_is_never_dearer_than_x86(s: Scenario) -> None:
    found = costs(s)
    assert found["lambda-arm"] <= found["lambda"]
    assert found["ecs-fargate-arm"] <= found["ecs-fargate"]


@FAST
@given(scenarios)
def test_the_cheapest_is_feasible_and_no_feasible_option_is_cheaper(s: Scenario) -> None:
    result = estimate(s)
    best = result.cheapest
    feasible = [o for o in result.options if o.feasible]
    assert (best is None) == (not feasible)
    if best is not None:
        assert best.feasible and all(best.monthly_usd <= o.monthly_usd for o in feasible)


@FAST
@given(rate=st.floats(0, 2000), duration_ms=st.floats(1, 5000),
       memory=st.sampled_from([128, 512, 1024, 4096, 10_240]),
       arch=st.sampled_from(["x86_64", "arm64"]), cpu=st.floats(0, 100),
       memory_percent=st.floats(0, 100),
       size=st.sampled_from([(256, 512), (512, 1024), (1024, 2048), (2048, 8192),
                             (4096, 30720)]),
       tasks=st.integers(1, 20))
def test_the_recommendation_never_costs_more_than_now(
        rate: float, duration_ms: float, memory: int, arch: str, cpu: float,
        memory_percent: float, size: tuple[int, int], tasks: int) -> None:
    fn = function("fn", "arn:aws:iam::123456789012:role/r", memory=memory, arch=arch)
    td = task_definition("svc", cpu=size[0], memory=size[1])
    svc = service("svc", td, desired=tasks)
    series = {**lambda_series(fn, rate, duration_ms), **service_series(svc, cpu, memory_percent)}
    inventory = Inventory(lambda_functions=(fn,), ecs_services=(svc,), task_definitions=(td,))
    metrics = MetricStore(series, NOW - timedelta(days=14), NOW)
    for found in estimate_workloads(inventory, metrics, PriceBook(), Assumptions(), 14, NOW):
        assert found.recommended.feasible or found.recommended is found.current
        assert found.recommended.monthly_usd <= found.current.monthly_usd
        assert 0 <= found.migration_savings_usd <= found.monthly_savings_usd


@FAST
@given(rate=st.floats(0, 2000), duration_ms=st.floats(1, 5000),
       memory=st.sampled_from([128, 512, 1024, 4096]),
       arch=st.sampled_from(["x86_64", "arm64"]), cpu=st.floats(0, 100),
       memory_percent=st.floats(0, 100), allocated=st.integers(0, 200),
       busy=st.floats(0, 1),
       size=st.sampled_from([(256, 512), (512, 1024), (1024, 2048), (2048, 8192)]),
       tasks=st.integers(1, 20))
def test_what_the_findings_claim_never_exceeds_what_a_workload_costs(
        rate: float, duration_ms: float, memory: int, arch: str, cpu: float,
        memory_percent: float, allocated: int, busy: float, size: tuple[int, int],
        tasks: int) -> None:
    fn = function("fn", "arn:aws:iam::123456789012:role/r", memory=memory, arch=arch)
    configs = (provisioned(fn, allocated=allocated),) if allocated else ()
    td = task_definition("svc", cpu=size[0], memory=size[1])
    svc = service("svc", td, desired=tasks)
    series = {**lambda_series(fn, rate, duration_ms), **service_series(svc, cpu, memory_percent),
              **{provisioned_query(c): hourly([busy] * 336) for c in configs}}
    inventory = Inventory(lambda_functions=(fn,), ecs_services=(svc,), task_definitions=(td,),
                          provisioned_concurrency=configs)
    metrics = MetricStore(series, NOW - timedelta(days=14), NOW)
    checks = [c() for c in Registry.build(include_entry_points=False).checks if c.reads_costs]
    run = run_checks(checks, inventory, metrics, NOW, 14, PriceBook())
    assert run.errors == ()
    estimates = {e.resource.arn: e for e in estimate_workloads(
        inventory, metrics, PriceBook(), Assumptions(), 14, NOW)}
    claimed: dict[str, float] = {}
    for finding in run.findings:
        if finding.monthly_savings_usd:
            arn = fn.arn if finding.resource_type == "lambda-provisioned-concurrency" \
                else finding.resource_arn
            claimed[arn] = claimed.get(arn, 0.0) + finding.monthly_savings_usd
    for arn, priced in estimates.items():
        assert all(usd >= 0 for usd in priced.savings.values())
        assert sum(priced.savings.values()) <= priced.current.monthly_usd + 0.005
        assert claimed.get(arn, 0.0) <= priced.current.monthly_usd + 0.01
