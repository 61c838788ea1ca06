"""What each workload does, read from its CloudWatch series: the metric queries the cost model
declares (fetched in the scan's one batched GetMetricData pass, like a check's) and the usage
it derives from them, normalised from the lookback to a 730-hour month.

- Lambda (AWS/Lambda, FunctionName): Invocations Sum, Duration Sum and Maximum,
  ConcurrentExecutions Maximum, UrlRequestCount Sum (a function URL in use);
  ProvisionedConcurrencyUtilization Maximum per configuration.
- ECS (AWS/ECS, ClusterName + ServiceName): CPU and memory utilisation, Maximum and Average;
  behind an ALB, the target group's RequestCount Sum and TargetResponseTime Average and
  Maximum (AWS/ApplicationELB, LoadBalancer + TargetGroup) and the ALB's ConsumedLCUs
  Average (an hour's average is the LCU-hours billed for it).
- EKS (ContainerInsights, ClusterName): node_cpu_utilization and node_memory_utilization
  Maximum, when Container Insights publishes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from auditor.metrics import (
    MetricQuery,
    MetricStore,
    Series,
    ecs_query,
    eks_query,
    lambda_query,
    lcu_query,
    observed_hours,
    provisioned_query,
    target_group_query,
)
from auditor.model import Inventory, LambdaFunction, LoadBalancer, TargetGroup
from auditor.pricing.book import HOURS_PER_MONTH

FULL_COVERAGE_DAYS = 14


# --------------------------------------------------------------------------- the front

@dataclass(frozen=True)
class Front:
    """The ALBs and target groups in front of a workload."""

    pairs: tuple[tuple[LoadBalancer, TargetGroup], ...]

    @property
    def balancers(self) -> tuple[LoadBalancer, ...]:
        return tuple(dict.fromkeys(lb for lb, _ in self.pairs))


def albs_of(inventory: Inventory, target_group_arns: Sequence[str]) -> Front:
    """The (application load balancer, target group) pairs for these target groups."""
    groups = {g.arn: g for g in inventory.target_groups}
    balancers = {lb.arn: lb for lb in inventory.load_balancers if lb.lb_type == "application"}
    pairs = [(balancers[lb_arn], groups[arn]) for arn in target_group_arns if arn in groups
             for lb_arn in groups[arn].load_balancer_arns if lb_arn in balancers]
    return Front(tuple(pairs))


def lambda_target_groups(inventory: Inventory, function_arn: str) -> list[str]:
    return [g.arn for g in inventory.target_groups
            if g.target_type == "lambda" and any(t.split(":")[:7] == function_arn.split(":")[:7]
                                                 for t in g.lambda_targets)]


def balancer_users(inventory: Inventory) -> dict[str, int]:
    """How many services and functions each load balancer serves (to share its cost)."""
    users: dict[str, set[str]] = defaultdict(set)
    groups = {g.arn: g for g in inventory.target_groups}
    for service in inventory.ecs_services:
        for arn in service.target_group_arns:
            for lb in groups[arn].load_balancer_arns if arn in groups else ():
                users[lb].add(service.arn)
    for group in inventory.target_groups:
        for target in group.lambda_targets:
            for lb in group.load_balancer_arns:
                users[lb].add(":".join(target.split(":")[:7]))
    return {lb: len(found) for lb, found in users.items()}


# --------------------------------------------------------------------------- queries


def workload_queries(inventory: Inventory) -> Iterator[MetricQuery]:
    """Every series the cost model reads, for the planner."""
    for fn in inventory.lambda_functions:
        yield lambda_query(fn, "Invocations", "Sum")
        yield lambda_query(fn, "Duration", "Sum")
        yield lambda_query(fn, "Duration", "Maximum")
        yield lambda_query(fn, "ConcurrentExecutions", "Maximum")
        yield lambda_query(fn, "UrlRequestCount", "Sum")
        # A function behind an ALB (a Lambda target group) pays its share of the ALB's LCUs.
        yield from (query.about(fn.arn) for query in
                    _front_queries(albs_of(inventory, lambda_target_groups(inventory, fn.arn))))
    for config in inventory.provisioned_concurrency:
        yield provisioned_query(config)
    for service in inventory.ecs_services:
        for metric in ("CPUUtilization", "MemoryUtilization"):
            yield ecs_query(service, metric, "Maximum")
            yield ecs_query(service, metric, "Average")
        # The ALB's series price the service behind it: their failure is the service's.
        yield from (query.about(service.arn)
                    for query in _front_queries(albs_of(inventory, service.target_group_arns)))
    for cluster in inventory.eks_clusters:
        yield eks_query(cluster, "node_cpu_utilization")
        yield eks_query(cluster, "node_memory_utilization")


def _front_queries(front: Front) -> Iterator[MetricQuery]:
    for lb, group in front.pairs:
        yield target_group_query(lb, group, "RequestCount", "Sum")
        yield target_group_query(lb, group, "TargetResponseTime", "Average")
        yield target_group_query(lb, group, "TargetResponseTime", "Maximum")
    for lb in front.balancers:
        yield lcu_query(lb)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Observed:
    """The hours a workload's usage was measured over, and the factor that scales it to a
    730-hour month."""

    hours: float
    lookback_hours: float

    @property
    def to_month(self) -> float:
        return HOURS_PER_MONTH / self.hours

    def describe(self) -> str:
        since = ("" if self.hours >= self.lookback_hours else
                 f" of the {self.lookback_hours / 24:g}-day lookback, since it first appeared")
        return (f"usage over {self.hours / 24:.3g} day(s) ({self.hours:g} h){since}, scaled "
                f"to a 730-hour month (x {self.to_month:.4g})")


@dataclass(frozen=True)
class Window:
    """The lookback the series cover."""

    lookback_days: int
    metrics: MetricStore

    @property
    def hours(self) -> float:
        return self.lookback_days * 24.0

    def series(self, query: MetricQuery) -> Series | None:
        """The fetched series (possibly empty), None when it was not fetched or failed."""
        return self.metrics.get(query)

    def observed(self, series: Sequence[Series | None], created: datetime | None = None
                 ) -> Observed:
        """The hours of the lookback the workload was there for (see `observed_hours`)."""
        start, end = self.metrics.start, self.metrics.end
        if start is None or end is None:
            return Observed(self.hours, self.hours)
        return Observed(observed_hours(series, start, end, created), self.hours)


def per_month(window: Window, series: Sequence[Series]) -> tuple[float, Observed]:
    """The series' total over the hours observed, scaled to a 730-hour month (bytes through
    a NAT gateway), and the hours it was scaled from."""
    observed = window.observed(series)
    return sum(one.total() for one in series) * observed.to_month, observed


def per_hour(window: Window, series: Series) -> float:
    """The series' total over the hours observed: a load balancer's LCUs in use on average
    (hours without a datapoint had none)."""
    return series.total() / window.observed([series]).hours


def days_covered(series: Series | None) -> float:
    """Days between the first and last hourly point, inclusive (0 with no points)."""
    if series is None or series.empty:
        return 0.0
    return (series.hours_covered() + 1) / 24


def confidence(days: float, fetched: bool) -> str:
    """high with >= 14 days of metrics, medium with some, low with none (configuration only).
    An hour missing at the edge of the window (the current hour is never complete) still
    counts as 14 days."""
    if not fetched or days <= 0:
        return "low"
    return "high" if days >= FULL_COVERAGE_DAYS - 1 / 24 - 1e-9 else "medium"


def summed_by_hour(series: Sequence[Series]) -> dict[datetime, float]:
    totals: dict[datetime, float] = defaultdict(float)
    for one in series:
        for stamp, value in zip(one.timestamps, one.values, strict=True):
            totals[stamp] += value
    return dict(totals)


def weighted_mean(values: Sequence[Series], weights: Sequence[Series]) -> float | None:
    """The mean of hourly values weighted by the same hour's weight (response time by
    requests), across several series paired in order."""
    total = weight = 0.0
    for value_series, weight_series in zip(values, weights, strict=True):
        by_hour = dict(zip(weight_series.timestamps, weight_series.values, strict=True))
        for stamp, value in zip(value_series.timestamps, value_series.values, strict=True):
            w = by_hour.get(stamp, 0.0)
            total += value * w
            weight += w
    return total / weight if weight > 0 else None


# --------------------------------------------------------------------------- a function's usage


def daily_totals(series: Series | None) -> dict[date, float]:
    """Hourly Sum datapoints added up per UTC day."""
    totals: dict[date, float] = defaultdict(float)
    if series is not None:
        for moment, value in zip(series.timestamps, series.values, strict=True):
            totals[moment.date()] += value
    return dict(totals)


@dataclass(frozen=True)
class FunctionUsage:
    """How a function ran over the hours it was seen: from hourly Invocations and Duration
    sums (what the checks judge its shape of work by; its cost is the cost model's)."""

    invocations: float
    duration_ms: float
    window_hours: float
    active_hours: int
    """Hours with at least one invocation."""

    @property
    def avg_duration_ms(self) -> float:
        return self.duration_ms / self.invocations if self.invocations else 0.0

    @property
    def avg_concurrency(self) -> float:
        """Environments busy on average: execution seconds per second of the window."""
        return self.duration_ms / 1000 / (self.window_hours * 3600)

    @property
    def active_percent(self) -> float:
        return self.active_hours / self.window_hours * 100

    def describe(self) -> dict[str, float]:
        return {
            "invocations": round(self.invocations),
            "avg_duration_ms": round(self.avg_duration_ms, 1),
            "avg_concurrency": round(self.avg_concurrency, 3),
            "active_hours": self.active_hours,
            "window_hours": self.window_hours,
        }


def function_usage_queries(function: LambdaFunction) -> tuple[MetricQuery, MetricQuery]:
    """The series the cost model reads too (FunctionName covers every version and alias), so
    the planner fetches them once."""
    return (lambda_query(function, "Invocations", "Sum"),
            lambda_query(function, "Duration", "Sum"))


def function_usage(function: LambdaFunction, metrics: MetricStore, lookback_days: int
                   ) -> FunctionUsage | None:
    """None when CloudWatch has no invocations for it."""
    invocations, duration = (metrics.get(q) for q in function_usage_queries(function))
    if invocations is None or duration is None or invocations.total() <= 0:
        return None
    start, end = metrics.start, metrics.end
    hours = (observed_hours([invocations, duration], start, end, function.last_modified)
             if start and end else lookback_days * 24.0)
    return FunctionUsage(invocations.total(), duration.total(), hours,
                         sum(1 for value in invocations.values if value > 0))
