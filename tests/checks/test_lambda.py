"""Lambda checks: provisioned concurrency, database and queue concurrency, metrics-based
checks, runtimes, secrets and log retention."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from auditor.check import Check
from auditor.cost.usage import daily_totals, function_usage, function_usage_queries
from auditor.data import lambda_runtimes
from auditor.findings import Finding, Severity
from auditor.metrics import MetricQuery, Series, lambda_query, provisioned_query
from auditor.model import (
    AsyncInvoker,
    EventSourceMapping,
    FunctionUrl,
    Inventory,
    LambdaFunction,
    LogGroup,
    RdsCluster,
    RdsInstance,
    RdsProxy,
    SecurityGroup,
    SecurityGroupRule,
)
from auditor.pricing.book import PriceBook, rate
from checks.lambda_ import (
    DbConnectionStorm,
    DeprecatedRuntime,
    FunctionUrlPublic,
    HighErrorRate,
    LogRetentionUnset,
    LongRunningCandidate,
    NearTimeout,
    NoFailureDestination,
    ProvisionedConcurrencyWaste,
    SecretsInEnvironment,
    UnboundedEventSourceScaling,
    X86Arm64Candidate,
)
from tests import factories as f


def run(values: list[float], allocated: int = 50, memory: int = 1024,
        arch: str = "x86_64") -> list:  # type: ignore[type-arg]
    fn = f.function("checkout", "arn:aws:iam::123456789012:role/r", memory=memory, arch=arch)
    config = f.provisioned(fn, allocated=allocated)
    check = ProvisionedConcurrencyWaste()
    inventory = Inventory(lambda_functions=(fn,), provisioned_concurrency=(config,))
    series = {provisioned_query(config): f.hourly(values)}
    return list(check.evaluate(inventory, f.context(check, series, inventory=inventory)))


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
    provisioned = finding.evidence["arithmetic"]["current"]["provisioned_concurrency"]
    assert f"${rate(PriceBook().lambda_arm_provisioned_gb_s)}/GB-s" in provisioned
    expected = 45 * 1.0 * 730 * 3600 * PriceBook().lambda_arm_provisioned_gb_s
    assert finding.monthly_savings_usd == pytest.approx(round(expected, 2))


@pytest.mark.quiet("lambda.provisioned_concurrency_waste")
def test_busy_p95_passes_even_with_quiet_hours() -> None:
    assert run([0.05] * 300 + [0.9] * 36) == []


def test_no_metrics_is_not_judged() -> None:
    assert run([]) == []


# --------------------------------------------------------------------------- shared fixtures

ROLE = f"arn:aws:iam::{f.ACCOUNT}:role/fn"


def fn(name: str = "worker", **changes: Any) -> LambdaFunction:
    return replace(f.function(name, ROLE), **changes)


def evaluate(check: Check, inventory: Inventory,
             series: dict[MetricQuery, Series] | None = None) -> list[Finding]:
    return list(check.evaluate(inventory, f.context(check, series, inventory=inventory)))


# --------------------------------------------------------------------------- db_connection_storm


def group(group_id: str, *rules: SecurityGroupRule, vpc_id: str = "vpc-a") -> SecurityGroup:
    return SecurityGroup(f"arn:aws:ec2:{f.REGION}:{f.ACCOUNT}:security-group/{group_id}",
                         f.ACCOUNT, f.REGION, group_id, vpc_id, group_id, rules, ())


def tcp(port: int, groups: tuple[str, ...] = (), cidrs: tuple[str, ...] = ()
        ) -> SecurityGroupRule:
    return SecurityGroupRule("tcp", port, port, cidrs, groups)


def db(identifier: str = "orders", engine: str = "postgres", cls: str = "db.t4g.medium",
       groups: tuple[str, ...] = ("sg-db",), cluster: str | None = None,
       parameter: str | None = None) -> RdsInstance:
    return RdsInstance(f"arn:aws:rds:{f.REGION}:{f.ACCOUNT}:db:{identifier}", f.ACCOUNT,
                       f.REGION, identifier, engine, cls, cluster, groups, 5432,
                       "orders-pg" if parameter else f"default.{engine}16", parameter)


def proxy(targets: tuple[str, ...] = ("orders",), groups: tuple[str, ...] = ("sg-proxy",)
          ) -> RdsProxy:
    return RdsProxy(f"arn:aws:rds:{f.REGION}:{f.ACCOUNT}:db-proxy:prx-1", f.ACCOUNT, f.REGION,
                    "orders-proxy", "POSTGRESQL", groups, ("subnet-1",), "vpc-a", targets)


def in_vpc(reserved: int | None = None) -> LambdaFunction:
    return replace(f.function("writer", ROLE, subnets=("subnet-1",)),
                   reserved_concurrency=reserved, reserved_concurrency_known=True)


def storm(function: LambdaFunction, *groups: SecurityGroup, databases: tuple[RdsInstance, ...]
          = (), clusters: tuple[RdsCluster, ...] = (), proxies: tuple[RdsProxy, ...] = (),
          **params: float) -> list[Finding]:
    inventory = Inventory(lambda_functions=(function,), security_groups=groups,
                          subnets=(f.subnet("subnet-1"),),
                          rds_instances=databases or (db(),), rds_clusters=clusters,
                          rds_proxies=proxies)
    return evaluate(DbConnectionStorm(params), inventory)


@pytest.mark.fires("lambda.db_connection_storm")
def test_function_admitted_by_the_database_group_without_a_cap_is_flagged() -> None:
    [finding] = storm(in_vpc(), group("sg-db", tcp(5432, groups=("sg-1",))))
    [database] = finding.evidence["databases"]
    assert database["reached_by"] == ["sg-db allows sg-1 on port 5432"]
    # 4 GiB / 9,531,392 bytes per connection = 450 (PostgreSQL's default formula).
    assert database["max_connections"] == 450
    assert database["max_connections_source"] == "engine default formula"
    assert "db.t4g.medium's nominal 4 GiB" in database["max_connections_basis"]
    assert "no reserved concurrency" in finding.message and "450" in finding.message


def test_a_cidr_holding_the_function_subnet_reaches_too() -> None:
    [finding] = storm(in_vpc(), group("sg-db", tcp(5432, cidrs=("10.0.0.0/16",))))
    [database] = finding.evidence["databases"]
    assert database["reached_by"] == ["sg-db allows 10.0.0.0/16 (holds subnet-1) on port 5432"]
    # The same range in another VPC means other addresses.
    assert storm(in_vpc(), group("sg-db", tcp(5432, cidrs=("10.0.0.0/16",)), vpc_id="vpc-b")
                 ) == []


def test_reserved_concurrency_above_the_budget_is_flagged_and_below_is_not() -> None:
    rule = group("sg-db", tcp(5432, groups=("sg-1",)))
    [finding] = storm(in_vpc(reserved=500), rule)
    assert "reserved concurrency of 500 is above" in finding.message
    assert storm(in_vpc(reserved=100), rule) == []
    # Half of the 450 connections for this function: 300 is too many.
    assert storm(in_vpc(reserved=300), rule, connection_budget_percent=50.0)


@pytest.mark.quiet("lambda.db_connection_storm")
def test_an_rds_proxy_the_function_reaches_takes_it_out_of_the_path() -> None:
    groups = (group("sg-db", tcp(5432, groups=("sg-1", "sg-proxy"))),
              group("sg-proxy", tcp(5432, groups=("sg-1",))))
    assert storm(in_vpc(), *groups, proxies=(proxy(),)) == []
    # A proxy for another database, or one the function cannot reach, does not count.
    [other] = storm(in_vpc(), *groups, proxies=(proxy(targets=("ledger",)),))
    [unreachable] = storm(in_vpc(), groups[0], group("sg-proxy"), proxies=(proxy(),))
    assert unreachable.evidence["databases"][0]["proxies_fronting_it_out_of_reach"] == [
        "orders-proxy"]
    assert other.evidence["databases"][0]["proxies_fronting_it_out_of_reach"] == []


def test_other_ports_groups_and_functions_outside_a_vpc_are_quiet() -> None:
    assert storm(in_vpc(), group("sg-db", tcp(3306, groups=("sg-1",)))) == []
    assert storm(in_vpc(), group("sg-db", tcp(5432, groups=("sg-other",)))) == []
    outside = replace(in_vpc(), vpc_id=None)
    assert storm(outside, group("sg-db", tcp(5432, groups=("sg-1",)))) == []
    unknown = replace(in_vpc(), reserved_concurrency_known=False)
    assert storm(unknown, group("sg-db", tcp(5432, groups=("sg-1",)))) == []


def test_aurora_cluster_budget_is_its_smallest_member_and_parameter_groups_win() -> None:
    rule = group("sg-db", tcp(5432, groups=("sg-1",)))
    aurora = RdsCluster(f"arn:aws:rds:{f.REGION}:{f.ACCOUNT}:cluster:ledger", f.ACCOUNT,
                        f.REGION, "ledger", "aurora-mysql", ("sg-db",), 5432, ("w", "r"))
    members = (db("w", "aurora-mysql", "db.r6g.2xlarge", cluster="ledger"),
               db("r", "aurora-mysql", "db.r6g.large", cluster="ledger"))
    [finding] = storm(in_vpc(reserved=1500), rule, databases=members, clusters=(aurora,))
    [database] = finding.evidence["databases"]
    assert (database["identifier"], database["instance_class"]) == ("ledger", "db.r6g.large")
    # GREATEST(log2(16 GiB / 805306368) * 45, log2(16 GiB / 8187281408) * 1000) = 1069.
    assert database["max_connections"] == 1069
    [custom] = storm(in_vpc(reserved=250), rule, databases=(db(parameter="200"),))
    assert custom.evidence["databases"][0]["max_connections_source"] == "parameter group"
    assert custom.evidence["databases"][0]["max_connections"] == 200


# --------------------------------------------------------------------------- event sources


def mapping(function: LambdaFunction, maximum: int | None = None, source: str = "sqs",
            state: str = "Enabled") -> EventSourceMapping:
    return EventSourceMapping(
        f"arn:aws:lambda:{f.REGION}:{f.ACCOUNT}:event-source-mapping:1", f.ACCOUNT, f.REGION,
        "1", function.arn, f"arn:aws:{source}:{f.REGION}:{f.ACCOUNT}:orders-events", state, 10,
        maximum)


def queue_fed(reserved: int | None = None, **changes: Any) -> list[Finding]:
    function = replace(fn(), reserved_concurrency=reserved, reserved_concurrency_known=True)
    inventory = Inventory(lambda_functions=(function,),
                          event_source_mappings=(mapping(function, **changes),))
    return evaluate(UnboundedEventSourceScaling(), inventory)


@pytest.mark.fires("lambda.unbounded_event_source_scaling")
def test_sqs_mapping_without_any_bound_is_flagged_on_the_mapping() -> None:
    [finding] = queue_fed()
    assert finding.resource_type == "lambda-event-source-mapping"
    assert "orders-events" in finding.message and "worker" in finding.message


@pytest.mark.quiet("lambda.unbounded_event_source_scaling")
def test_either_bound_or_another_source_keeps_it_quiet() -> None:
    assert queue_fed(maximum=5) == []
    assert queue_fed(reserved=20) == []
    assert queue_fed(source="kinesis") == []
    assert queue_fed(state="Disabled") == []


# --------------------------------------------------------------------------- metrics


@pytest.mark.fires("lambda.near_timeout")
def test_slowest_invocation_over_80_percent_of_the_timeout() -> None:
    function = fn()  # 30 s timeout
    series = {lambda_query(function, "Duration", "Maximum"):
              f.hourly([2000.0] * 300 + [26000.0] * 3 + [30000.0])}
    [finding] = evaluate(NearTimeout(), Inventory(lambda_functions=(function,)), series)
    assert finding.evidence["hours_over_threshold"] == 4
    assert finding.evidence["hours_at_timeout"] == 1
    assert "100% of its 30 s timeout (threshold 80%)" in finding.message


@pytest.mark.quiet("lambda.near_timeout")
def test_slowest_invocation_under_the_threshold_is_quiet() -> None:
    function = fn()
    series = {lambda_query(function, "Duration", "Maximum"): f.hourly([23000.0] * 100)}
    inventory = Inventory(lambda_functions=(function,))
    assert evaluate(NearTimeout(), inventory, series) == []
    assert evaluate(NearTimeout({"max_percent_of_timeout": 75.0}), inventory, series)


def error_days(errors: list[float], calls: list[float]) -> list[Finding]:
    function = fn()
    series = {lambda_query(function, "Errors", "Sum"): f.hourly(errors),
              lambda_query(function, "Invocations", "Sum"): f.hourly(calls)}
    check = HighErrorRate()
    inventory = Inventory(lambda_functions=(function,))
    assert set(check.metric_queries(inventory, f.context(check))) == set(series)
    return evaluate(check, inventory, series)


@pytest.mark.fires("lambda.high_error_rate")
def test_one_bad_day_is_enough() -> None:
    # f.NOW is 02:00, so the last 48 hours end two hours into 2026-11-23.
    [finding] = error_days([1.0] * 24 + [30.0] * 22 + [1.0] * 2, [100.0] * 48)
    assert finding.evidence["worst_day"] == "2026-11-22"
    assert finding.evidence["worst_day_error_percent"] == pytest.approx(
        (30 * 22 + 2) / 2400 * 100, abs=0.01)
    assert list(finding.evidence["days_over_threshold"]) == ["2026-11-22"]


@pytest.mark.quiet("lambda.high_error_rate")
def test_errors_spread_below_the_threshold_or_on_quiet_days_are_quiet() -> None:
    assert error_days([9.0] * 48, [100.0] * 48) == []
    # 3 errors in 4 calls is 75%, but on a day under 10 invocations.
    assert error_days([0.0] * 46 + [3.0, 0.0], [100.0] * 46 + [2.0, 2.0]) == []


def usage_series(function: LambdaFunction, calls_per_hour: float, duration_ms: float,
                 hours: int = 336) -> dict[MetricQuery, Series]:
    invocations, duration = function_usage_queries(function)
    return {invocations: f.hourly([calls_per_hour] * hours),
            duration: f.hourly([calls_per_hour * duration_ms] * hours)}


@pytest.mark.fires("lambda.long_running_candidate")
def test_long_steady_work_is_a_container_candidate_with_its_usage() -> None:
    function = fn(memory_mb=2048)
    # 3,600 calls an hour of 2 s each: 2 environments busy all day.
    series = usage_series(function, 3600, 2000.0)
    [finding] = evaluate(LongRunningCandidate(), Inventory(lambda_functions=(function,)), series)
    used = finding.evidence["usage"]
    assert used["avg_concurrency"] == 2.0 and used["avg_duration_ms"] == 2000.0
    assert used["requests_per_month"] == 3600 * 730
    monthly = 3600 * 730 * 2 * 2 * PriceBook().lambda_gb_s + 3600 * 730 / 1e6 * 0.20
    assert finding.evidence["lambda_monthly_usd"] == pytest.approx(round(monthly, 2))


@pytest.mark.quiet("lambda.long_running_candidate")
def test_short_rare_or_bursty_work_is_quiet() -> None:
    function = fn()
    inventory = Inventory(lambda_functions=(function,))
    check = LongRunningCandidate()
    assert evaluate(check, inventory, usage_series(function, 36000, 200.0)) == []  # short
    assert evaluate(check, inventory, usage_series(function, 4, 40000.0)) == []  # rare
    bursty = usage_series(function, 36000, 2000.0, hours=100)  # only 100 of 336 hours
    assert evaluate(check, inventory, bursty) == []


@pytest.mark.fires("lambda.x86_arm64_candidate")
def test_x86_function_saves_the_price_difference_on_its_gb_seconds() -> None:
    function = fn(memory_mb=1024)
    series = usage_series(function, 36000, 100.0)  # 10 calls/s of 100 ms at 1 GB
    check = X86Arm64Candidate()
    inventory = Inventory(lambda_functions=(function,))
    [finding] = evaluate(check, inventory, series)
    prices = PriceBook()
    gb_s = 36000 * 730 * 0.1 * 1.0
    expected = gb_s * (prices.lambda_gb_s - prices.lambda_arm_gb_s)
    # Each option's lines are priced to the cent, so the difference may move by one.
    assert finding.monthly_savings_usd == pytest.approx(expected, abs=0.01)
    assert finding.savings_kind == "arm64"
    arithmetic = finding.evidence["arithmetic"]
    assert "$0.0000166667/GB-s" in arithmetic["x86_64"]["duration"]
    assert "$0.0000133334/GB-s" in arithmetic["arm64"]["duration"]


@pytest.mark.quiet("lambda.x86_arm64_candidate")
def test_arm64_x86_only_runtimes_images_and_tiny_savings_are_quiet() -> None:
    check = X86Arm64Candidate()
    for function in (fn(architectures=("arm64",)), fn(runtime="go1.x"), fn(runtime=None)):
        inventory = Inventory(lambda_functions=(function,))
        assert evaluate(check, inventory, usage_series(function, 36000, 100.0)) == []
    function = fn(memory_mb=128)
    assert evaluate(check, Inventory(lambda_functions=(function,)),
                    usage_series(function, 10, 100.0)) == []


def test_usage_is_measured_over_the_hours_the_function_was_seen() -> None:
    function = fn()
    ctx = f.context(LongRunningCandidate(), usage_series(function, 100, 50.0, hours=336))
    used = function_usage(function, ctx.metrics, ctx.lookback_days)
    assert used is not None
    assert used.window_hours == 336 and used.active_percent == 100
    # 100 calls an hour of 50 ms: 5 execution-seconds an hour.
    assert used.avg_concurrency == pytest.approx(5 / 3600)
    assert function_usage(fn("idle"), ctx.metrics, ctx.lookback_days) is None


def test_daily_totals_group_hours_by_utc_day() -> None:
    assert daily_totals(f.hourly([1.0] * 26)) == {date(2026, 11, 22): 24.0,
                                                   date(2026, 11, 23): 2.0}
    assert daily_totals(None) == {}


# --------------------------------------------------------------------------- configuration


def runtime(name: str | None) -> list[Finding]:
    return evaluate(DeprecatedRuntime(), Inventory(lambda_functions=(fn(runtime=name),)))


@pytest.mark.fires("lambda.deprecated_runtime")
def test_past_deprecation_is_high_and_names_a_successor() -> None:
    [finding] = runtime("python3.9")
    assert finding.severity == Severity.HIGH
    assert finding.evidence["deprecation_date"] == "2025-12-15"
    assert finding.evidence["suggested_runtime"] == "python3.14"
    assert finding.evidence["runtimes_table"]["as_of"]


@pytest.mark.parametrize(("now", "ago"), [
    (datetime(2026, 11, 29, 7, 0, tzinfo=UTC), 349),
    (datetime(2026, 11, 29, 0, 0, tzinfo=UTC), 349),
    (datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC), 348),
    (datetime(2025, 12, 15, 0, 0, tzinfo=UTC), 0),
])
def test_days_since_deprecation_are_whole_days_passed(now: datetime, ago: int) -> None:
    """python3.9 was deprecated on 2025-12-15 at midnight UTC: 349 days and some hours later
    it is 349 days ago, not 350."""
    check = DeprecatedRuntime()
    inventory = Inventory(lambda_functions=(fn(runtime="python3.9"),))
    [finding] = check.evaluate(inventory, replace(f.context(check), now=now))
    assert f"was deprecated on 2025-12-15 ({ago} days ago)" in finding.message


def test_within_120_days_is_medium() -> None:
    # nodejs22.x: 2027-04-30 is 157 days after f.NOW.
    assert runtime("nodejs22.x") == []
    [soon] = evaluate(DeprecatedRuntime({"warn_days": 160}),
                      Inventory(lambda_functions=(fn(runtime="nodejs22.x"),)))
    assert soon.severity == Severity.MEDIUM
    assert soon.evidence["days_until_deprecation"] == 157
    assert soon.evidence["suggested_runtime"] == "nodejs24.x"


@pytest.mark.quiet("lambda.deprecated_runtime")
def test_current_and_container_runtimes_are_quiet() -> None:
    assert runtime("python3.13") == []
    assert runtime(None) == []


@pytest.mark.parametrize(("name", "oldest"), [
    ("nodejs4.3", "nodejs6.10"), ("nodejs", "nodejs6.10"), ("dotnetcore1.0", "dotnetcore2.1"),
    ("python2.6", "python2.7"),
])
def test_a_runtime_older_than_every_listed_one_of_its_language_is_deprecated(
        name: str, oldest: str) -> None:
    # Recorded from real accounts: long-retired runtimes the dated table no longer lists.
    [finding] = runtime(name)
    assert (finding.status, finding.severity) == ("fail", Severity.HIGH)
    assert finding.evidence["rule"].endswith(f"(oldest listed: {oldest})")
    assert finding.evidence["deprecated_before"] == (
        lambda_runtimes().runtimes[oldest].deprecation.date().isoformat())  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["python3.99", "nodejs30.x", "kotlin2.1"])
def test_a_runtime_the_table_cannot_place_is_unknown_never_a_pass(name: str) -> None:
    [finding] = runtime(name)
    assert finding.status == "unknown"
    assert "does not list" in finding.message and finding.evidence["runtime"] == name


@pytest.mark.parametrize(("name", "date_text"), [
    ("python3.10", "2026-06-30"), ("python3.11", "2026-06-30"), ("java11", "2026-06-30"),
    ("java17", "2026-06-30"), ("provided.al2", "2026-06-30"), ("nodejs20.x", "2026-04-30"),
    ("dotnet8", "2026-11-10"), ("nodejs22.x", "2027-04-30"), ("python3.9", "2025-12-15"),
    ("nodejs18.x", "2025-09-01"),
])
def test_runtime_table_carries_the_spec_dates(name: str, date_text: str) -> None:
    entry = lambda_runtimes().get(name)
    assert entry is not None and entry.deprecation is not None
    assert entry.deprecation.date().isoformat() == date_text


@pytest.mark.fires("lambda.secrets_in_environment")
def test_secret_looking_variables_are_named_and_masked_never_shown() -> None:
    secret = "hunter2-very-secret"
    function = fn(environment={"DB_PASSWORD": secret, "LOG_LEVEL": "info",
                               "AWS_KEY": "AKIAABCDEFGHIJKLMNOP"})
    [finding] = evaluate(SecretsInEnvironment(), Inventory(lambda_functions=(function,)))
    names = [v["name"] for v in finding.evidence["variables"]]
    assert names == ["AWS_KEY", "DB_PASSWORD"]
    text = repr(finding)
    assert secret not in text and "AKIAABCDEFGHIJKLMNOP" not in text
    assert finding.evidence["variables"][1]["masked"] == "********** (19 chars)"


@pytest.mark.quiet("lambda.secrets_in_environment")
def test_plain_configuration_is_quiet() -> None:
    function = fn(environment={"LOG_LEVEL": "info", "SECRET_ARN": "arn:aws:secretsmanager:x"})
    assert evaluate(SecretsInEnvironment(), Inventory(lambda_functions=(function,))) == []


def log_group(name: str, retention: int | None) -> LogGroup:
    return LogGroup(f"arn:aws:logs:{f.REGION}:{f.ACCOUNT}:log-group:{name}", f.ACCOUNT,
                    f.REGION, name, retention, 5 * 1024**2)


@pytest.mark.fires("lambda.log_retention_unset")
def test_log_group_that_never_expires() -> None:
    function = fn()
    inventory = Inventory(lambda_functions=(function,),
                          log_groups=(log_group("/aws/lambda/worker", None),))
    [finding] = evaluate(LogRetentionUnset(), inventory)
    assert finding.evidence["log_group"] == "/aws/lambda/worker"
    assert "5.0 MiB" in finding.message


@pytest.mark.quiet("lambda.log_retention_unset")
def test_retention_set_or_no_group_yet_is_quiet_and_custom_groups_are_followed() -> None:
    function = fn()
    assert evaluate(LogRetentionUnset(), Inventory(
        lambda_functions=(function,), log_groups=(log_group("/aws/lambda/worker", 30),))) == []
    assert evaluate(LogRetentionUnset(), Inventory(lambda_functions=(function,))) == []
    custom = fn(log_group_name="/shared/app")
    assert evaluate(LogRetentionUnset(), Inventory(
        lambda_functions=(custom,), log_groups=(log_group("/aws/lambda/worker", None),
                                                log_group("/shared/app", None)))) != []


# --------------------------------------------------------------------------- function_url_public


def url(auth: str, origins: tuple[str, ...] = ()) -> FunctionUrl:
    function = fn("web")
    return FunctionUrl(f"{function.arn}/function-url", f.ACCOUNT, f.REGION, function.arn,
                       "https://abc.lambda-url.us-east-1.on.aws/", auth, origins)


@pytest.mark.fires("lambda.function_url_public")
def test_a_url_without_auth_is_flagged_and_says_whether_cors_allows_any_site() -> None:
    [finding] = evaluate(FunctionUrlPublic(), Inventory(function_urls=(url("NONE", ("*",)),)))
    assert finding.resource_arn.endswith(":function:web/function-url")
    assert finding.severity == Severity.HIGH and finding.category.value == "security"
    assert finding.evidence["cors_allows_any_origin"] is True
    assert "AuthType NONE" in finding.message and "any web site" in finding.message
    [narrow] = evaluate(FunctionUrlPublic(), Inventory(
        function_urls=(url("NONE", ("https://example.com",)),)))
    assert narrow.evidence["cors_allows_any_origin"] is False
    assert "https://example.com" in narrow.message
    [bare] = evaluate(FunctionUrlPublic(), Inventory(function_urls=(url("NONE"),)))
    assert "no CORS origins" in bare.message


@pytest.mark.quiet("lambda.function_url_public")
def test_an_iam_authenticated_url_is_quiet_even_with_open_cors() -> None:
    assert evaluate(FunctionUrlPublic(), Inventory(
        function_urls=(url("AWS_IAM", ("*",)),))) == []


# --------------------------------------------------------------------------- no_failure_destination

TOPIC = AsyncInvoker("sns", f"arn:aws:sns:{f.REGION}:{f.ACCOUNT}:alerts")
RULE = AsyncInvoker("eventbridge", f"arn:aws:events:{f.REGION}:{f.ACCOUNT}:rule/nightly", "live")


def async_fn(**changes: Any) -> list[Finding]:
    function = fn(async_invokers=(TOPIC, RULE), **changes)
    return evaluate(NoFailureDestination(), Inventory(lambda_functions=(function,)))


@pytest.mark.fires("lambda.no_failure_destination")
def test_async_invoked_function_with_no_destination_and_no_dlq_is_flagged() -> None:
    [finding] = async_fn()
    assert "SNS topic alerts" in finding.message
    assert "EventBridge rule nightly (:live)" in finding.message
    assert [i["source"] for i in finding.evidence["async_invokers"]] == ["sns", "eventbridge"]
    assert "S3 event notifications" in finding.evidence["not_seen"]
    # The destination is per qualifier: the alias the rule invokes still has none.
    [partly] = async_fn(on_failure_destinations={"$LATEST": "arn:aws:sqs:r:a:failed"})
    assert [i["arn"] for i in partly.evidence["async_invokers"]] == [RULE.source_arn]


@pytest.mark.quiet("lambda.no_failure_destination")
def test_a_dlq_a_destination_for_each_invoker_or_no_async_invoker_keeps_it_quiet() -> None:
    assert async_fn(dead_letter_target="arn:aws:sqs:r:a:dlq") == []
    assert async_fn(on_failure_destinations={"$LATEST": "arn:aws:sqs:r:a:failed",
                                             "live": "arn:aws:sqs:r:a:failed"}) == []
    assert evaluate(NoFailureDestination(), Inventory(lambda_functions=(fn(),))) == []
