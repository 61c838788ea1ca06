"""Compute Optimizer's recommendation beside ours in each workload's evidence: what a user reads
in the report's `workloads[].compute_optimizer`, and that their figures stay out of ours."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import jsonschema

from auditor.cost.priced import PricedWorkload
from auditor.cost.workloads import WorkloadEstimate
from auditor.model import (
    CollectionError,
    Inventory,
    OptimizerEnrollment,
    OptimizerRecommendation,
    OptimizerSaving,
)
from auditor.report.document import Report, Stats, to_dict
from auditor.report.json_ import schema
from auditor.report.table import render
from tests.cost.test_workloads import ROLE, lambda_series, run, service_series
from tests.factories import (
    ACCOUNT,
    NOW,
    REGION,
    eks_cluster,
    function,
    service,
    task_definition,
)

API = function("api", ROLE, memory=1024)
INGEST = function("ingest", ROLE, memory=256)
WEB = service("web", task_definition("web", cpu=2048, memory=4096))
SERIES = {**lambda_series(API, 20, 200), **lambda_series(INGEST, 200, 120),
          **service_series(WEB, 10, 20)}
VALIDATOR = jsonschema.Draft202012Validator(schema())


def recommendation(arn: str, finding: str, current: int, recommended: int | None = None,
                   saving: float | None = None, cpu: tuple[int, int] | None = None,
                   currency: str = "USD") -> OptimizerRecommendation:
    return OptimizerRecommendation(
        resource_arn=arn, account=ACCOUNT, region=REGION, finding=finding,
        reasons=("MemoryOverprovisioned",) if recommended else (),
        current_memory_mb=current, recommended_memory_mb=recommended,
        saving=None if saving is None else OptimizerSaving(saving, currency, 31.5),
        saving_after_discounts=None, saving_basis="PublicPricing", lookback_days=14.0,
        performance_risk="Low", refreshed_at=NOW - timedelta(hours=5),
        current_cpu_units=cpu[0] if cpu else None, recommended_cpu_units=cpu[1] if cpu else None)


ACTIVE = OptimizerEnrollment(ACCOUNT, REGION, "Active", "")
ANSWERED = (recommendation(API.arn, "NotOptimized", 1024, 512, 18.42),
            recommendation(INGEST.arn, "Optimized", 256),
            recommendation(WEB.arn, "Overprovisioned", 4096, 2048, 72.08, cpu=(2048, 1024)))


def priced(**optimizer: Any) -> dict[str, WorkloadEstimate]:
    inventory = Inventory(lambda_functions=(API, INGEST), ecs_services=(WEB,),
                          task_definitions=(task_definition("web", cpu=2048, memory=4096),),
                          **optimizer)
    return run(inventory, SERIES)


def entry(estimate: WorkloadEstimate) -> dict[str, Any]:
    found: dict[str, Any] = estimate.to_dict()["compute_optimizer"]
    return found


def scanned(estimates: dict[str, WorkloadEstimate]) -> Report:
    return Report(generated_at=NOW, accounts=(ACCOUNT,), regions=(REGION,), lookback_days=14,
                  findings=(), errors=(), stats=Stats(0, {}, 0.0, 0, 0), checks_run=(),
                  pricing={}, workloads=tuple(PricedWorkload.of(w) for w in estimates.values()))


def report(estimates: dict[str, WorkloadEstimate]) -> dict[str, Any]:
    """The JSON report of these workloads, validated against the shipped schema."""
    document = to_dict(scanned(estimates))
    VALIDATOR.validate(document)
    return document


def ours(estimate: WorkloadEstimate) -> str:
    return f"saving ${estimate.monthly_savings_usd:,.2f}/month"


def test_their_recommendation_sits_beside_ours_with_the_difference_explained() -> None:
    found = priced(optimizer_recommendations=ANSWERED, optimizer_enrollment=(ACTIVE,))

    api = entry(found["api"])
    assert api["status"] == "recommendation"
    assert (api["finding"], api["reasons"]) == ("NotOptimized", ["MemoryOverprovisioned"])
    assert (api["current"], api["recommended"]) == ({"memory_mb": 1024}, {"memory_mb": 512})
    assert api["estimated_monthly_savings"] == {"amount": 18.42, "currency": "USD",
                                                "percent": 31.5}
    assert (api["savings_basis"], api["lookback_days"]) == ("PublicPricing", 14.0)
    assert api["our_monthly_savings_usd"] == found["api"].monthly_savings_usd > 0
    assert api["explanation"].startswith(
        "Compute Optimizer recommends 512 MB (from 1,024 MB), saving $18.42/month (31.5%); "
        "our model recommends ")
    assert ours(found["api"]) in api["explanation"]
    assert "the difference: they size memory within Lambda" in api["explanation"]
    assert "over their 14-day lookback" in api["explanation"]
    assert "we keep its memory" in api["explanation"]

    ingest = entry(found["ingest"])
    assert ingest["explanation"].startswith("Compute Optimizer finds it optimized at 256 MB; "
                                            "our model recommends moving to arm64 ($")
    assert "moving to ecs-fargate-arm" in ingest["explanation"]

    web = entry(found["web"])
    assert (web["current"], web["recommended"]) == ({"cpu_units": 2048, "memory_mb": 4096},
                                                    {"cpu_units": 1024, "memory_mb": 2048})
    right_size = found["web"].savings["right_size"]
    assert web["explanation"].startswith(
        "Compute Optimizer recommends 1 vCPU / 2 GB tasks (from 2 vCPU / 4 GB), saving "
        "$72.08/month (31.5%); our model recommends right-sizing to ")
    assert f"(${right_size:,.2f})" in web["explanation"]
    assert "they size the task within Fargate" in web["explanation"]
    report(found)


def test_their_savings_enter_none_of_our_figures() -> None:
    alone = priced()
    beside = priced(optimizer_recommendations=ANSWERED, optimizer_enrollment=(ACTIVE,))
    for name, estimate in alone.items():
        with_theirs = beside[name].to_dict()
        assert with_theirs.pop("compute_optimizer")
        assert with_theirs == estimate.to_dict()
    without, with_optimizer = report(alone), report(beside)
    assert with_optimizer["summary"].pop("compute_optimizer") == {
        "workloads": {"recommendation": 3}, "notes": []}
    assert with_optimizer["summary"] == without["summary"]


def test_without_the_flag_no_workload_has_an_entry() -> None:
    found = priced()
    assert all("compute_optimizer" not in w.to_dict() for w in found.values())
    assert "compute_optimizer" not in report(found)["summary"]
    assert "COMPUTE OPTIMIZER" not in render(scanned(found))


def test_an_account_not_enrolled_is_one_note_not_one_per_workload() -> None:
    west = replace(function("edge", ROLE), arn=API.arn.replace(REGION, "eu-west-1"),
                   region="eu-west-1")
    inventory = Inventory(
        lambda_functions=(API, INGEST, west),
        optimizer_enrollment=(OptimizerEnrollment(ACCOUNT, REGION, "Inactive", ""),
                              OptimizerEnrollment(ACCOUNT, "eu-west-1", "Inactive", "")))
    found = run(inventory, SERIES)
    assert {entry(w)["status"] for w in found.values()} == {"not_enrolled"}
    assert entry(found["edge"])["enrollment"] == {"status": "Inactive", "reason": ""}
    note = (f"Account {ACCOUNT} is not enrolled in AWS Compute Optimizer (status Inactive): "
            "opt in (its console, or `aws compute-optimizer update-enrollment-status --status "
            "Active`) to see its recommendations beside ours.")
    assert report(found)["summary"]["compute_optimizer"] == {
        "workloads": {"not_enrolled": 3}, "notes": [note]}
    assert render(scanned(found)).count(note) == 1


def test_a_failed_call_leaves_only_what_it_asked_about_without_their_evidence() -> None:
    denied = CollectionError(ACCOUNT, REGION, "compute-optimizer",
                             "GetLambdaFunctionRecommendations", "AccessDeniedException",
                             "not authorized", ("compute_optimizer.lambda",),
                             resources=(API.arn, INGEST.arn))
    found = priced(optimizer_recommendations=ANSWERED[2:], optimizer_enrollment=(ACTIVE,),
                   errors=(denied,))
    assert entry(found["api"]) == {
        "status": "unread",
        "explanation": "Compute Optimizer's recommendation could not be read (compute-optimizer:"
                       "GetLambdaFunctionRecommendations AccessDeniedException); ours stands "
                       "alone."}
    assert entry(found["web"])["status"] == "recommendation"
    # Nothing was asked in this region: its enrollment could not be read.
    status = CollectionError(ACCOUNT, REGION, "compute-optimizer", "GetEnrollmentStatus",
                             "AccessDeniedException", "no",
                             ("compute_optimizer.lambda", "compute_optimizer.ecs"))
    found = priced(errors=(status,))
    assert {entry(w)["status"] for w in found.values()} == {"unread"}
    assert "GetEnrollmentStatus AccessDeniedException" in entry(found["web"])["explanation"]
    report(found)


def test_workloads_it_does_not_recommend_for_say_so() -> None:
    td = task_definition("batch")
    found = run(Inventory(eks_clusters=(eks_cluster(),), task_definitions=(td,),
                          ecs_services=(service("batch", td, launch_type="EC2"),),
                          lambda_functions=(API,), optimizer_enrollment=(ACTIVE,)), SERIES)
    assert entry(found["platform"])["status"] == "not_covered"
    assert "EKS cluster's nodes are EC2 instances" in entry(found["platform"])["explanation"]
    assert entry(found["batch"])["explanation"].startswith(
        "Compute Optimizer recommends ECS services on Fargate only")
    assert entry(found["api"]) == {
        "status": "no_recommendation",
        "explanation": "Compute Optimizer returned no recommendation for it."}
    report(found)


def test_a_saving_in_another_currency_keeps_it() -> None:
    cny = recommendation(API.arn, "NotOptimized", 1024, 512, 120.5, currency="CNY")
    found = priced(optimizer_recommendations=(cny,), optimizer_enrollment=(ACTIVE,))
    assert "saving CNY 120.50/month" in entry(found["api"])["explanation"]
    assert entry(found["api"])["estimated_monthly_savings"]["currency"] == "CNY"
