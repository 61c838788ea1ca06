"""The metrics pass: every query the checks declared, 500 to a `GetMetricData` call.

One batch fails, one batch is lost: each call stands alone, and a query CloudWatch answers
with a status other than `Complete` (after following `NextToken` through `PartialData`) is
recorded with its reason. Either way only the verdicts that read those series are unknown.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any, cast

from auditor.collect.base import Recorder, chunks, parse_time
from auditor.metrics import MetricQuery, MetricStore, Series, epoch_micros
from auditor.model import CollectionError, Scope
from auditor.session import ClientFactory, worker_pool

MAX_QUERIES_PER_CALL = 500


@dataclass
class _Fetched:
    series: dict[MetricQuery, Series] = field(default_factory=dict)
    failed: dict[MetricQuery, str] = field(default_factory=dict)


def fetch_metrics(
    clients: Mapping[str, ClientFactory],
    queries: Iterable[MetricQuery],
    start: datetime,
    end: datetime,
    recorder: Recorder,
    max_workers: int = 8,
) -> MetricStore:
    """Fetch the series, one worker per (account, region)."""
    by_scope: dict[Scope, list[MetricQuery]] = defaultdict(list)
    for query in queries:
        by_scope[Scope(query.account, query.region)].append(query)

    def fetch(item: tuple[Scope, list[MetricQuery]]) -> _Fetched:
        scope, scoped = item
        client = clients[scope.account].client("cloudwatch", scope.region)
        fetched = _Fetched()
        for batch in chunks(scoped, MAX_QUERIES_PER_CALL):
            try:
                series, statuses = _fetch_batch(client, batch, start, end)
            except Exception as exc:
                error = recorder.failure(scope, exc, (), "cloudwatch", "GetMetricData",
                                         _subjects(batch), _described(batch))
                fetched.failed.update((query, error.code) for query in batch)
                continue
            fetched.series.update(series)
            for (code, message), failed in statuses.items():
                recorder.add(CollectionError(
                    scope.account, scope.region, "cloudwatch", "GetMetricData", code,
                    f"{len(failed)} series answered {code}: {message}", (),
                    resources=_subjects(failed), series=_described(failed)))
                fetched.failed.update((query, code) for query in failed)
        return fetched

    store: dict[MetricQuery, Series] = {}
    failed: dict[MetricQuery, str] = {}
    with worker_pool(max_workers) as pool:
        for part in pool.map(fetch, sorted(by_scope.items(), key=lambda kv: str(kv[0]))):
            store.update(part.series)
            failed.update(part.failed)
    return MetricStore(store, start, end, failed)


def _subjects(queries: Sequence[MetricQuery]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(q.subject for q in queries if q.subject))


def _described(queries: Sequence[MetricQuery]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(q.describe() for q in queries))


_Statuses = dict[tuple[str, str], list[MetricQuery]]


def _micros(stamp: Any) -> int | None:
    """A datapoint's time in epoch microseconds, None if unreadable. botocore's datetimes go
    straight to the subtraction: a scan reads millions, and `parse_time`'s conversion to UTC
    is a third of the cost of each."""
    moment = stamp if isinstance(stamp, datetime) else parse_time(stamp)
    return None if moment is None else epoch_micros(moment)


def _fetch_batch(
    client: Any, batch: Sequence[MetricQuery], start: datetime, end: datetime
) -> tuple[dict[MetricQuery, Series], _Statuses]:
    """The batch's series, and the queries CloudWatch did not answer `Complete`, grouped by
    (status, message)."""
    ids = {f"q{index}": query for index, query in enumerate(batch)}
    points: dict[str, tuple[array[int], array[float]]] = {
        key: (array("q"), array("d")) for key in ids}
    status: dict[str, tuple[str, str]] = {}
    request: dict[str, Any] = {
        "MetricDataQueries": [
            {
                "Id": key,
                "MetricStat": {
                    "Metric": {
                        "Namespace": query.namespace,
                        "MetricName": query.metric,
                        "Dimensions": [{"Name": n, "Value": v} for n, v in query.dimensions],
                    },
                    "Period": query.period,
                    "Stat": query.stat,
                },
                "ReturnData": True,
            }
            for key, query in ids.items()
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    # A call returns at most 100,800 datapoints; the rest come back under NextToken, with
    # the queries that have more marked PartialData.
    while True:
        response = client.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            key = result.get("Id")
            if key not in points:
                continue
            micros, values = points[key]
            numbers = result.get("Values", [])
            moments = [_micros(stamp) for stamp in result.get("Timestamps", [])[:len(numbers)]]
            if None in moments:  # rare: an unreadable time drops its point
                for moment, value in zip(moments, numbers, strict=False):
                    if moment is not None:
                        micros.append(moment)
                        values.append(float(value))
            else:
                micros.extend(cast(list[int], moments))
                values.extend(map(float, numbers[:len(moments)]))
            messages = "; ".join(f"{m.get('Code', '')} {m.get('Value', '')}".strip()
                                 for m in result.get("Messages", []))
            status[key] = (str(result.get("StatusCode") or "Complete"), messages)
        token = response.get("NextToken")
        if not token:
            break
        request["NextToken"] = token
    series: dict[MetricQuery, Series] = {}
    statuses: _Statuses = defaultdict(list)
    for key, query in ids.items():
        code, message = status.get(key, ("Missing", "no result returned for the query"))
        if code != "Complete":
            # PartialData with no NextToken left means CloudWatch stopped short.
            statuses[(code, message or "the series is incomplete")].append(query)
            continue
        series[query] = _in_time_order(*points[key])
    return series, dict(statuses)


def _in_time_order(micros: array[int], values: array[float]) -> Series:
    """CloudWatch answers in time order (`ScanBy`); anything else is sorted, ties by value."""
    if any(later < earlier for earlier, later in pairwise(micros)):
        order = sorted(range(len(micros)), key=lambda i: (micros[i], values[i]))
        micros = array("q", (micros[i] for i in order))
        values = array("d", (values[i] for i in order))
    return Series.of_arrays(micros, values)
