"""The metrics pass: every query the checks declared, 500 to a `GetMetricData` call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from auditor.collect.base import Recorder, chunks, parse_time
from auditor.metrics import MetricQuery, MetricStore, Series
from auditor.model import Scope
from auditor.session import ClientFactory

MAX_QUERIES_PER_CALL = 500


def fetch_metrics(
    clients: Mapping[str, ClientFactory],
    queries: Iterable[MetricQuery],
    start: datetime,
    end: datetime,
    recorder: Recorder,
    max_workers: int = 8,
) -> MetricStore:
    """Fetch the series, one worker per (account, region). A scope whose call fails is
    recorded against `cloudwatch.metrics`, and its queries stay absent from the store."""
    by_scope: dict[Scope, list[MetricQuery]] = defaultdict(list)
    for query in queries:
        by_scope[Scope(query.account, query.region)].append(query)

    def fetch(item: tuple[Scope, list[MetricQuery]]) -> dict[MetricQuery, Series]:
        scope, scoped = item
        client = clients[scope.account].client("cloudwatch", scope.region)
        fetched: dict[MetricQuery, Series] = {}
        with recorder.loading(scope, "cloudwatch.metrics", "cloudwatch", "GetMetricData"):
            for batch in chunks(scoped, MAX_QUERIES_PER_CALL):
                fetched.update(_fetch_batch(client, batch, start, end))
        return fetched

    store: dict[MetricQuery, Series] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        for part in pool.map(fetch, sorted(by_scope.items(), key=lambda kv: str(kv[0]))):
            store.update(part)
    return MetricStore(store, start, end)


def _fetch_batch(
    client: Any, batch: Sequence[MetricQuery], start: datetime, end: datetime
) -> dict[MetricQuery, Series]:
    ids = {f"q{index}": query for index, query in enumerate(batch)}
    points: dict[str, list[tuple[datetime, float]]] = {key: [] for key in ids}
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
    # A call returns at most 100,800 datapoints; the rest come back under NextToken.
    while True:
        response = client.get_metric_data(**request)
        for result in response.get("MetricDataResults", []):
            key = result["Id"]
            # botocore gives every parsed timestamp its own tzlocal() (~0.5 KB): in UTC they
            # share one tzinfo, which keeps a large scan's series ~7x smaller (and daily
            # totals in UTC days whatever the machine's time zone).
            stamps = [parse_time(t) for t in result.get("Timestamps", [])]
            points[key].extend((t, v) for t, v in zip(stamps, result.get("Values", []),
                                                      strict=False) if t is not None)
        token = response.get("NextToken")
        if not token:
            break
        request["NextToken"] = token
    series = {}
    for key, query in ids.items():
        ordered = sorted(points[key])
        series[query] = Series(tuple(t for t, _ in ordered), tuple(float(v) for _, v in ordered))
    return series
