"""Effective rates: private pricing from the config, Savings Plans weighed by their coverage and
Reserved Instances, on hand-built inventories. Every option says its basis, its arithmetic
shows the discount, and a plan that makes another platform the cheapest says so."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.config import Config, parse
from auditor.cost.model import Assumptions
from auditor.cost.priced import KIND_FAMILIES
from auditor.cost.workloads import WorkloadEstimate, estimate_workloads
from auditor.engine import Registry, run_checks
from auditor.metrics import MetricStore, eks_query
from auditor.model import (
    GLOBAL_REGION,
    CollectionError,
    CoveredSpend,
    EventSourceMapping,
    Inventory,
    ReservedInstance,
    SavingsPlan,
    SavingsPlanRate,
    SavingsPlansCoverage,
    Scope,
)
from auditor.pricing.book import PriceBook
from auditor.pricing.commitments import effective_book
from auditor.pricing.discounts import private
from auditor.report.document import Report, to_dict
from auditor.report.json_ import schema
from auditor.scan import Environment, scan
from tests.cost.test_properties import FAST
from tests.cost.test_workloads import flat, lambda_series, service_series
from tests.factories import (
    ACCOUNT,
    NOW,
    REGION,
    eks_cluster,
    function,
    nodegroup,
    service,
    task_definition,
)
from tests.shared_demo import SharedDemo

ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
START = NOW.replace(day=NOW.day - 14)
LAMBDA_USAGE = {"Lambda-GB-Second": "lambda_gb_s", "Lambda-GB-Second-ARM": "lambda_arm_gb_s"}
FARGATE_USAGE = {"Fargate-vCPU-Hours:perCPU": "fargate_vcpu_hour",
                 "Fargate-GB-Hours": "fargate_gb_hour",
                 "Fargate-ARM-vCPU-Hours:perCPU": "fargate_arm_vcpu_hour",
                 "Fargate-ARM-GB-Hours": "fargate_arm_gb_hour"}


def compute_plan(lambda_off: float = 0.17, fargate_off: float = 0.46) -> SavingsPlan:
    """A 3-year Compute Savings Plan as `DescribeSavingsPlans` and its rates describe it."""
    book = PriceBook()
    rates = [SavingsPlanRate(product, REGION, f"USE1-{usage}", getattr(book, key) * (1 - off))
             for product, off, usage_types in (("Lambda", lambda_off, LAMBDA_USAGE),
                                               ("Fargate", fargate_off, FARGATE_USAGE))
             for usage, key in usage_types.items()]
    return SavingsPlan(
        arn=f"arn:aws:savingsplans::{ACCOUNT}:savingsplan/3f7c9e1a", account=ACCOUNT,
        region=GLOBAL_REGION, plan_id="3f7c9e1a", plan_type="Compute", state="active",
        commitment_per_hour=1.25, payment_option="No Upfront", term_seconds=94_608_000,
        products=("EC2", "Fargate", "Lambda"), plan_region=None, ec2_instance_family=None,
        rates=tuple(rates))


def coverage(**by_service: tuple[float, float]) -> SavingsPlansCoverage:
    names = {"lambda_": "AWS Lambda", "ecs": "Amazon Elastic Container Service",
             "ec2": "Amazon Elastic Compute Cloud - Compute"}
    return SavingsPlansCoverage(
        arn=f"arn:aws:ce::{ACCOUNT}:savings-plans-coverage", account=ACCOUNT,
        region=GLOBAL_REGION, start="2026-11-09", end="2026-11-23", regions=(REGION,),
        by_service={names[key]: CoveredSpend(*spend) for key, spend in by_service.items()})


def worker(memory: int = 2048, arch: str = "arm64") -> tuple[Inventory, MetricStore]:
    """A function fed by an SQS queue, 15 invocations a second of 100 ms all month: on
    containers it needs no load balancer."""
    fn = function("worker", ROLE, memory=memory, arch=arch)
    mapping = EventSourceMapping(
        arn=f"{fn.arn}-esm", account=ACCOUNT, region=REGION, uuid="u", function_arn=fn.arn,
        event_source_arn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs", state="Enabled",
        batch_size=10, maximum_concurrency=None)
    return (Inventory(lambda_functions=(fn,), event_source_mappings=(mapping,)),
            MetricStore(lambda_series(fn, 15, 100), START, NOW))


def priced(inventory: Inventory, metrics: MetricStore, prices: PriceBook | None = None
           ) -> dict[str, WorkloadEstimate]:
    return {w.name: w for w in estimate_workloads(inventory, metrics, prices or PriceBook(),
                                                  Assumptions(), 14, NOW)}


def test_private_pricing_from_the_config_discounts_every_option_and_says_which() -> None:
    config = parse({"pricing": {"discounts": {"lambda": 0.12, "fargate": 0.20, "ec2": 0.30}}})
    book = PriceBook().with_discounts(private(config.discounts,
                                              "private pricing ([pricing.discounts])"))
    td = task_definition("api", cpu=1024, memory=2048)
    svc = service("api", td, desired=2)
    fn = function("ingest", ROLE, memory=256)
    inventory = Inventory(lambda_functions=(fn,), ecs_services=(svc,), task_definitions=(td,))
    metrics = MetricStore({**lambda_series(fn, 200, 120), **service_series(svc, 60, 60)},
                          START, NOW)
    at_list, effective = priced(inventory, metrics), priced(inventory, metrics, book)

    api, ingest = effective["api"], effective["ingest"]
    fargate = "effective: 20% off Fargate: private pricing ([pricing.discounts])"
    lambda_ = "effective: 12% off Lambda: private pricing ([pricing.discounts])"
    assert api.current.rates == fargate and ingest.current.rates == lambda_
    compute = api.current.line("compute")
    assert compute is not None and compute.formula.endswith(
        "x (1 - 20%: private pricing ([pricing.discounts]))")
    assert compute.exact == pytest.approx(
        at_list["api"].current.line("compute").exact * 0.8)  # type: ignore[union-attr]
    # Requests and the load balancer are not what a discount on compute covers.
    assert ingest.current.line("requests") == at_list["ingest"].current.line("requests")
    duration = ingest.current.line("duration")
    assert duration is not None and duration.usd == round(262.80 * 0.88, 2)
    # The current cost and every option on the same basis: each platform at its own rates.
    for estimate in (api, ingest):
        for option in estimate.options:
            expected = {"lambda": lambda_, "ecs": fargate, "eks": fargate}[option.family]
            spot = option.platform == "ecs-fargate-spot"
            assert option.rates == ("list" if spot else expected), option.platform
            assert option.to_dict()["rates"] == option.rates
    assert effective["api"].to_dict()["current"]["rates"] == fargate
    assert any(note.startswith("Effective rates: ") and "; 12% off Lambda: private pricing"
               in note for note in ingest.assumptions)


def test_a_savings_plan_discounts_by_its_rates_times_its_coverage() -> None:
    inventory = Inventory(savings_plans=(compute_plan(),), savings_plans_coverage=(
        coverage(lambda_=(0.0, 0.0), ecs=(480.0, 600.0), ec2=(100.0, 200.0)),))
    book = effective_book(inventory, PriceBook(), Scope(ACCOUNT, REGION))
    fargate, lambda_ = book.discount("fargate"), book.discount("lambda")
    assert fargate is not None and lambda_ is not None
    assert fargate.fraction == pytest.approx(0.46 * 0.8)
    assert fargate.label == "36.8% off Fargate: Compute Savings Plan 46% x 80% coverage"
    # No Lambda spend in the window: the account's coverage across services stands in.
    assert lambda_.fraction == pytest.approx(0.17 * 580 / 800)
    assert lambda_.label == ("12.3% off Lambda: Compute Savings Plan 17% x 72.5% coverage "
                             "(the account's across services: no Lambda spend in the window)")
    assert any("Cost Explorer, 2026-11-09 to 2026-11-23" in note for note in book.discount_notes)
    # Private pricing applies to what the plan leaves.
    with_private = effective_book(inventory, PriceBook().with_discounts(
        private({"fargate": 0.1}, "private pricing ([pricing.discounts])")),
        Scope(ACCOUNT, REGION))
    stacked = with_private.discount("fargate")
    assert stacked is not None and stacked.fraction == pytest.approx(1 - 0.632 * 0.9)
    assert stacked.source.endswith("then 10% private pricing ([pricing.discounts])")


def test_plans_not_read_leave_list_prices_and_say_why() -> None:
    denied = CollectionError(ACCOUNT, GLOBAL_REGION, "savingsplans", "DescribeSavingsPlans",
                             "AccessDeniedException", "not authorized",
                             ("savingsplans.plans", "ce.savings_plans_coverage"))
    book = effective_book(Inventory(errors=(denied,)), PriceBook(), Scope(ACCOUNT, REGION))
    assert book.discounts == {}
    assert book.discount_notes == (
        "Not read (ce.savings_plans_coverage, savingsplans.plans; see errors): what they would "
        "take off list prices is not applied.",)
    # A plan whose coverage was not read cannot be weighed: not applied.
    unweighed = effective_book(Inventory(savings_plans=(compute_plan(),)), PriceBook(),
                               Scope(ACCOUNT, REGION))
    assert unweighed.discounts == {}
    assert "coverage was not read" in unweighed.discount_notes[0]


def test_a_reserved_instance_prices_a_node_group() -> None:
    cluster = eks_cluster("platform")
    group = replace(nodegroup("general"), desired_size=2)
    # One m6i.xlarge reservation is 8 normalised units: both m6i.large nodes (4 each).
    reservation = ReservedInstance(
        arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:reserved-instances/b847fa93", account=ACCOUNT,
        region=REGION, reservation_id="b847fa93", instance_type="m6i.xlarge",
        instance_count=1, state="active", product_description="Linux/UNIX",
        tenancy="default", zonal=False, offering_type="No Upfront", duration_seconds=31_536_000,
        fixed_price=0.0, hourly_price=0.12)
    series = {eks_query(cluster, "node_cpu_utilization"): flat(40),
              eks_query(cluster, "node_memory_utilization"): flat(50)}
    inventory = Inventory(eks_clusters=(cluster,), eks_nodegroups=(group,))
    metrics = MetricStore(series, START, NOW)
    listed = priced(inventory, metrics)["platform"]
    found = priced(replace(inventory, reserved_instances=(reservation,)), metrics)["platform"]

    nodes = found.current.line("nodes")
    assert nodes is not None
    # $0.12 against the m6i.xlarge's $0.192 list price: 37.5% off, on all of the family's hours.
    label = ("37.5% off EC2 m6i: Reserved Instances (1 x m6i.xlarge, 1-year No Upfront) 37.5% "
             "on 100% of its hours")
    assert found.current.rates == f"effective: {label}"
    assert ("general: 2 x m6i.large x 730 h x $0.06 ($0.096 on demand x (1 - 37.5%: Reserved "
            "Instances") in nodes.formula
    assert nodes.usd == round(2 * 730 * 0.096 * 0.625, 2) == 87.60
    assert listed.current.line("nodes").usd == 140.16  # type: ignore[union-attr]
    # The control plane is no instance hour.
    assert found.current.line("control_plane") == listed.current.line("control_plane")


def flipping() -> tuple[Inventory, MetricStore]:
    """The worker, in an account whose Compute Savings Plan covers 80% of its Lambda and
    Fargate spend at 17% and 46% off."""
    inventory, metrics = worker()
    return replace(inventory, savings_plans=(compute_plan(),), savings_plans_coverage=(
        coverage(lambda_=(80.0, 100.0), ecs=(480.0, 600.0)),)), metrics


def test_a_savings_plan_that_flips_the_recommendation_says_so() -> None:
    inventory, metrics = worker()
    at_list = priced(inventory, metrics)["worker"]
    found = priced(*flipping())["worker"]
    # At list prices the function stays on Lambda; the plan takes 36.8% off Fargate and only
    # 13.6% off Lambda, which makes ARM Fargate the cheaper.
    assert at_list.recommended.platform == "lambda-arm" and at_list.monthly_savings_usd == 0
    costs = {o.platform: o.monthly_usd for o in at_list.options}
    assert (at_list.current.monthly_usd, costs["ecs-fargate-arm"]) == (113.00, 115.34)
    assert found.recommended.platform == "ecs-fargate-arm"
    assert (found.current.monthly_usd, found.recommended.monthly_usd) == (98.70, 72.89)
    assert found.recommended.rates == (
        "effective: 36.8% off Fargate: Compute Savings Plan 46% x 80% coverage")
    assert found.current.rates == (
        "effective: 13.6% off Lambda: Compute Savings Plan 17% x 80% coverage")
    flip = found.rates_flip
    assert flip is not None
    assert flip["at_list"] == {"recommended_platform": "lambda-arm",
                               "monthly_usd": {"lambda-arm": 113.00, "ecs-fargate-arm": 115.34}}
    assert flip["at_effective_rates"] == {
        "recommended_platform": "ecs-fargate-arm",
        "monthly_usd": {"lambda-arm": 98.70, "ecs-fargate-arm": 72.89}}
    assert flip["note"] in found.assumptions
    assert flip["note"].startswith(
        "Effective rates change the recommendation: at list prices lambda-arm would be the "
        "cheapest ($113.00 a month; ecs-fargate-arm $115.34); with 13.6% off Lambda")
    assert found.to_dict()["rates_flip"] == flip
    assert at_list.rates_flip is None and "rates_flip" not in at_list.to_dict()


def test_the_flip_is_in_the_migration_findings_evidence() -> None:
    inventory, metrics = flipping()
    checks = [c() for c in Registry.build(include_entry_points=False).checks if c.reads_costs]
    run = run_checks(checks, inventory, metrics, NOW, 14, PriceBook())
    [finding] = [f for f in run.findings if f.check_id == "cost.migration_opportunity"]
    assert finding.monthly_savings_usd == 25.81
    assert finding.message.endswith(
        "Effective rates make the difference: at list prices lambda-arm would be the cheapest.")
    assert finding.evidence["rates_flip"]["at_list"]["recommended_platform"] == "lambda-arm"
    assert finding.evidence["recommended"]["rates"].startswith("effective: 36.8% off Fargate")
    assert finding.evidence["current"]["rates"].startswith("effective: 13.6% off Lambda")
    assert finding.evidence["arithmetic"] == "lambda-arm $98.70 - ecs-fargate-arm $72.89 = $25.81"


@settings(FAST, max_examples=25)
@given(rate=st.floats(0, 500), duration_ms=st.floats(1, 2000),
       memory=st.sampled_from([128, 512, 2048]), arch=st.sampled_from(["x86_64", "arm64"]),
       cpu=st.floats(0, 100), lambda_off=st.floats(0, 0.9), fargate_off=st.floats(0, 0.9),
       covered=st.floats(0, 1))
def test_at_effective_rates_findings_never_claim_more_than_a_workload_costs(
        rate: float, duration_ms: float, memory: int, arch: str, cpu: float,
        lambda_off: float, fargate_off: float, covered: float) -> None:
    fn = function("fn", ROLE, memory=memory, arch=arch)
    td = task_definition("svc", cpu=1024, memory=2048)
    svc = service("svc", td, desired=2)
    inventory = Inventory(
        lambda_functions=(fn,), ecs_services=(svc,), task_definitions=(td,),
        savings_plans=(compute_plan(lambda_off, fargate_off),), savings_plans_coverage=(
            coverage(lambda_=(covered * 100, 100.0), ecs=(covered * 100, 100.0)),))
    metrics = MetricStore({**lambda_series(fn, rate, duration_ms),
                           **service_series(svc, cpu, cpu)}, START, NOW)
    checks = [c() for c in Registry.build(include_entry_points=False).checks if c.reads_costs]
    run = run_checks(checks, inventory, metrics, NOW, 14, PriceBook())
    claimed: dict[str, float] = {}
    for finding in run.findings:
        if finding.monthly_savings_usd:
            claimed[finding.resource_arn] = (claimed.get(finding.resource_arn, 0.0)
                                             + finding.monthly_savings_usd)
    for estimate in estimate_workloads(inventory, metrics, PriceBook(), Assumptions(), 14, NOW):
        assert estimate.recommended.monthly_usd <= estimate.current.monthly_usd
        assert sum(estimate.savings.values()) <= estimate.current.monthly_usd + 0.005
        assert claimed.get(estimate.resource.arn, 0.0) <= estimate.current.monthly_usd + 0.01


@pytest.fixture(scope="module")
def discounted_demo(shared_demo: SharedDemo) -> dict[str, Any]:
    """`auditor scan --demo` with private pricing in the config."""
    config = Config(regions=shared_demo.account.regions,
                    discounts={"lambda": 0.12, "fargate": 0.20, "ec2": 0.30})
    with shared_demo.active() as demo:
        return to_dict(scan(config, Environment(hooks=demo.extra_hooks, demo=True),
                            demo.account.now))


def test_the_demo_at_private_pricing_never_disagrees_with_itself(
        discounted_demo: dict[str, Any], demo_report: Report) -> None:
    jsonschema.Draft202012Validator(schema()).validate(discounted_demo)
    listed = {w["name"]: w for w in to_dict(demo_report)["workloads"]}
    workloads = {w["name"]: w for w in discounted_demo["workloads"]}
    assert discounted_demo["pricing"]["discounts"] == (
        "30% off EC2: private pricing ([pricing.discounts]); 20% off Fargate: private pricing "
        "([pricing.discounts]); 12% off Lambda: private pricing ([pricing.discounts])")
    # Each workload as it runs now, at its platform's rate, and its lines at list otherwise.
    for name, family in (("clickstream-collector", "Lambda"), ("orders-api", "Fargate"),
                         ("tools", "EC2")):
        assert workloads[name]["current"]["rates"].startswith("effective: ")
        assert f"off {family}: private pricing" in workloads[name]["current"]["rates"]
    duration = workloads["clickstream-collector"]["current"]["breakdown"]["duration"]
    assert duration == pytest.approx(
        listed["clickstream-collector"]["current"]["breakdown"]["duration"] * 0.88, abs=0.01)
    assert workloads["tools"]["current"]["breakdown"]["control_plane"] == 73.0
    # Findings' savings composed per workload, one total equal to its breakdown.
    by_arn = {w["arn"]: w for w in workloads.values()}
    claimed: dict[str, float] = defaultdict(float)
    elsewhere = 0.0
    for finding in discounted_demo["findings"]:
        if finding["status"] == "fail" and finding["monthly_savings_usd"]:
            if finding["resource_type"] not in KIND_FAMILIES:
                # A NAT gateway's, a load balancer's or a subnet's own cost: no workload's.
                elsewhere += finding["monthly_savings_usd"]
                continue
            # A provisioned-concurrency configuration's saving is its function's, a node
            # group's its cluster's.
            arn = finding["resource_arn"]
            evidence = finding["evidence"]
            claimed[arn if arn in by_arn else evidence.get("function", evidence.get(
                "cluster_arn"))] += finding["monthly_savings_usd"]
    for arn, total in claimed.items():
        assert total <= by_arn[arn]["current_monthly_usd"] + 0.01, arn
    summary = discounted_demo["summary"]
    assert summary["total_monthly_savings_usd"] == pytest.approx(
        sum(summary["savings_by_kind"].values()), abs=0.005)
    assert summary["total_monthly_savings_usd"] == pytest.approx(
        sum(claimed.values()) + elsewhere, abs=0.01)
