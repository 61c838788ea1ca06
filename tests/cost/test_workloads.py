"""The workload cost model on hand-built inventories: each front door, EC2-backed services,
EKS clusters, missing metrics, regions, the free tier, and the migration check's thresholds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from auditor.cost.model import Assumptions
from auditor.cost.usage import workload_queries
from auditor.cost.workloads import (
    COST_DATASETS,
    WorkloadEstimate,
    assumptions_from,
    estimate_workloads,
    in_extended_support,
)
from auditor.metrics import (
    MetricQuery,
    MetricStore,
    Series,
    ecs_query,
    eks_query,
    lambda_query,
    lcu_query,
    target_group_query,
)
from auditor.model import (
    ContainerInstance,
    EksCluster,
    EksNodegroup,
    EventSourceMapping,
    FargateProfile,
    FunctionUrl,
    Inventory,
    LambdaFunction,
    LoadBalancer,
    TargetGroup,
)
from auditor.pricing.book import PriceBook
from tests.factories import ACCOUNT, NOW, REGION, function, service, task_definition

ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
HOURS = [NOW - timedelta(hours=336 - k) for k in range(336)]
START = NOW - timedelta(days=14)


def flat(value: float) -> Series:
    return Series(tuple(HOURS), tuple(value for _ in HOURS))


def lambda_series(fn: LambdaFunction, rate: float, duration_ms: float
                  ) -> dict[MetricQuery, Series]:
    """`rate` requests a second every hour of the lookback, peak concurrency twice the mean."""
    per_hour = rate * 3600
    return {
        lambda_query(fn, "Invocations", "Sum"): flat(per_hour),
        lambda_query(fn, "Duration", "Sum"): flat(per_hour * duration_ms),
        lambda_query(fn, "Duration", "Maximum"): flat(duration_ms * 3),
        lambda_query(fn, "ConcurrentExecutions", "Maximum"): flat(
            2 * rate * duration_ms / 1000),
    }


def service_series(svc: object, cpu: float, memory: float) -> dict[MetricQuery, Series]:
    assert hasattr(svc, "cluster_name")
    return {
        ecs_query(svc, "CPUUtilization", "Maximum"): flat(cpu),  # type: ignore[arg-type]
        ecs_query(svc, "MemoryUtilization", "Maximum"): flat(memory),  # type: ignore[arg-type]
    }


def run(inventory: Inventory, series: dict[MetricQuery, Series] | None = None,
        prices: PriceBook | None = None) -> dict[str, WorkloadEstimate]:
    metrics = MetricStore(series or {}, START, NOW)
    return {w.name: w for w in estimate_workloads(inventory, metrics, prices or PriceBook(),
                                                  Assumptions(), 14, NOW)}


def option_costs(estimate: WorkloadEstimate) -> dict[str, float]:
    return {o.platform: o.monthly_usd for o in estimate.options}


def alb(name: str = "web") -> tuple[LoadBalancer, TargetGroup]:
    lb = LoadBalancer(f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{name}/"
                      "50dc6c495c0c9188", ACCOUNT, REGION, name, "application",
                      "internet-facing", "vpc-a")
    group = TargetGroup(f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/"
                        "73e2d6bc24d8a067", ACCOUNT, REGION, name, "HTTP", "ip", (lb.arn,))
    return lb, group


def test_a_steady_x86_lambda_by_hand() -> None:
    fn = function("ingest", ROLE, memory=256)
    [found] = run(Inventory(lambda_functions=(fn,)), lambda_series(fn, 200, 120)).values()
    # 720,000 an hour for 730 hours; 0.12 s x 0.25 GB each.
    assert found.usage["requests_per_month"] == 525_600_000
    assert {line.name: line.usd for line in found.current.lines} == {
        "requests": 105.12, "duration": 262.80}
    assert found.current.platform == "lambda"
    costs = option_costs(found)
    assert costs["lambda-arm"] == 105.12 + 210.24
    # Peak 400 req/s (48 concurrent / 0.12 s) over min(500, 50 / 0.12) req/s per task: 2
    # tasks; invoked directly, so an internal ALB: 10 KB x 200 req/s = 7.2 GB/h = 7.2 LCU.
    assert costs["ecs-fargate-arm"] == 57.67 + 58.47
    assert found.recommended.platform == "ecs-fargate-arm"
    assert found.monthly_savings_usd == 251.78
    # Beyond the arm64 move lambda.x86_arm64_candidate already claims.
    assert found.migration_savings_usd == round(315.36 - 116.14, 2)
    assert found.confidence == "high"


def test_event_source_functions_need_no_load_balancer_on_containers() -> None:
    fn = function("worker", ROLE, memory=512)
    mapping = EventSourceMapping(f"{fn.arn}-esm", ACCOUNT, REGION, "u", fn.arn,
                                 f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs", "Enabled", 10, None)
    found = run(Inventory(lambda_functions=(fn,), event_source_mappings=(mapping,)),
                lambda_series(fn, 50, 100))["worker"]
    assert found.usage["front_door"] == "none"
    fargate = next(o for o in found.options if o.platform == "ecs-fargate")
    assert [line.name for line in fargate.lines] == ["compute"]
    assert any("event source mapping (sqs)" in a for a in found.assumptions)


def test_alb_and_url_front_doors() -> None:
    lb, group = alb()
    fn = function("api", ROLE, memory=512)
    lambda_group = replace(group, target_type="lambda", lambda_targets=(fn.arn,))
    series = {**lambda_series(fn, 10, 50), lcu_query(lb): flat(0.2)}
    found = run(Inventory(lambda_functions=(fn,), load_balancers=(lb,),
                          target_groups=(lambda_group,)), series)["api"]
    assert found.usage["front_door"] == "alb"
    line = found.current.line("load_balancer")
    assert line is not None and "measured ConsumedLCUs" in line.formula
    assert line.usd == round(730 * 0.0225 + 730 * 0.2 * 0.008, 2)
    url = FunctionUrl(f"{fn.arn}/function-url", ACCOUNT, REGION, fn.arn, "https://x", "NONE")
    found = run(Inventory(lambda_functions=(fn,), function_urls=(url,)),
                lambda_series(fn, 10, 50))["api"]
    assert found.current.line("function_url") is not None
    # Without listing URLs (a call per function), the URL's own request metric shows it.
    seen = {**lambda_series(fn, 10, 50), lambda_query(fn, "UrlRequestCount", "Sum"): flat(36000)}
    assert run(Inventory(lambda_functions=(fn,)), seen)["api"].usage["front_door"] == (
        "function-url")


def test_a_service_behind_a_shared_alb_pays_its_share() -> None:
    lb, group = alb()
    td = task_definition("web", cpu=512, memory=1024)
    one = replace(service("one", td), target_group_arns=(group.arn,))
    two = replace(service("two", td), target_group_arns=(group.arn,))
    series = {**service_series(one, 60, 60), **service_series(two, 60, 60),
              target_group_query(lb, group, "RequestCount", "Sum"): flat(3600),
              target_group_query(lb, group, "TargetResponseTime", "Average"): flat(0.05),
              target_group_query(lb, group, "TargetResponseTime", "Maximum"): flat(0.4)}
    found = run(Inventory(ecs_services=(one, two), task_definitions=(td,),
                          load_balancers=(lb,), target_groups=(group,)), series)
    line = found["one"].current.line("load_balancer")
    assert line is not None and "x 0.5 share (web serves 2 workloads)" in line.formula
    assert found["one"].usage["requests_per_month"] == 3600 * 730
    lam = next(o for o in found["one"].options if o.platform == "lambda")
    assert lam.feasible and lam.shape["memory_mb"] == 1024


def test_workers_and_big_tasks_cannot_move_to_lambda() -> None:
    td = task_definition("batch", cpu=8192, memory=16384)
    svc = service("batch", td)
    found = run(Inventory(ecs_services=(svc,), task_definitions=(td,)),
                service_series(svc, 90, 90))["batch"]
    blockers = next(o for o in found.options if o.platform == "lambda").blockers
    assert any("not behind a load balancer" in b for b in blockers)
    assert any("Lambda gives at most 6" in b for b in blockers)
    assert any("10,240 MB" in b for b in blockers)
    assert found.recommended.family == "ecs"


def test_right_sizing_follows_the_overprovisioned_rule_and_never_grows() -> None:
    td = task_definition("big", cpu=2048, memory=4096)
    quiet, busy = service("quiet", td), service("busy", td)
    series = {**service_series(quiet, 14, 28), **service_series(busy, 95, 95)}
    found = run(Inventory(ecs_services=(quiet, busy), task_definitions=(td,)), series)
    # 2048 x 14% / 70% = 410 CPU units, 4096 x 28% / 70% = 1,638 MiB: 0.5 vCPU / 2 GB.
    quiet_shape = next(o for o in found["quiet"].options if o.platform == "ecs-fargate").shape
    assert (quiet_shape["vcpu"], quiet_shape["memory_gb"]) == (0.5, 2)
    busy_shape = next(o for o in found["busy"].options if o.platform == "ecs-fargate").shape
    assert (busy_shape["vcpu"], busy_shape["memory_gb"]) == (2, 4)


def test_ec2_backed_services_share_their_instances() -> None:
    td = task_definition("legacy", cpu=1024, memory=2048)
    svc = service("legacy", td, launch_type="EC2")
    instance = ContainerInstance(f"arn:aws:ecs:{REGION}:{ACCOUNT}:container-instance/prod/1",
                                 ACCOUNT, REGION, svc.cluster_arn, "i-1", "m6i.xlarge", "ACTIVE")
    found = run(Inventory(ecs_services=(svc,), task_definitions=(td,),
                          container_instances=(instance,)))["legacy"]
    assert found.platform == "ecs-ec2"
    assert found.current.monthly_usd == round(730 * 0.192, 2)
    assert found.confidence == "low"
    assert any("no metrics" in a for a in found.assumptions)


def _cluster(name: str, version: str) -> EksCluster:
    return EksCluster(f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}", ACCOUNT, REGION, name,
                      version, "ACTIVE", "vpc-a", (), (), True, False, (), (), False, ROLE,
                      None)


def test_eks_clusters_price_control_plane_and_nodes() -> None:
    old = _cluster("old", "1.29")
    group = EksNodegroup(f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/old/ng/1", ACCOUNT, REGION,
                         "ng", "old", "ACTIVE", (), ("m6i.large",), "ON_DEMAND", 3, 1, 5, ROLE,
                         "1.29", None)
    series = {eks_query(old, "node_cpu_utilization"): flat(20),
              eks_query(old, "node_memory_utilization"): flat(30)}
    found = run(Inventory(eks_clusters=(old,), eks_nodegroups=(group,)), series)["old"]
    assert in_extended_support(old, NOW)
    assert {line.name: line.usd for line in found.current.lines} == {
        "control_plane": 438.0, "nodes": round(3 * 730 * 0.096, 2)}
    eks = next(o for o in found.options if o.platform == "eks")
    assert eks.line("control_plane").usd == 73.0  # type: ignore[union-attr]
    # Three nodes' worth of pods, right-sized from 20% CPU / 30% memory of 2 vCPU / 8 GB.
    fargate = next(o for o in found.options if o.platform == "ecs-fargate")
    assert fargate.shape["tasks"] == 3 and fargate.shape["vcpu"] == 1
    assert found.confidence == "high"
    assert not next(o for o in found.options if o.platform == "lambda").feasible


def test_fargate_only_clusters_offer_no_ecs_move() -> None:
    cluster = _cluster("serverless", "1.35")
    profile = FargateProfile(f"{cluster.arn}/fp", ACCOUNT, REGION, "fp", "serverless", (), ROLE,
                             ("default",))
    found = run(Inventory(eks_clusters=(cluster,), fargate_profiles=(profile,)))["serverless"]
    assert found.recommended is found.current
    assert not [o for o in found.options if o.family == "ecs"]
    assert any("not visible without the Kubernetes API" in a for a in found.assumptions)


def test_missing_metrics_mean_low_confidence_and_no_invented_traffic() -> None:
    fn = function("idle", ROLE)
    found = run(Inventory(lambda_functions=(fn,)))["idle"]
    assert found.confidence == "low" and found.current.monthly_usd == 0
    assert found.recommended is found.current
    partial = {k: Series(v.timestamps[:48], v.values[:48])
               for k, v in lambda_series(fn, 1, 100).items()}
    assert run(Inventory(lambda_functions=(fn,)), partial)["idle"].confidence == "medium"


def test_regions_and_the_free_tier() -> None:
    fn = replace(function("small", ROLE, memory=128), region="eu-central-1",
                 arn=f"arn:aws:lambda:eu-central-1:{ACCOUNT}:function:small")
    found = run(Inventory(lambda_functions=(fn,)), lambda_series(fn, 0.1, 100),
                PriceBook(free_tier=True))["small"]
    # 262,800 requests and 3,285 GB-s a month are inside the free tier.
    assert found.current.monthly_usd == 0
    fargate = next(o for o in found.options if o.platform == "ecs-fargate")
    assert fargate.line("compute").usd == round(  # type: ignore[union-attr]
        2 * 730 * (0.04048 + 2 * 0.004445) * 1.15, 2)
    assert any("x 1.15" in a for a in found.assumptions)


def test_queries_cover_every_series_the_model_reads() -> None:
    lb, group = alb()
    fn = function("api", ROLE)
    td = task_definition("web")
    svc = replace(service("web", td), target_group_arns=(group.arn,))
    queries = set(workload_queries(Inventory(lambda_functions=(fn,), ecs_services=(svc,),
                                             task_definitions=(td,), load_balancers=(lb,),
                                             target_groups=(group,))))
    assert lambda_query(fn, "Invocations", "Sum") in queries
    assert target_group_query(lb, group, "RequestCount", "Sum") in queries
    assert lcu_query(lb) in queries
    assert ("LoadBalancer", "app/web/50dc6c495c0c9188") in lcu_query(lb).dimensions


def test_the_model_runs_once_when_a_check_reads_costs_with_the_cost_tables_assumptions(
) -> None:
    from auditor.engine import COST_MODEL, needs_costs, plan_metrics, wanted_datasets
    from checks.ecs import IdleService
    from checks.network import SingleAz

    fn = function("api", ROLE)
    inventory = Inventory(lambda_functions=(fn,))
    assert not needs_costs([SingleAz()])
    assert needs_costs([SingleAz(), IdleService()])
    assert wanted_datasets([IdleService()]) >= COST_DATASETS
    # Its series are planned once, under its own name, whichever checks read costs.
    plan = plan_metrics([IdleService()], inventory, NOW, 14, PriceBook())
    assert set(plan.declared(COST_MODEL)) == set(workload_queries(inventory))
    # `[cost]` sets the assumptions: more tasks at least, dearer Fargate.
    metrics = MetricStore(lambda_series(fn, 1, 100), START, NOW)
    default = estimate_workloads(inventory, metrics, PriceBook(), assumptions_from({}), 14, NOW)
    four = estimate_workloads(inventory, metrics, PriceBook(),
                              assumptions_from({"min_tasks": 4}), 14, NOW)
    shape = next(o for o in four[0].options if o.platform == "ecs-fargate").shape
    assert shape["tasks"] == 4
    assert option_costs(four[0])["ecs-fargate"] > option_costs(default[0])["ecs-fargate"]


def test_a_cluster_being_deleted_or_failed_is_not_priced() -> None:
    """Recorded from a real account: a cluster in DELETING was priced as a $438/month workload
    with a $365 saving. Ended resources are neither priced nor judged."""
    live = _cluster("live", "1.33")
    deleting = replace(_cluster("going", "1.29"), status="DELETING")
    failed = replace(_cluster("broken", "1.29"), status="FAILED")
    priced = run(Inventory(eks_clusters=(live, deleting, failed)))
    assert set(priced) == {"live"}


def test_usage_is_scaled_over_the_hours_a_workload_was_seen_not_the_whole_lookback() -> None:
    """Recorded on the demo: with 14 days of metrics, --lookback-days 28 halved a function's
    cost ($365.20 -> $182.59) and 455 days took it to $11.24, at "high" confidence."""
    young = replace(function("young", ROLE), last_modified=NOW - timedelta(days=14))
    old = replace(function("old", ROLE), last_modified=NOW - timedelta(days=400))
    series = {**lambda_series(young, 10, 100), **lambda_series(old, 10, 100)}
    found = {}
    for days in (14, 28, 455):
        metrics = MetricStore(series, NOW - timedelta(days=days), NOW)
        found[days] = {w.name: w for w in estimate_workloads(
            Inventory(lambda_functions=(young, old)), metrics, PriceBook(), Assumptions(),
            days, NOW)}
    # Created 14 days ago: 10 req/s over its own life, whatever the lookback.
    assert found[14]["young"].usage["requests_per_month"] == 10 * 3600 * 730
    for days in (28, 455):
        assert found[days]["young"].usage["requests_per_month"] == 10 * 3600 * 730
        assert found[days]["young"].current.monthly_usd == found[14]["young"].current.monthly_usd
        assert any("since it first appeared" in a for a in found[days]["young"].assumptions)
    # There all along, idle for the first 14 of 28 days: half the monthly rate.
    assert found[28]["old"].usage["requests_per_month"] == 10 * 3600 * 730 / 2
    # Confidence says how many days of data there were.
    assert any("14 day(s) of hourly metrics" in a for a in found[455]["young"].assumptions)
