"""Metric queries the checks declare, and the time series collection returns for them.

Checks never call CloudWatch. Each declares the series it wants as `MetricQuery` values; one
planner (`auditor.collect.cloudwatch`) fetches them all with `GetMetricData`, 500 a call, hourly
over the lookback, and hands back a `MetricStore`. CloudWatch is asked only for Average,
Maximum, Minimum, Sum and SampleCount: percentiles over time are computed here, client-side,
from the hourly points (which also keeps the emulator, which lacks percentile statistics, usable).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Statistic = Literal["Average", "Maximum", "Minimum", "Sum", "SampleCount"]
HOURLY = 3600


@dataclass(frozen=True, order=True)
class MetricQuery:
    """One series: namespace, metric, dimensions and statistic, in one account and region."""

    account: str
    region: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: Statistic
    period: int = HOURLY

    def describe(self) -> str:
        dims = ",".join(f"{name}={value}" for name, value in self.dimensions)
        return f"{self.namespace} {self.metric} [{dims}] {self.stat} per {self.period}s"


@dataclass(frozen=True)
class Series:
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)

    @property
    def empty(self) -> bool:
        return not self.values

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
        if len(self.timestamps) < 2:
            return 0.0
        return (max(self.timestamps) - min(self.timestamps)).total_seconds() / 3600


EMPTY_SERIES = Series((), ())


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


@dataclass(frozen=True)
class MetricStore:
    """Series by query. A query absent from `series` was not fetched or its fetch failed;
    one fetched with no datapoints maps to an empty series."""

    series: Mapping[MetricQuery, Series] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    def get(self, query: MetricQuery) -> Series | None:
        return self.series.get(query)

    def get_or_empty(self, query: MetricQuery) -> Series:
        return self.series.get(query, EMPTY_SERIES)


def unique(queries: Iterable[MetricQuery]) -> list[MetricQuery]:
    """Each distinct query once, in a stable order."""
    return sorted(set(queries))
