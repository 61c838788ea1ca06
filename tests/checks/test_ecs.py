"""ECS checks: ecs.task_overprovisioned (p99 of hourly Maximum CPU and peak memory, Fargate
right-size), ecs.idle_service, and the service, task definition and cluster settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.check import Check
from auditor.cost.model import Assumptions
from auditor.data import fargate_platforms
from auditor.engine import run_checks
from auditor.findings import Finding
from auditor.metrics import MetricStore, ecs_query
from auditor.model import CollectionError, Inventory, Scope
from auditor.pricing.book import PriceBook, rate
from checks.ecs import (
    AwslogsBlockingMode,
    ContainerInsightsDisabled,
    ExecEnabled,
    FargatePlatformOutdated,
    IdleService,
    MissingHealthCheck,
    NoAutoscaling,
    NoCircuitBreaker,
    NoLogging,
    SecretsInEnvironment,
    SingleTaskService,
    TaskOverprovisioned,
    UnboundedAutoscaling,
)
from tests import factories as f


def run(cpu: list[float], memory: list[float], cpu_units: int = 2048, memory_mib: int = 4096,
        desired: int = 2, **params: float) -> list:  # type: ignore[type-arg]
    td = f.task_definition(cpu=cpu_units, memory=memory_mib)
    svc = f.service("api", td, desired=desired)
    check = TaskOverprovisioned(params)
    series = {ecs_query(svc, "CPUUtilization"): f.hourly(cpu),
              ecs_query(svc, "MemoryUtilization"): f.hourly(memory)}
    inventory = Inventory(task_definitions=(td,), ecs_services=(svc,))
    assert set(check.metric_queries(inventory, f.context(check))) == set(series)
    return list(check.evaluate(inventory, f.context(check, series, inventory=inventory)))


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


# --------------------------------------------------------------------------- ecs.idle_service


def run_idle(cpu: list[float], desired: int = 2, launch_type: str = "FARGATE",
             assumptions: Assumptions | None = None) -> list[Finding]:
    td = f.task_definition(cpu=512, memory=1024)
    svc = f.service("old-api", td, desired=desired, launch_type=launch_type)
    check = IdleService()
    inventory = Inventory(task_definitions=(td,), ecs_services=(svc,))
    series = {ecs_query(svc, "CPUUtilization"): f.hourly(cpu)}
    return list(check.evaluate(inventory, f.context(check, series, inventory=inventory,
                                                    assumptions=assumptions)))


@pytest.mark.fires("ecs.idle_service")
def test_service_never_above_five_percent_fails_with_its_whole_cost() -> None:
    [finding] = run_idle([1.0] * 335 + [4.9])
    per_task = PriceBook().fargate_task_month(0.5, 1.0)
    assert finding.monthly_savings_usd == pytest.approx(round(2 * per_task, 2))
    assert finding.savings_kind == "idle"
    assert finding.evidence["cpu_max_percent"] == 4.9
    assert "below 5%" in finding.evidence["rule"]
    assert "in all 336 hours (highest 4.9%)" in finding.message


@pytest.mark.quiet("ecs.idle_service")
def test_one_busy_hour_is_enough_to_be_working() -> None:
    assert run_idle([1.0] * 335 + [30.0]) == []


def test_idle_service_edge_cases() -> None:
    assert run_idle([1.0] * 10) == []  # too little data
    assert run_idle([1.0] * 336, desired=0) == []  # no tasks asked for, so no queries either
    [on_ec2] = run_idle([1.0] * 336, launch_type="EC2")
    assert on_ec2.monthly_savings_usd is None  # its instances may run other work
    assert run_idle([6.0] * 336, assumptions=Assumptions(idle_cpu_max_percent=7.0))


# --------------------------------------------------------------------------- configuration checks


def judge(check: Check, **inventory: object) -> list[Finding]:
    return list(check.evaluate(Inventory(**inventory), f.context(check)))  # type: ignore[arg-type]


TD = f.task_definition()


@pytest.mark.fires("ecs.single_task_service")
def test_replica_service_with_one_task_fails() -> None:
    [finding] = judge(SingleTaskService(), ecs_services=(f.service("admin", TD, desired=1),))
    assert finding.evidence == {"cluster": "prod", "desired_count": 1, "threshold_min_tasks": 2}


@pytest.mark.quiet("ecs.single_task_service")
def test_two_tasks_a_daemon_or_a_stopped_service_pass() -> None:
    daemon = replace(f.service("agent", TD, desired=1), scheduling_strategy="DAEMON")
    services = (f.service("api", TD, desired=2), f.service("off", TD, desired=0), daemon)
    assert judge(SingleTaskService(), ecs_services=services) == []
    assert judge(SingleTaskService({"min_tasks": 3}), ecs_services=services[:1])


@pytest.mark.fires("ecs.no_circuit_breaker")
def test_rolling_deployment_without_breaker_fails() -> None:
    [finding] = judge(NoCircuitBreaker(), ecs_services=(f.service("api", TD),))
    assert finding.evidence["circuit_breaker_enabled"] is False


@pytest.mark.quiet("ecs.no_circuit_breaker")
def test_breaker_on_or_another_controller_passes() -> None:
    services = (replace(f.service("api", TD), circuit_breaker_enabled=True),
                replace(f.service("blue-green", TD), deployment_controller="CODE_DEPLOY"))
    assert judge(NoCircuitBreaker(), ecs_services=services) == []


@pytest.mark.fires("ecs.no_autoscaling")
def test_service_without_a_scalable_target_fails() -> None:
    other = f.scalable_target(f.service("api", TD, cluster="staging"))
    [finding] = judge(NoAutoscaling(), ecs_services=(f.service("api", TD),),
                    scalable_targets=(other,))
    assert finding.evidence["scalable_target"] is None
    assert "runs 2 task(s) whatever the load" in finding.message


def test_a_target_pinned_at_its_minimum_cannot_scale() -> None:
    svc = f.service("api", TD)
    [finding] = judge(NoAutoscaling(), ecs_services=(svc,),
                    scalable_targets=(f.scalable_target(svc, 2, 2),))
    assert (finding.evidence["min_capacity"], finding.evidence["max_capacity"]) == (2, 2)


@pytest.mark.quiet("ecs.no_autoscaling")
def test_service_with_a_scalable_target_passes() -> None:
    svc = f.service("api", TD)
    daemon = replace(f.service("agent", TD), scheduling_strategy="DAEMON")
    assert judge(NoAutoscaling(), ecs_services=(svc, daemon),
               scalable_targets=(f.scalable_target(svc),)) == []


@pytest.mark.fires("ecs.unbounded_autoscaling")
def test_maximum_above_fifty_fails() -> None:
    svc = f.service("api", TD, desired=4)
    [finding] = judge(UnboundedAutoscaling(), ecs_services=(svc,),
                    scalable_targets=(f.scalable_target(svc, 2, 200),))
    assert finding.evidence["max_capacity"] == 200
    assert finding.evidence["threshold_max_capacity"] == 50
    assert "may scale to 200 tasks (threshold 50), 50x the 4" in finding.message


@pytest.mark.quiet("ecs.unbounded_autoscaling")
def test_maximum_at_the_threshold_passes_and_the_threshold_is_configurable() -> None:
    svc = f.service("api", TD)
    targets = (f.scalable_target(svc, 2, 50),)
    assert judge(UnboundedAutoscaling(), ecs_services=(svc,), scalable_targets=targets) == []
    assert judge(UnboundedAutoscaling({"max_capacity": 20}), ecs_services=(svc,),
               scalable_targets=targets)


@pytest.mark.fires("ecs.secrets_in_environment")
def test_plaintext_secret_is_reported_by_name_never_by_value() -> None:
    value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    env = {"AWS_SECRET_ACCESS_KEY": value, "DB_PASSWORD": "hunter2hunter2", "STAGE": "prod"}
    td = f.task_definition(containers=(f.container(environment=env),))
    [finding] = judge(SecretsInEnvironment(), task_definitions=(td,))
    assert [v["variable"] for v in finding.evidence["variables"]] == [
        "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"]
    assert finding.evidence["variables"][0]["masked"] == "********** (40 chars)"
    assert "app/AWS_SECRET_ACCESS_KEY, app/DB_PASSWORD" in finding.message
    assert value not in repr(finding) and "hunter2" not in repr(finding)


@pytest.mark.quiet("ecs.secrets_in_environment")
def test_plain_settings_and_secret_references_pass() -> None:
    env = {"STAGE": "prod", "DB_PASSWORD_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x"}
    td = f.task_definition(containers=(f.container(environment=env, secrets=("db",)),))
    assert judge(SecretsInEnvironment(), task_definitions=(td,)) == []


@pytest.mark.fires("ecs.missing_health_check")
def test_service_behind_no_load_balancer_without_container_health_check_fails() -> None:
    sidecar = f.container(name="proxy", health_check=True)
    td = f.task_definition(containers=(f.container(), sidecar,
                                       f.container(name="init", essential=False)))
    [finding] = judge(MissingHealthCheck(), task_definitions=(td,),
                    ecs_services=(f.service("worker", td),))
    assert finding.evidence["containers_without_health_check"] == ["app"]


@pytest.mark.quiet("ecs.missing_health_check")
def test_container_health_check_or_a_load_balancer_covers_the_service() -> None:
    checked = f.task_definition("a", containers=(f.container(health_check=True),))
    unchecked = f.task_definition("b")
    behind_lb = replace(f.service("web", unchecked), target_group_arns=(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0a1b",))
    assert judge(MissingHealthCheck(), task_definitions=(checked, unchecked),
               ecs_services=(f.service("worker", checked), behind_lb)) == []


@pytest.mark.fires("ecs.container_insights_disabled")
def test_cluster_with_insights_disabled_or_unset_fails() -> None:
    found = judge(ContainerInsightsDisabled(), ecs_clusters=(
        f.cluster("a", "disabled"), f.cluster("b", None)))
    assert [x.evidence["container_insights"] for x in found] == ["disabled", None]
    assert "Container Insights unset" in found[1].message


@pytest.mark.quiet("ecs.container_insights_disabled")
def test_cluster_with_insights_enabled_or_enhanced_passes() -> None:
    assert judge(ContainerInsightsDisabled(), ecs_clusters=(
        f.cluster("a", "enabled"), f.cluster("b", "enhanced"))) == []


def test_savings_are_priced_in_the_service_region() -> None:
    assert PriceBook().in_region("sa-east-1").fargate_vcpu_hour > PriceBook().fargate_vcpu_hour
    td = f.task_definition(cpu=2048, memory=4096)
    base = f.service("api", td)
    svc = replace(base, region="sa-east-1", arn=base.arn.replace("us-east-1", "sa-east-1"))
    check = TaskOverprovisioned()
    series = {ecs_query(svc, "CPUUtilization"): f.hourly([10.0] * 336),
              ecs_query(svc, "MemoryUtilization"): f.hourly([20.0] * 336)}
    inventory = Inventory(task_definitions=(td,), ecs_services=(svc,))
    [finding] = check.evaluate(inventory, f.context(check, series, inventory=inventory))
    book = PriceBook().in_region("sa-east-1")  # Fargate costs 1.72x us-east-1 there
    per_task = 730 * ((2 - 0.5) * book.fargate_vcpu_hour + (4 - 2) * book.fargate_gb_hour)
    assert finding.monthly_savings_usd == pytest.approx(2 * per_task, abs=0.01)
    assert f"${rate(book.fargate_vcpu_hour)}/vCPU-h" in (
        finding.evidence["arithmetic"]["right_sized"]["compute"])


# --------------------------------------------------------------------------- awslogs mode


def logging_td(family: str, *modes: str | None, default: str | None = "non-blocking"
               ) -> object:
    """A task definition with one awslogs container per mode (None: no `mode` option), read
    where the account's defaultLogDriverMode is `default`."""
    containers = tuple(
        replace(f.container(name=f"c{i}"), log_options={"awslogs-group": "/ecs/x",
                                                        **({"mode": m} if m else {})})
        for i, m in enumerate(modes))
    return replace(f.task_definition(family, containers=containers),
                   default_log_driver_mode=default)


@pytest.mark.fires("ecs.awslogs_blocking_mode")
def test_blocking_mode_fails_whether_set_on_the_container_or_by_the_account_default() -> None:
    explicit = logging_td("explicit", "blocking", "non-blocking")
    by_default = logging_td("by-default", None, default="blocking")
    found = judge(AwslogsBlockingMode(), task_definitions=(explicit, by_default))
    assert [x.evidence["containers"] for x in found] == [
        [{"container": "c0", "mode": "blocking", "set_by": "container"}],
        [{"container": "c0", "mode": "blocking", "set_by": "account defaultLogDriverMode"}]]
    assert "CloudWatch Logs outage stalls" in found[0].message


@pytest.mark.quiet("ecs.awslogs_blocking_mode")
def test_non_blocking_by_container_or_default_and_other_drivers_pass() -> None:
    other = f.task_definition("splunk", containers=(f.container(log_driver="splunk"),))
    assert judge(AwslogsBlockingMode(), task_definitions=(
        logging_td("a", "non-blocking"), logging_td("b", None), other)) == []


def test_a_failed_account_setting_leaves_unknown_only_what_relies_on_the_default() -> None:
    error = CollectionError(f.ACCOUNT, f.REGION, "ecs", "ListAccountSettings",
                            "AccessDeniedException", "no", ("ecs.account_settings",))
    relies = logging_td("relies", None, default=None)
    explicit = logging_td("explicit", "blocking", None, default=None)
    own = logging_td("own", "non-blocking", default=None)
    inventory = Inventory(scopes=(Scope(f.ACCOUNT, f.REGION),), errors=(error,),
                          task_definitions=(relies, explicit, own))
    found = run_checks([AwslogsBlockingMode()], inventory, MetricStore(), f.NOW, 14,
                       PriceBook()).findings
    verdicts = {x.resource_arn.rsplit("/", 1)[-1]: x for x in found}
    assert {k: v.status for k, v in verdicts.items()} == {"relies:1": "unknown",
                                                          "explicit:1": "fail"}
    assert "ecs:ListAccountSettings AccessDeniedException" in verdicts["relies:1"].message


def test_an_answer_without_the_setting_is_unknown_not_a_pass() -> None:
    [finding] = judge(AwslogsBlockingMode(),
                      task_definitions=(logging_td("relies", None, default=None),))
    assert finding.status == "unknown" and "defaultLogDriverMode" in finding.message


# --------------------------------------------------------------------------- no logging


@pytest.mark.fires("ecs.no_logging")
def test_an_essential_container_without_log_configuration_fails() -> None:
    td = f.task_definition(containers=(
        f.container(), f.container(name="worker", log_driver=None),
        f.container(name="muted", log_driver="none"),
        f.container(name="init", log_driver=None, essential=False)))
    [finding] = judge(NoLogging(), task_definitions=(td,))
    assert finding.evidence["containers"] == [{"container": "worker", "log_driver": None},
                                              {"container": "muted", "log_driver": "none"}]


@pytest.mark.quiet("ecs.no_logging")
def test_containers_that_log_anywhere_pass() -> None:
    td = f.task_definition(containers=(f.container(), f.container("x", log_driver="awsfirelens",
                                                                  name="router")))
    assert judge(NoLogging(), task_definitions=(td,)) == []


# --------------------------------------------------------------------------- Fargate platform


def pinned(name: str, version: str | None, family: str | None = "LINUX",
           launch_type: str = "FARGATE") -> object:
    return replace(f.service(name, TD, launch_type=launch_type), platform_version=version,
                   platform_family=family)


@pytest.mark.fires("ecs.fargate_platform_outdated")
def test_a_service_pinned_below_the_current_version_fails_and_names_the_table() -> None:
    [finding] = judge(FargatePlatformOutdated(), ecs_services=(pinned("old", "1.3.0"),),
                      task_definitions=(TD,))
    table = fargate_platforms()
    assert finding.evidence["current_version"] == table.current["LINUX"] == "1.4.0"
    assert finding.evidence["table"] == table.describe()
    assert "1.3.0" in finding.message and table.as_of in finding.message


@pytest.mark.quiet("ecs.fargate_platform_outdated")
def test_latest_current_newer_windows_and_ec2_services_pass() -> None:
    services = (pinned("latest", "LATEST"), pinned("current", "1.4.0"),
                pinned("newer", "1.5.0"), pinned("win", "1.0.0", "WINDOWS_SERVER_2022_CORE"),
                pinned("ec2", None, None, launch_type="EC2"), pinned("unset", None))
    assert judge(FargatePlatformOutdated(), ecs_services=services, task_definitions=(TD,)) == []


def test_the_os_family_comes_from_the_task_definition_when_the_service_gives_none() -> None:
    windows = replace(TD, os_family="WINDOWS_SERVER_2019_FULL")
    assert judge(FargatePlatformOutdated(), ecs_services=(pinned("win", "1.0.0", None),),
                 task_definitions=(windows,)) == []
    [unknown] = judge(FargatePlatformOutdated(), ecs_services=(pinned("win", "1.0.0", None),))
    assert unknown.status == "unknown"


# --------------------------------------------------------------------------- ECS Exec


def exec_service(name: str, enabled: bool, **tags: str) -> object:
    return replace(f.service(name, TD), enable_execute_command=enabled, tags=tags)


@pytest.mark.fires("ecs.exec_enabled")
def test_exec_on_a_service_tagged_production_fails() -> None:
    found = judge(ExecEnabled(), ecs_services=(
        exec_service("api", True, Environment="Production"), exec_service("web", True, env="prod")))
    assert [x.evidence["production_tags"] for x in found] == [{"Environment": "Production"},
                                                               {"env": "prod"}]


@pytest.mark.quiet("ecs.exec_enabled")
def test_exec_off_in_production_or_on_elsewhere_passes_and_the_tags_are_configurable() -> None:
    services = (exec_service("api", False, env="production"),
                exec_service("staging", True, env="staging"), exec_service("untagged", True))
    assert judge(ExecEnabled(), ecs_services=services) == []
    tier = ExecEnabled({"production_tag_keys": "tier", "production_tag_values": "live"})
    assert judge(tier, ecs_services=(exec_service("api", True, env="production"),)) == []
    assert judge(tier, ecs_services=(exec_service("api", True, tier="live"),))
