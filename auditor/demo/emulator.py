"""In-process extensions to the moto emulator, for the demo account and for tests.

The demo runs a whole scan against moto inside this process, so it patches moto here, in this
process only, in four ways:

- `fast_metric_data()` swaps `CloudWatchBackend.get_metric_data` for an indexed version while
  it is active. moto's own implementation rescans every stored datapoint for every period of
  every query (O(queries x periods x datapoints)): a quarter of a second per hourly 14-day
  query over the demo's ~17,000 datapoints, so tens of seconds for a scan's queries, growing
  with every series seeded; the demo must finish in seconds. The replacement returns
  the same result dicts and computes each value with moto's own `Statistics` helper, so the
  numbers are identical. Calls containing anything other than plain `MetricStat` queries with
  Average/Maximum/Minimum/Sum/SampleCount (metric math, Metrics Insights, percentiles) go to
  moto's original unchanged. Where moto departs from CloudWatch in choosing a series, this
  follows CloudWatch: the namespace always counts, dimension order does not, and a query
  without dimensions means the series without dimensions.
- `unique_list_metrics()` makes `ListMetrics` return each metric once, as CloudWatch does;
  moto returns one entry per stored datapoint for multi-dimension metrics, slowly.
- `fast_role_validation()` makes moto's EKS check role ARNs against the partition list read
  once, not re-read from botocore's endpoint data (a fifth of a second) for every cluster and
  node group created.
- `MissingApiResponder` answers read APIs moto does not implement (Lambda provisioned
  concurrency configs, account settings and the function URL list, ECS's default log driver
  mode, EKS add-ons, add-on
  versions, insights and cluster versions, Compute Optimizer's enrollment and its Lambda and
  ECS recommendations, Savings Plans with their rates and coverage, Reserved Instances) from
  data seeded into it, or for function URLs
  from what moto stores. Its `hook` is a botocore `before-call` handler: returning
  a response from that event makes botocore skip the HTTP request (and so moto) entirely,
  exactly as `botocore.stub.Stubber` does. Responses have the real APIs' shapes. It also
  answers EC2's Spot price history, for which moto has a placeholder ($0.00001 an hour in
  every zone).

Nothing here is used against real AWS: the hook is only registered on clients the demo builds.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from moto.cloudwatch.models import CloudWatchBackend, MetricDatumBase, Statistics

from auditor.data import EksVersionWindow, eks_calendar, version_key

DEFAULT_ACCOUNT = "123456789012"
"""moto's default account ID."""

SUPPORTED_STATS = frozenset({"Average", "Maximum", "Minimum", "Sum", "SampleCount"})

# --------------------------------------------------------------------------- fast metrics

_DimsKey = tuple[tuple[str, str], ...]
_SeriesKey = tuple[str, str, _DimsKey]
_GetMetricData = Callable[..., list[dict[str, Any]]]


def _dims_key(pairs: Sequence[tuple[str | None, str | None]]) -> _DimsKey:
    # CloudWatch identifies a series by its dimension set, whatever order it was written in.
    return tuple(sorted((str(name), str(value)) for name, value in pairs))


def _is_plain_metric_stat(query: Mapping[str, Any]) -> bool:
    stat = query.get("MetricStat")
    return (
        stat is not None
        and "Expression" not in query
        and stat.get("Stat") in SUPPORTED_STATS
        and int(stat.get("Period", 0)) > 0
    )


def _index(
    datapoints: Iterable[MetricDatumBase], into: dict[_SeriesKey, list[MetricDatumBase]]
) -> None:
    for datum in datapoints:
        dims = _dims_key([(d.name, d.value) for d in datum.dimensions])
        into.setdefault((datum.namespace, datum.name, dims), []).append(datum)


@dataclass
class _StoredIndex:
    """The series of one backend's stored datapoints, kept up to date as more are put.

    moto only ever appends to `metric_data` (a reset gives the backend a new list), so the
    index reads each stored datapoint once, ever, instead of once per call: at the bench's
    x10 scale (2.7 million datapoints) indexing on every call made each call take 30 s."""

    source: list[MetricDatumBase]
    indexed: int = 0
    series: dict[_SeriesKey, list[MetricDatumBase]] = field(default_factory=dict)


_stored_indexes: weakref.WeakKeyDictionary[CloudWatchBackend, _StoredIndex] = (
    weakref.WeakKeyDictionary()
)
_stored_indexes_lock = threading.Lock()


def _series_of(backend: CloudWatchBackend) -> Callable[[_SeriesKey], list[MetricDatumBase]]:
    with _stored_indexes_lock:
        stored = _stored_indexes.get(backend)
        if stored is None or stored.source is not backend.metric_data:
            stored = _stored_indexes[backend] = _StoredIndex(backend.metric_data)
        end = len(stored.source)
        _index(stored.source[stored.indexed:end], stored.series)
        stored.indexed = end
    # Metrics moto derives from other services' state change with it: indexed afresh each call.
    derived: dict[_SeriesKey, list[MetricDatumBase]] = {}
    _index(backend.aws_metric_data, derived)

    def series(key: _SeriesKey) -> list[MetricDatumBase]:
        return stored.series.get(key, []) + derived.get(key, [])

    return series


def _fast_get_metric_data(
    backend: CloudWatchBackend,
    original: _GetMetricData,
    queries: list[dict[str, Any]],
    start_time: datetime,
    end_time: datetime,
    *,
    scan_by: str,
) -> list[dict[str, Any]]:
    if not queries or not all(_is_plain_metric_stat(q) for q in queries):
        return original(backend, queries, start_time, end_time, scan_by)
    start = start_time.replace(microsecond=0)
    end = end_time.replace(microsecond=0)
    if start >= end:
        # moto raises the validation errors; let it.
        return original(backend, queries, start_time, end_time, scan_by)

    series_of = _series_of(backend)
    results: list[dict[str, Any]] = []
    for query in queries:
        metric_stat = query["MetricStat"]
        metric = metric_stat["Metric"]
        name = metric["MetricName"]
        stat = metric_stat["Stat"]
        period = int(metric_stat["Period"])
        unit = metric_stat.get("Unit")
        dims = _dims_key([(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])])

        # Buckets start at StartTime, as moto's do (CloudWatch itself aligns them to the clock).
        buckets: dict[int, list[MetricDatumBase]] = defaultdict(list)
        for datum in series_of((metric["Namespace"], name, dims)):
            stamp = datum.timestamp
            if not start <= stamp < end or (unit and datum.unit != unit):
                continue
            buckets[int((stamp - start).total_seconds()) // period].append(datum)

        values: list[Any] = []
        timestamps: list[datetime] = []
        for slot in sorted(buckets):
            stats = Statistics([stat], start + timedelta(seconds=slot * period))
            stats.metric_data = buckets[slot]
            values.append(stats.get_statistics_for_type(stat))
            timestamps.append(stats.timestamp)
        if scan_by == "TimestampDescending":
            timestamps.reverse()
            values.reverse()
        if query.get("ReturnData", True):
            results.append(
                {
                    "id": query["Id"],
                    "label": query.get("Label") or f"{name} {stat}",
                    "values": values,
                    "timestamps": timestamps,
                    "status_code": "Complete",
                }
            )
    return results


def install_fast_metric_data() -> Callable[[], None]:
    """Patch `CloudWatchBackend.get_metric_data`; returns the function that undoes it.

    Nested installs are fine as long as they are undone in reverse order."""
    original: _GetMetricData = CloudWatchBackend.__dict__["get_metric_data"]

    def get_metric_data(
        self: CloudWatchBackend,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        return _fast_get_metric_data(
            self, original, queries, start_time, end_time, scan_by=scan_by
        )

    get_metric_data.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(CloudWatchBackend, "get_metric_data", get_metric_data)  # noqa: B010

    def uninstall() -> None:
        if CloudWatchBackend.__dict__.get("get_metric_data") is get_metric_data:
            setattr(CloudWatchBackend, "get_metric_data", original)  # noqa: B010

    return uninstall


@contextmanager
def fast_metric_data() -> Iterator[None]:
    """moto's `get_metric_data`, indexed, for the duration of the block."""
    uninstall = install_fast_metric_data()
    try:
        yield
    finally:
        uninstall()


def _unique_filtered_metrics(
    backend: CloudWatchBackend,
    metric_name: str | None,
    namespace: str | None,
    dimensions: list[dict[str, str]] | None,
) -> list[MetricDatumBase]:
    seen: set[_SeriesKey] = set()
    unique: list[MetricDatumBase] = []
    for datum in backend.get_all_metrics():
        if not datum.filter(namespace, metric_name, dimensions or []):
            continue
        key = (datum.namespace, datum.name,
               _dims_key([(d.name, d.value) for d in datum.dimensions]))
        if key not in seen:
            seen.add(key)
            unique.append(datum)
    return unique


def install_unique_list_metrics() -> Callable[[], None]:
    """Patch moto's `ListMetrics` filter; returns the function that undoes it.

    moto dedupes the metric list by comparing every stored datapoint with every metric kept
    so far, and its comparison never matches a metric with two or more dimensions, so
    `ListMetrics` returns one entry per *datapoint* (336 per series for 14 hourly days) and
    takes seconds. CloudWatch returns each metric once; so does this, in one pass."""
    original = CloudWatchBackend.__dict__["get_filtered_metrics"]
    setattr(CloudWatchBackend, "get_filtered_metrics", _unique_filtered_metrics)  # noqa: B010

    def uninstall() -> None:
        if CloudWatchBackend.__dict__.get("get_filtered_metrics") is _unique_filtered_metrics:
            setattr(CloudWatchBackend, "get_filtered_metrics", original)  # noqa: B010

    return uninstall


@contextmanager
def unique_list_metrics() -> Iterator[None]:
    """moto's `list_metrics`, one entry per metric, for the duration of the block."""
    uninstall = install_unique_list_metrics()
    try:
        yield
    finally:
        uninstall()


@contextmanager
def fast_role_validation() -> Iterator[None]:
    """moto's EKS role-ARN validation, with the partition list loaded once, for the block."""
    import boto3
    import moto.eks.models as eks_models

    original = getattr(eks_models, "validate_role_arn")  # noqa: B009
    partitions = frozenset(boto3.session.Session().get_available_partitions())
    role_arn = re.compile(r"arn:(?P<partition>.+):iam::[0-9]{12}:role/.+")

    def validate_role_arn(arn: str) -> None:
        found = role_arn.match(arn or "")
        if found is None or found.group("partition") not in partitions:
            # moto's own check raises its InvalidParameterException with its own message.
            original(arn)

    setattr(eks_models, "validate_role_arn", validate_role_arn)  # noqa: B010
    try:
        yield
    finally:
        setattr(eks_models, "validate_role_arn", original)  # noqa: B010


def enable_execute_command(account_id: str, region: str, cluster: str, service: str) -> None:
    """Turn ECS Exec on for a service moto stores: its CreateService and UpdateService drop
    `enableExecuteCommand`, and its DescribeServices returns the stored attribute."""
    from moto.ecs.models import ecs_backends

    stored = ecs_backends[account_id][region].services[f"{cluster}:{service}"]
    setattr(stored, "enable_execute_command", True)  # noqa: B010


# --------------------------------------------------------------------------- missing APIs

@dataclass
class _ProvisionedConcurrency:
    function_name: str
    qualifier: str
    requested: int
    allocated: int
    status: str
    last_modified: datetime


@dataclass
class _Addon:
    name: str
    cluster: str
    version: str
    status: str
    arn: str
    created_at: datetime


@dataclass
class _Insight:
    id: str
    name: str
    category: str
    kubernetes_version: str
    status: str
    reason: str
    description: str
    recommendation: str
    last_refresh: datetime


@dataclass
class _Region:
    spot_prices: dict[tuple[str, str], float] = field(default_factory=dict)
    """Linux $/hour by (instance type, Availability Zone)."""
    public_parameters: dict[str, str] = field(default_factory=dict)
    """SSM public parameters (`/aws/service/...`), which moto does not publish, by name."""
    provisioned: list[_ProvisionedConcurrency] = field(default_factory=list)
    addons: dict[str, dict[str, _Addon]] = field(default_factory=dict)
    insights: dict[str, list[_Insight]] = field(default_factory=dict)
    lambda_recommendations: dict[str, dict[str, Any]] = field(default_factory=dict)
    ecs_recommendations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Compute Optimizer's, by function or service ARN, in the API's shape."""
    concurrency_limit: int = 1000
    unreserved_concurrency: int | None = None
    function_count: int = 0
    reserved_instances: list[dict[str, Any]] = field(default_factory=list)
    """In `DescribeReservedInstances`' shape."""


_Answer = tuple[int, dict[str, Any]]
_Handler = Callable[[str, Mapping[str, Any]], _Answer]
HookResult = tuple[AWSResponse, dict[str, Any]]
_API_PARAMS = "demo_api_params"
_OPTIMIZER = "compute-optimizer"


class MissingApiResponder:
    """Seeded answers for the read APIs moto lacks, served through a botocore hook.

    Register `hook` on a client with `client.meta.events.register("before-call.*.*", hook)`.
    The answered operations are `OPERATIONS`; everything else returns None and goes on to moto.
    Results are not paginated (no `nextToken`), like most of moto.
    """

    OPERATIONS = frozenset(
        {
            ("ec2", "DescribeSpotPriceHistory"),
            ("lambda", "ListProvisionedConcurrencyConfigs"),
            ("lambda", "GetProvisionedConcurrencyConfig"),
            ("lambda", "GetAccountSettings"),
            ("lambda", "ListFunctionUrlConfigs"),
            ("eks", "ListAddons"),
            ("eks", "DescribeAddon"),
            ("eks", "DescribeAddonVersions"),
            ("eks", "ListInsights"),
            ("eks", "DescribeInsight"),
            ("eks", "DescribeClusterVersions"),
            ("ssm", "GetParameter"),
            ("ecs", "ListAccountSettings"),
            ("ec2", "DescribeReservedInstances"),
            ("savingsplans", "DescribeSavingsPlans"),
            ("savingsplans", "DescribeSavingsPlanRates"),
            ("ce", "GetSavingsPlansCoverage"),
            (_OPTIMIZER, "GetEnrollmentStatus"),
            (_OPTIMIZER, "GetLambdaFunctionRecommendations"),
            (_OPTIMIZER, "GetECSServiceRecommendations"),
        }
    )

    def __init__(self, account_id: str = DEFAULT_ACCOUNT, now: datetime | None = None) -> None:
        self.account_id = account_id
        self.now = now or datetime.now(UTC)
        self._regions: dict[str, _Region] = defaultdict(_Region)
        # addon name -> version -> cluster version -> is the default there
        self._addon_catalogue: dict[str, dict[str, dict[str, bool]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self._lock = threading.Lock()
        # Account-wide, in the APIs' shapes: plans, their rates by plan ID, and the coverage
        # Cost Explorer reports by service, (covered, total) in dollars.
        self._plans: list[dict[str, Any]] = []
        self._plan_rates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._coverage: dict[str, tuple[float, float]] = {}
        self._enrollment = ("Inactive", "")
        self._handlers: dict[tuple[str, str], _Handler] = {
            ("ec2", "DescribeSpotPriceHistory"): self._spot_price_history,
            ("lambda", "ListProvisionedConcurrencyConfigs"): self._list_provisioned,
            ("lambda", "GetProvisionedConcurrencyConfig"): self._get_provisioned,
            ("lambda", "GetAccountSettings"): self._account_settings,
            ("lambda", "ListFunctionUrlConfigs"): self._list_function_urls,
            ("eks", "ListAddons"): self._list_addons,
            ("eks", "DescribeAddon"): self._describe_addon,
            ("eks", "DescribeAddonVersions"): self._describe_addon_versions,
            ("eks", "ListInsights"): self._list_insights,
            ("eks", "DescribeInsight"): self._describe_insight,
            ("eks", "DescribeClusterVersions"): self._describe_cluster_versions,
            ("ssm", "GetParameter"): self._get_public_parameter,
            ("ecs", "ListAccountSettings"): self._ecs_account_settings,
            ("ec2", "DescribeReservedInstances"): self._reserved_instances,
            ("savingsplans", "DescribeSavingsPlans"): self._savings_plans,
            ("savingsplans", "DescribeSavingsPlanRates"): self._savings_plan_rates,
            ("ce", "GetSavingsPlansCoverage"): self._savings_plans_coverage,
            (_OPTIMIZER, "GetEnrollmentStatus"): self._enrollment_status,
            (_OPTIMIZER, "GetLambdaFunctionRecommendations"): self._lambda_recommendations,
            (_OPTIMIZER, "GetECSServiceRecommendations"): self._ecs_recommendations,
        }

    # ---- seeding

    def seed_provisioned_concurrency(
        self,
        region: str,
        function_name: str,
        qualifier: str,
        allocated: int,
        *,
        requested: int | None = None,
        status: str = "READY",
    ) -> str:
        """Returns the qualified function ARN the configuration belongs to."""
        with self._lock:
            self._regions[region].provisioned.append(
                _ProvisionedConcurrency(
                    function_name, qualifier, requested if requested is not None else allocated,
                    allocated, status, self.now - timedelta(days=30),
                )
            )
        return self.function_arn(region, function_name, qualifier)

    def seed_account_settings(
        self,
        region: str,
        concurrency_limit: int = 1000,
        unreserved: int | None = None,
        function_count: int = 0,
    ) -> None:
        with self._lock:
            settings = self._regions[region]
            settings.concurrency_limit = concurrency_limit
            settings.unreserved_concurrency = unreserved
            settings.function_count = function_count

    def seed_addon(
        self,
        region: str,
        cluster: str,
        name: str,
        version: str,
        default_version: str,
        *,
        cluster_version: str,
        status: str = "ACTIVE",
    ) -> str:
        """Install `name` at `version` on `cluster`, and record `default_version` as the
        default for `cluster_version` in the add-on catalogue. Returns the add-on ARN."""
        # Deterministic ARN suffix: the demo's planted/clean lists name add-ons by ARN.
        suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{region}/{cluster}/{name}")
        arn = f"arn:aws:eks:{region}:{self.account_id}:addon/{cluster}/{name}/{suffix}"
        with self._lock:
            self._regions[region].addons.setdefault(cluster, {})[name] = _Addon(
                name, cluster, version, status, arn, self.now - timedelta(days=200)
            )
            catalogue = self._addon_catalogue[name]
            catalogue[version].setdefault(cluster_version, False)
            for known in catalogue.values():
                if cluster_version in known:
                    known[cluster_version] = False
            catalogue[default_version][cluster_version] = True
        return arn

    def seed_public_parameter(self, region: str, name: str, value: str) -> None:
        """An SSM public parameter, as AWS publishes it (an EKS AMI release, say)."""
        with self._lock:
            self._regions[region].public_parameters[name] = value

    def seed_spot_price(self, region: str, instance_type: str, zone: str,
                        usd_per_hour: float) -> None:
        """The Linux Spot price of an instance type in one zone, in effect since two days
        ago."""
        with self._lock:
            self._regions[region].spot_prices[(instance_type, zone)] = usd_per_hour

    def seed_insight(
        self,
        region: str,
        cluster: str,
        insight_id: str,
        name: str,
        *,
        status: str,
        kubernetes_version: str,
        category: str = "UPGRADE_READINESS",
        reason: str = "",
        description: str = "",
        recommendation: str = "",
    ) -> None:
        with self._lock:
            self._regions[region].insights.setdefault(cluster, []).append(
                _Insight(
                    insight_id, name, category, kubernetes_version, status, reason,
                    description, recommendation, self.now - timedelta(hours=3),
                )
            )

    def seed_optimizer_enrollment(self, status: str = "Active", reason: str = "") -> None:
        """The account's Compute Optimizer enrollment, the same in every region (it is
        `Inactive` until seeded, as an account that never opted in)."""
        with self._lock:
            self._enrollment = (status, reason)

    def seed_lambda_recommendation(
        self, region: str, function_name: str, *, finding: str, memory_mb: int,
        recommended_mb: int | None = None, saving_usd: float = 0.0, saving_percent: float = 0.0,
        reasons: Sequence[str] = (), invocations: int = 0, lookback_days: float = 14.0,
    ) -> str:
        """Compute Optimizer's answer for one function; returns the function ARN."""
        arn = self.function_arn(region, function_name)
        options = [] if recommended_mb is None else [{
            "rank": 1, "memorySize": recommended_mb,
            "projectedUtilizationMetrics": [
                {"name": "Duration", "statistic": statistic, "value": value}
                for statistic, value in (("LowerBound", 90.0), ("UpperBound", 140.0),
                                         ("Expected", 115.0))],
            "savingsOpportunity": _savings(saving_usd, saving_percent),
            "savingsOpportunityAfterDiscounts": _savings(saving_usd, saving_percent),
        }]
        with self._lock:
            self._regions[region].lambda_recommendations[arn] = {
                "functionArn": arn, "functionVersion": "$LATEST",
                "accountId": self.account_id, "currentMemorySize": memory_mb,
                "numberOfInvocations": invocations,
                "utilizationMetrics": [
                    {"name": "Duration", "statistic": "Average", "value": 110.0},
                    {"name": "Memory", "statistic": "Maximum", "value": memory_mb * 0.3}],
                "lookbackPeriodInDays": lookback_days,
                "lastRefreshTimestamp": self.now - timedelta(hours=20),
                "finding": finding, "findingReasonCodes": list(reasons),
                "memorySizeRecommendationOptions": options,
                "currentPerformanceRisk": "Low",
                "effectiveRecommendationPreferences": {
                    "savingsEstimationMode": {"source": "PublicPricing"}},
                "tags": [],
            }
        return arn

    def seed_ecs_recommendation(
        self, region: str, service_arn: str, *, finding: str, size: tuple[int, int],
        recommended: tuple[int, int] | None = None, saving_usd: float = 0.0,
        saving_percent: float = 0.0, reasons: Sequence[str] = (), lookback_days: float = 14.0,
    ) -> None:
        """Compute Optimizer's answer for one Fargate service; sizes are (CPU units, MiB)."""
        cpu, memory = size
        options = [] if recommended is None else [{
            "cpu": recommended[0], "memory": recommended[1],
            "savingsOpportunity": _savings(saving_usd, saving_percent),
            "savingsOpportunityAfterDiscounts": _savings(saving_usd, saving_percent),
            "projectedUtilizationMetrics": [
                {"name": name, "statistic": "Maximum", "lowerBoundValue": 40.0,
                 "upperBoundValue": 60.0} for name in ("Cpu", "Memory")],
            "containerRecommendations": [
                {"containerName": "app", "cpu": recommended[0],
                 "memorySizeConfiguration": {"memory": recommended[1]}}],
        }]
        with self._lock:
            self._regions[region].ecs_recommendations[service_arn] = {
                "serviceArn": service_arn, "accountId": self.account_id,
                "currentServiceConfiguration": {
                    "cpu": cpu, "memory": memory,
                    "containerConfigurations": [
                        {"containerName": "app", "cpu": cpu,
                         "memorySizeConfiguration": {"memory": memory}}],
                    "taskDefinitionArn": service_arn.replace(":service/", ":task-definition/"),
                },
                "utilizationMetrics": [
                    {"name": "Cpu", "statistic": "Maximum", "value": 15.0},
                    {"name": "Memory", "statistic": "Maximum", "value": 30.0}],
                "lookbackPeriodInDays": lookback_days, "launchType": "Fargate",
                "lastRefreshTimestamp": self.now - timedelta(hours=20),
                "finding": finding, "findingReasonCodes": list(reasons),
                "serviceRecommendationOptions": options,
                "currentPerformanceRisk": "VeryLow",
                "effectiveRecommendationPreferences": {
                    "savingsEstimationMode": {"source": "PublicPricing"},
                    "lookBackPeriod": "DAYS_14"},
                "tags": [],
            }

    def seed_savings_plan(
        self, plan_id: str, *, commitment: float, rates: Sequence[SeededRate],
        plan_type: str = "Compute", payment_option: str = "No Upfront", years: int = 3,
        region: str = "", instance_family: str = "",
    ) -> str:
        """An active Savings Plan and its rates (an EC2 Instance plan's `region` and
        `instance_family` say what it is for); returns its ARN."""
        arn = f"arn:aws:savingsplans::{self.account_id}:savingsplan/{plan_id}"
        products = sorted({rate.product for rate in rates})
        with self._lock:
            self._plans.append({
                **({"region": region, "ec2InstanceFamily": instance_family} if region
                   else {}),
                "savingsPlanId": plan_id, "savingsPlanArn": arn, "state": "active",
                "description": f"{years}-year {payment_option} {plan_type} Savings Plan",
                "start": (self.now - timedelta(days=200)).isoformat(),
                "end": (self.now + timedelta(days=365 * years - 200)).isoformat(),
                "savingsPlanType": plan_type, "paymentOption": payment_option,
                "productTypes": products, "currency": "USD", "commitment": f"{commitment:g}",
                "upfrontPaymentAmount": "0", "recurringPaymentAmount": f"{commitment:g}",
                "termDurationInSeconds": years * 365 * 24 * 3600, "tags": {},
            })
            self._plan_rates[plan_id].extend(rate.as_api() for rate in rates)
        return arn

    def seed_savings_plans_coverage(self, service: str, covered_usd: float,
                                    total_usd: float) -> None:
        """Cost Explorer's coverage of one SERVICE over whatever window is asked."""
        with self._lock:
            self._coverage[service] = (covered_usd, total_usd)

    def seed_reserved_instance(
        self, region: str, reservation_id: str, instance_type: str, count: int, *,
        hourly_price: float, fixed_price: float = 0.0, years: int = 1,
        offering_type: str = "No Upfront",
    ) -> None:
        """An active regional Linux Reserved Instance."""
        with self._lock:
            self._regions[region].reserved_instances.append({
                "ReservedInstancesId": reservation_id, "InstanceType": instance_type,
                "InstanceCount": count, "State": "active", "Scope": "Region",
                "ProductDescription": "Linux/UNIX", "InstanceTenancy": "default",
                "OfferingClass": "standard", "OfferingType": offering_type,
                "CurrencyCode": "USD", "Duration": years * 365 * 24 * 3600,
                "FixedPrice": fixed_price, "UsagePrice": 0.0,
                "RecurringCharges": [{"Amount": hourly_price, "Frequency": "Hourly"}],
                "Start": self.now - timedelta(days=100),
                "End": self.now + timedelta(days=365 * years - 100),
            })

    def function_arn(self, region: str, function_name: str, qualifier: str | None = None) -> str:
        arn = f"arn:aws:lambda:{region}:{self.account_id}:function:{function_name}"
        return f"{arn}:{qualifier}" if qualifier else arn

    # ---- the botocore hooks

    @property
    def hooks(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        """(event, handler) pairs for `ClientFactory(extra_hooks=...)`: `remember` keeps a
        Compute Optimizer call's parameters (`hook` sees them only encoded for the wire)."""
        return (("before-parameter-build.*.*", self.remember), ("before-call.*.*", self.hook))

    @staticmethod
    def remember(params: Mapping[str, Any], model: Any, context: dict[str, Any],
                 **kwargs: Any) -> None:
        """botocore `before-parameter-build` handler."""
        if model.service_model.service_name == _OPTIMIZER:
            context[_API_PARAMS] = dict(params)

    def hook(self, model: Any, params: Mapping[str, Any], context: Mapping[str, Any],
             **kwargs: Any) -> HookResult | None:
        """botocore `before-call` handler: a response for the operations moto lacks."""
        handler = self._handlers.get((model.service_model.service_name, model.name))
        if handler is None:
            return None
        region = context.get("client_region") or _region_from_url(params.get("url", ""))
        if model.service_model.service_name == _OPTIMIZER:
            params = context.get(_API_PARAMS, {})
        status, body = handler(region, params)
        metadata = {
            "RequestId": str(uuid.uuid4()),
            "HTTPStatusCode": status,
            "HTTPHeaders": {},
            "RetryAttempts": 0,
        }
        return AWSResponse(str(params.get("url", "")), status, HTTPHeaders(), None), {
            **body, "ResponseMetadata": metadata,
        }

    # ---- EC2

    def _spot_price_history(self, region: str, params: Mapping[str, Any]) -> _Answer:
        # A query-protocol body is still the flattened parameters at this point.
        body = params.get("body") or {}
        types = {v for k, v in body.items() if k.startswith("InstanceType.")}
        products = {v for k, v in body.items() if k.startswith("ProductDescription.")}
        with self._lock:
            prices = sorted(self._regions[region].spot_prices.items())
        return 200, {"SpotPriceHistory": [
            {"AvailabilityZone": zone, "InstanceType": instance_type,
             "ProductDescription": "Linux/UNIX", "SpotPrice": f"{price:.6f}",
             "Timestamp": self.now - timedelta(days=2)}
            for (instance_type, zone), price in prices
            if (not types or instance_type in types)
            and (not products or "Linux/UNIX" in products)]}

    # ---- Lambda

    def _list_provisioned(self, region: str, params: Mapping[str, Any]) -> _Answer:
        name = _function_name(params["url_path"])
        with self._lock:
            configs = [c for c in self._regions[region].provisioned if c.function_name == name]
        return 200, {"ProvisionedConcurrencyConfigs": [
            {"FunctionArn": self.function_arn(region, c.function_name, c.qualifier),
             **self._provisioned_body(c)}
            for c in configs
        ]}

    def _get_provisioned(self, region: str, params: Mapping[str, Any]) -> _Answer:
        name = _function_name(params["url_path"])
        qualifier = params.get("query_string", {}).get("Qualifier")
        with self._lock:
            for config in self._regions[region].provisioned:
                if config.function_name == name and config.qualifier == qualifier:
                    return 200, self._provisioned_body(config)
        return _error(
            404, "ProvisionedConcurrencyConfigNotFoundException",
            f"No Provisioned Concurrency Config found for this function: "
            f"{self.function_arn(region, name, qualifier)}",
        )

    @staticmethod
    def _provisioned_body(config: _ProvisionedConcurrency) -> dict[str, Any]:
        return {
            "RequestedProvisionedConcurrentExecutions": config.requested,
            "AvailableProvisionedConcurrentExecutions": config.allocated,
            "AllocatedProvisionedConcurrentExecutions": config.allocated,
            "Status": config.status,
            # Lambda sends this one as an ISO-8601 string, not a timestamp.
            "LastModified": config.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        }

    def _account_settings(self, region: str, params: Mapping[str, Any]) -> _Answer:
        with self._lock:
            settings = self._regions[region]
            unreserved = settings.unreserved_concurrency
            return 200, {
                "AccountLimit": {
                    "TotalCodeSize": 80 * 1024**3,
                    "CodeSizeUnzipped": 262144000,
                    "CodeSizeZipped": 52428800,
                    "ConcurrentExecutions": settings.concurrency_limit,
                    "UnreservedConcurrentExecutions": (
                        settings.concurrency_limit if unreserved is None else unreserved
                    ),
                },
                "AccountUsage": {"TotalCodeSize": 4096 * settings.function_count,
                                 "FunctionCount": settings.function_count},
            }

    def _list_function_urls(self, region: str, params: Mapping[str, Any]) -> _Answer:
        # moto stores function URLs (CreateFunctionUrlConfig works) but cannot list them.
        from moto.awslambda.exceptions import UnknownFunctionException
        from moto.awslambda.models import lambda_backends

        name = _function_name(params["url_path"])
        try:
            function = lambda_backends[self.account_id][region].get_function(name)
        except UnknownFunctionException:
            return _error(404, "ResourceNotFoundException", f"Function not found: {name}")
        config = function.url_config
        urls = [config.to_dict()] if config is not None else []
        return 200, {"FunctionUrlConfigs": [
            {key: value for key, value in url.items() if value is not None} for url in urls
        ]}

    # ---- ECS

    def _ecs_account_settings(self, region: str, params: Mapping[str, Any]) -> _Answer:
        """The effective `defaultLogDriverMode` of an account that never set it: non-blocking,
        AWS's default since 25 June 2025 (moto knows no such setting and refuses the name)."""
        asked = json.loads(params.get("body") or b"{}")
        if asked.get("name") not in (None, "defaultLogDriverMode"):
            return 200, {"settings": []}
        return 200, {"settings": [{"name": "defaultLogDriverMode", "value": "non-blocking",
                                   "principalArn": f"arn:aws:iam::{self.account_id}:root",
                                   "type": "aws_managed"}]}

    # ---- EKS

    def _list_addons(self, region: str, params: Mapping[str, Any]) -> _Answer:
        cluster = _path_part(params["url_path"], 1)
        with self._lock:
            names = sorted(self._regions[region].addons.get(cluster, {}))
        return 200, {"addons": names}

    def _describe_addon(self, region: str, params: Mapping[str, Any]) -> _Answer:
        cluster, name = _path_part(params["url_path"], 1), _path_part(params["url_path"], 3)
        with self._lock:
            addon = self._regions[region].addons.get(cluster, {}).get(name)
        if addon is None:
            return _error(404, "ResourceNotFoundException",
                          f"No addon: {name} found in cluster: {cluster}")
        return 200, {"addon": {
            "addonName": addon.name,
            "clusterName": addon.cluster,
            "status": addon.status,
            "addonVersion": addon.version,
            "health": {"issues": []},
            "addonArn": addon.arn,
            "createdAt": addon.created_at,
            "modifiedAt": addon.created_at,
            "tags": {},
            "publisher": "eks",
            "owner": "aws",
        }}

    def _describe_addon_versions(self, region: str, params: Mapping[str, Any]) -> _Answer:
        query = params.get("query_string", {})
        kubernetes_version = query.get("kubernetesVersion")
        wanted = query.get("addonName")
        addons = []
        with self._lock:
            for name in sorted(self._addon_catalogue):
                if wanted and name != wanted:
                    continue
                versions = []
                for version, clusters in sorted(
                    self._addon_catalogue[name].items(), key=lambda kv: version_key(kv[0]),
                    reverse=True,
                ):
                    compat = [
                        {"clusterVersion": cv, "platformVersions": ["*"], "defaultVersion": dflt}
                        for cv, dflt in sorted(clusters.items())
                        if kubernetes_version in (None, cv)
                    ]
                    if compat:
                        versions.append({
                            "addonVersion": version,
                            "architecture": ["amd64", "arm64"],
                            "computeTypes": ["ec2"],
                            "compatibilities": compat,
                            "requiresConfiguration": False,
                            "requiresIamPermissions": name == "vpc-cni",
                        })
                if versions:
                    addons.append({
                        "addonName": name,
                        "type": "networking",
                        "addonVersions": versions,
                        "publisher": "eks",
                        "owner": "aws",
                        "defaultNamespace": "kube-system",
                    })
        return 200, {"addons": addons}

    def _insight_summary(self, insight: _Insight) -> dict[str, Any]:
        return {
            "id": insight.id,
            "name": insight.name,
            "category": insight.category,
            "kubernetesVersion": insight.kubernetes_version,
            "lastRefreshTime": insight.last_refresh,
            "lastTransitionTime": insight.last_refresh - timedelta(days=2),
            "description": insight.description,
            "insightStatus": {"status": insight.status, "reason": insight.reason},
        }

    def _list_insights(self, region: str, params: Mapping[str, Any]) -> _Answer:
        cluster = _path_part(params["url_path"], 1)
        body = params.get("body") or b"{}"
        wanted = json.loads(body).get("filter", {}) if body else {}
        with self._lock:
            insights = list(self._regions[region].insights.get(cluster, []))
        selected = [
            i for i in insights
            if (not wanted.get("categories") or i.category in wanted["categories"])
            and (not wanted.get("kubernetesVersions")
                 or i.kubernetes_version in wanted["kubernetesVersions"])
            and (not wanted.get("statuses") or i.status in wanted["statuses"])
        ]
        return 200, {"insights": [self._insight_summary(i) for i in selected]}

    def _describe_insight(self, region: str, params: Mapping[str, Any]) -> _Answer:
        cluster, insight_id = _path_part(params["url_path"], 1), _path_part(params["url_path"], 3)
        with self._lock:
            found = [i for i in self._regions[region].insights.get(cluster, [])
                     if i.id == insight_id]
        if not found:
            return _error(404, "ResourceNotFoundException", f"No insight found: {insight_id}")
        insight = found[0]
        return 200, {"insight": {
            **self._insight_summary(insight),
            "recommendation": insight.recommendation,
            "additionalInfo": {},
            "resources": [],
            "categorySpecificSummary": {},
        }}

    def _describe_cluster_versions(self, region: str, params: Mapping[str, Any]) -> _Answer:
        query = _VersionQuery.of(params.get("query_string", {}))
        return 200, {"clusterVersions": list(reversed(query.select(self._cluster_versions())))}

    def _cluster_versions(self) -> list[dict[str, Any]]:
        """Every released version of the calendar the auditor ships (so the demo's API and its
        fallback agree), oldest first, with its support status today; the default for new
        clusters is the second-newest version in standard support."""
        rows = [_cluster_version(version, window, _support_status(window, self.now))
                for version, window in eks_calendar().versions.items()
                if self.now >= window.release]
        standard = [r for r in rows if r["versionStatus"] == "STANDARD_SUPPORT"]
        if standard:
            standard[-2 if len(standard) > 1 else -1]["defaultVersion"] = True
        return rows

    # ---- commitments (JSON bodies; EC2's query parameters are ignored: all are active)

    def _get_public_parameter(self, region: str, params: Mapping[str, Any]) -> _Answer:
        # The scan reads only public parameters; the demo stores none of its own to read.
        name = str(json.loads(params.get("body") or b"{}").get("Name", ""))
        with self._lock:
            value = self._regions[region].public_parameters.get(name)
        if value is None:
            return _error(400, "ParameterNotFound", f"Parameter {name} not found.")
        return 200, {"Parameter": {
            "Name": name, "Type": "String", "Value": value, "Version": 1, "DataType": "text",
            "ARN": f"arn:aws:ssm:{region}::parameter{name}"}}

    def _reserved_instances(self, region: str, params: Mapping[str, Any]) -> _Answer:
        with self._lock:
            return 200, {"ReservedInstances": list(self._regions[region].reserved_instances)}

    def _savings_plans(self, region: str, params: Mapping[str, Any]) -> _Answer:
        states = json.loads(params.get("body") or b"{}").get("states") or ["active"]
        with self._lock:
            return 200, {"savingsPlans": [p for p in self._plans if p["state"] in states]}

    def _savings_plan_rates(self, region: str, params: Mapping[str, Any]) -> _Answer:
        asked = json.loads(params.get("body") or b"{}")
        wanted = {f["name"]: set(f["values"]) for f in asked.get("filters") or ()}

        def matches(rate: Mapping[str, Any]) -> bool:
            fields = {"productType": rate["productType"], "usageType": rate["usageType"],
                      "serviceCode": rate["serviceCode"], "operation": rate["operation"],
                      **{p["name"]: p["value"] for p in rate["properties"]}}
            return all(fields.get(name) in values for name, values in wanted.items())

        with self._lock:
            rates = [r for r in self._plan_rates.get(asked.get("savingsPlanId", ""), [])
                     if matches(r)]
        return 200, {"savingsPlanId": asked.get("savingsPlanId"), "searchResults": rates}

    def _savings_plans_coverage(self, region: str, params: Mapping[str, Any]) -> _Answer:
        window = json.loads(params.get("body") or b"{}").get("TimePeriod") or {}
        with self._lock:
            coverage = sorted(self._coverage.items())
        return 200, {"SavingsPlansCoverages": [
            {"Attributes": {"SERVICE": service},
             "Coverage": {"SpendCoveredBySavingsPlans": f"{covered:.2f}",
                          "OnDemandCost": f"{total - covered:.2f}",
                          "TotalCost": f"{total:.2f}",
                          "CoveragePercentage": f"{covered / total * 100:.2f}" if total else "0"},
             "TimePeriod": window}
            for service, (covered, total) in coverage]}


    # ---- Compute Optimizer (its calls' own parameters, kept by `remember`)

    def _enrollment_status(self, region: str, params: Mapping[str, Any]) -> _Answer:
        with self._lock:
            status, reason = self._enrollment
        return 200, {"status": status, "statusReason": reason, "memberAccountsEnrolled": False,
                     "lastUpdatedTimestamp": self.now - timedelta(days=30),
                     "numberOfMemberAccountsOptedIn": 0}

    def _opted_out(self) -> _Answer | None:
        with self._lock:
            active = self._enrollment[0] == "Active"
        return None if active else _error(
            400, "OptInRequiredException",
            "The account is not opted in to AWS Compute Optimizer.")

    def _lambda_recommendations(self, region: str, params: Mapping[str, Any]) -> _Answer:
        refused = self._opted_out()
        if refused:
            return refused
        asked = set(params.get("functionArns") or ())
        # AWS leaves `Unavailable` out unless a Finding filter names it.
        findings = next((set(f.get("values") or ()) for f in params.get("filters") or ()
                         if f.get("name") == "Finding"), {"Optimized", "NotOptimized"})
        with self._lock:
            found = [dict(r) for arn, r in self._regions[region].lambda_recommendations.items()
                     if (not asked or arn in asked) and r["finding"] in findings]
        return 200, {"lambdaFunctionRecommendations": found}

    def _ecs_recommendations(self, region: str, params: Mapping[str, Any]) -> _Answer:
        refused = self._opted_out()
        if refused:
            return refused
        asked = set(params.get("serviceArns") or ())
        with self._lock:
            found = [dict(r) for arn, r in self._regions[region].ecs_recommendations.items()
                     if not asked or arn in asked]
        return 200, {"ecsServiceRecommendations": found, "errors": []}


def _savings(usd: float, percent: float) -> dict[str, Any]:
    return {"savingsOpportunityPercentage": percent,
            "estimatedMonthlySavings": {"currency": "USD", "value": usd}}


@dataclass(frozen=True)
class SeededRate:
    """One usage type's rate under a seeded Savings Plan."""

    product: str
    """`Lambda`, `Fargate` or `EC2`."""
    region: str
    usage_type: str
    usd: float
    instance_type: str | None = None

    def as_api(self) -> dict[str, Any]:
        """In `DescribeSavingsPlanRates`' shape."""
        service, unit = {"Lambda": ("AWSLambda", "Lambda-GB-Second"),
                         "Fargate": ("AmazonECS", "Hrs"), "EC2": ("AmazonEC2", "Hrs")}[
            self.product]
        properties = [{"name": "region", "value": self.region}]
        if self.instance_type:
            properties += [{"name": "instanceType", "value": self.instance_type},
                           {"name": "instanceFamily",
                            "value": self.instance_type.partition(".")[0]},
                           {"name": "productDescription", "value": "Linux/UNIX"},
                           {"name": "tenancy", "value": "shared"}]
        return {"rate": f"{self.usd:.10f}".rstrip("0"), "currency": "USD", "unit": unit,
                "productType": self.product, "serviceCode": service,
                "usageType": self.usage_type,
                "operation": "RunInstances" if self.product == "EC2" else "",
                "properties": properties}


def _error(status: int, code: str, message: str) -> _Answer:
    return status, {"Error": {"Code": code, "Message": message}, "message": message}


def _support_status(window: EksVersionWindow, now: datetime) -> str:
    if now < window.end_of_standard_support:
        return "STANDARD_SUPPORT"
    if now < window.end_of_extended_support:
        return "EXTENDED_SUPPORT"
    return "UNSUPPORTED"


def _cluster_version(version: str, window: EksVersionWindow, status: str) -> dict[str, Any]:
    """One entry of EKS `DescribeClusterVersions`, not yet the default."""
    return {
        "clusterVersion": version,
        "clusterType": "eks",
        "defaultPlatformVersion": "eks.1",
        "defaultVersion": False,
        "releaseDate": window.release,
        "endOfStandardSupportDate": window.end_of_standard_support,
        "endOfExtendedSupportDate": window.end_of_extended_support,
        "status": status.lower().replace("_", "-"),
        "versionStatus": status,
        "kubernetesPatchVersion": f"{version}.0",
    }


@dataclass(frozen=True)
class _VersionQuery:
    """What a `DescribeClusterVersions` call asks for, from its query string."""

    asked: Sequence[str]
    include_all: bool
    default_only: bool
    status: str | None

    @classmethod
    def of(cls, query: Mapping[str, Any]) -> _VersionQuery:
        asked = query.get("clusterVersions") or []
        # `status` is the older, deprecated name of `versionStatus` (`standard-support`).
        status = query.get("versionStatus") or (
            str(query["status"]).upper().replace("-", "_") if query.get("status") else None
        )
        return cls([asked] if isinstance(asked, str) else asked,
                   str(query.get("includeAll", "")).lower() == "true",
                   str(query.get("defaultOnly", "")).lower() == "true", status)

    def select(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """The versions named, else the supported ones (every one with `includeAll`); then
        only the default, and only those of the status, when asked."""
        if self.asked:
            selected = [r for r in rows if r["clusterVersion"] in self.asked]
        else:
            selected = [r for r in rows
                        if self.include_all or r["versionStatus"] != "UNSUPPORTED"]
        if self.default_only:
            selected = [r for r in selected if r["defaultVersion"]]
        if self.status:
            selected = [r for r in selected if r["versionStatus"] == self.status]
        return selected


def _path_part(url_path: str, index: int) -> str:
    """The `index`th segment of a REST path (`/clusters/NAME/addons` -> 1 is NAME)."""
    path = url_path.split("?", 1)[0].strip("/").split("/")
    return unquote(path[index]) if index < len(path) else ""


def _function_name(url_path: str) -> str:
    """The function name from `/2019-09-30/functions/{name, ARN or partial ARN}/...`."""
    raw = _path_part(url_path, 2)
    parts = raw.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return raw


def _region_from_url(url: str) -> str:
    found = re.search(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.", url)
    return found.group(1) if found else "us-east-1"
