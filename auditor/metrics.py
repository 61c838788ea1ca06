"""Metric queries the checks declare, and the time series collection returns for them.

Checks never call CloudWatch. Each declares the series it wants as `MetricQuery` values; one
planner (`auditor.collect.cloudwatch`) fetches them all with `GetMetricData`, 500 a call, hourly
over the lookback, and hands back a `MetricStore`. CloudWatch is asked only for Average,
Maximum, Minimum, Sum and SampleCount: percentiles over time are computed here, client-side,
from the hourly points (which also keeps the emulator, which lacks percentile statistics, usable).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from auditor.errors import AuditorError
from auditor.model import (
    EcsService,
    EksCluster,
    LambdaFunction,
    LoadBalancer,
    NatGateway,
    ProvisionedConcurrency,
    Resource,
    TargetGroup,
)

Statistic = Literal["Average", "Maximum", "Minimum", "Sum", "SampleCount"]
HOURLY = 3600


@dataclass(frozen=True, order=True, slots=True)
class MetricQuery:
    """One series: namespace, metric, dimensions and statistic, in one account and region.

    `subject` is the ARN of the resource whose verdict rests on the series: when the series
    fails to load, that subject's verdict is unknown. It is not part of the series' identity,
    so two checks asking for the same series about different subjects share one fetch.
    """

    account: str
    region: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: Statistic
    period: int = HOURLY
    subject: str = field(default="", compare=False)

    def about(self, subject: str) -> MetricQuery:
        """The same series, read for another resource's verdict."""
        return replace(self, subject=subject)

    def describe(self) -> str:
        dims = ",".join(f"{name}={value}" for name, value in self.dimensions)
        return f"{self.namespace} {self.metric} [{dims}] {self.stat} per {self.period}s"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, init=False)
class Series:
    """Points as two arrays, 16 bytes a point: a scan holds millions of points, and a
    `datetime` and a `float` object each would cost about 90 bytes a point."""

    micros: array[int]
    """Each point's time in microseconds since the Unix epoch (UTC): exact, unlike seconds
    in a float."""
    values: array[float]

    def __init__(self, timestamps: Iterable[datetime], values: Iterable[float]) -> None:
        self._hold(array("q", map(epoch_micros, timestamps)), array("d", values))

    @classmethod
    def of_arrays(cls, micros: array[int], values: array[float]) -> Series:
        """The series over arrays built by the caller, which hands them over."""
        series = cls.__new__(cls)
        series._hold(micros, values)
        return series

    def _hold(self, micros: array[int], values: array[float]) -> None:
        if len(micros) != len(values):
            raise ValueError(f"{len(micros)} timestamps for {len(values)} values")
        object.__setattr__(self, "micros", micros)
        object.__setattr__(self, "values", values)

    @property
    def timestamps(self) -> tuple[datetime, ...]:
        """The points' times as UTC datetimes, made on each read: do not keep them."""
        return tuple(_EPOCH + timedelta(microseconds=m) for m in self.micros)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def empty(self) -> bool:
        return not self.values

    def earliest(self) -> datetime | None:
        return _EPOCH + timedelta(microseconds=min(self.micros)) if self.micros else None

    def maximum(self) -> float | None:
        return max(self.values) if self.values else None

    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    def total(self) -> float:
        return float(sum(self.values))

    def percentile(self, pct: float) -> float | None:
        return percentile(self.values, pct)

    def hours_covered(self) -> float:
        """Span between the first and last point, in hours (0 for one point)."""
        if len(self.micros) < 2:
            return 0.0
        return (max(self.micros) - min(self.micros)) / (3600 * 1_000_000)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear-interpolated percentile (the same rule as numpy's default), None if no values."""
    if not values:
        return None
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class UndeclaredMetricRead(AuditorError):
    """A check read a series it did not declare in `metric_queries`: it was never fetched,
    and reading it as "no data" would turn a missing series into a pass."""


@dataclass(frozen=True)
class MetricStore:
    """Series by query. A query fetched with no datapoints maps to an empty series; one whose
    fetch failed is in `failed` with the reason, and absent from `series`.

    A store handed to one reader (`for_reader`) answers only the queries that reader declared
    and raises `UndeclaredMetricRead` for any other.
    """

    series: Mapping[MetricQuery, Series] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    failed: Mapping[MetricQuery, str] = field(default_factory=dict)
    declared: frozenset[MetricQuery] | None = None
    reader: str = ""

    def get(self, query: MetricQuery) -> Series | None:
        if self.declared is not None and query not in self.declared:
            raise UndeclaredMetricRead(
                f"{self.reader} read {query.describe()} without declaring it in "
                "metric_queries, so it was never fetched")
        return self.series.get(query)

    def for_reader(self, reader: str, declared: Iterable[MetricQuery]) -> MetricStore:
        return replace(self, declared=frozenset(declared), reader=reader)


def observed_hours(series: Iterable[Series | None], start: datetime, end: datetime,
                   created: datetime | None = None) -> float:
    """Hours of the window a workload was there to be measured: from its creation, or else
    from its first datapoint, to the window's end. A function younger than the lookback
    (the common case) is measured over its own life, not diluted over the whole window;
    hours without datapoints after that are hours without traffic."""
    window = (end - start).total_seconds() / 3600
    begin = min((first for s in series if s is not None
                 if (first := s.earliest()) is not None), default=None)
    if created is not None:
        begin = created if begin is None else min(begin, created)
    if begin is None or begin <= start:
        return window
    return max(1.0, min(window, (end - begin).total_seconds() / 3600))


def unique(queries: Iterable[MetricQuery]) -> list[MetricQuery]:
    """Each distinct query once, in a stable order."""
    return sorted(set(queries))


# --------------------------------------------------------------------------- queries by resource


def _query(resource: Resource, namespace: str, metric: str, dims: tuple[tuple[str, str], ...],
           stat: Statistic) -> MetricQuery:
    """A series about `resource`: its failure leaves that resource's verdicts unknown."""
    return MetricQuery(resource.account, resource.region, namespace, metric, dims, stat,
                       subject=resource.arn)


def lambda_query(fn: LambdaFunction, metric: str, stat: Statistic) -> MetricQuery:
    return _query(fn, "AWS/Lambda", metric, (("FunctionName", fn.name),), stat)


def provisioned_query(config: ProvisionedConcurrency) -> MetricQuery:
    return _query(config, "AWS/Lambda", "ProvisionedConcurrencyUtilization",
                  (("FunctionName", config.function_name),
                   ("Resource", f"{config.function_name}:{config.qualifier}")), "Maximum")


def ecs_query(service: EcsService, metric: str, stat: Statistic = "Maximum") -> MetricQuery:
    return _query(service, "AWS/ECS", metric,
                  (("ClusterName", service.cluster_name), ("ServiceName", service.name)), stat)


def target_group_query(lb: LoadBalancer, group: TargetGroup, metric: str,
                       stat: Statistic) -> MetricQuery:
    return _query(lb, "AWS/ApplicationELB", metric,
                  (("LoadBalancer", lb.metric_dimension), ("TargetGroup", group.metric_dimension)),
                  stat)


def lcu_query(lb: LoadBalancer) -> MetricQuery:
    """LCUs in use, reported each minute: an hour's Average is that hour's LCU-hours."""
    return balancer_query(lb, "ConsumedLCUs", "Average")


def nat_query(nat: NatGateway, metric: str) -> MetricQuery:
    """A NAT gateway's bytes or connections, summed each hour."""
    return _query(nat, "AWS/NATGateway", metric, (("NatGatewayId", nat.nat_gateway_id),),
                  "Sum")


def balancer_query(lb: LoadBalancer, metric: str, stat: Statistic) -> MetricQuery:
    """A series of the whole load balancer, in its type's namespace."""
    namespace = "AWS/NetworkELB" if lb.lb_type == "network" else "AWS/ApplicationELB"
    return _query(lb, namespace, metric, (("LoadBalancer", lb.metric_dimension),), stat)


def eks_query(cluster: EksCluster, metric: str) -> MetricQuery:
    return _query(cluster, "ContainerInsights", metric, (("ClusterName", cluster.name),),
                  "Maximum")
