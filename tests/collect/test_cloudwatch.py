"""The metrics pass on CloudWatch's real answers: each batch stands alone, per-query status
codes are read, PartialData is followed, and every failure costs only the series it hit."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import boto3
from botocore.stub import Stubber

from auditor.collect.base import Recorder
from auditor.collect.cloudwatch import MAX_QUERIES_PER_CALL, fetch_metrics
from auditor.metrics import MetricQuery, lambda_query
from auditor.session import CallStats, ClientFactory
from tests import factories as f

START = f.NOW - timedelta(days=14)


def queries(count: int) -> list[MetricQuery]:
    functions = [f.function(f"fn-{i:04d}", "arn:aws:iam::123456789012:role/r")
                 for i in range(count)]
    return [lambda_query(fn, "Duration", "Maximum") for fn in functions]


def answer(first: int, count: int, status: str = "Complete", token: str | None = None,
           messages: list[dict[str, str]] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"MetricDataResults": [
        {"Id": f"q{i}", "Label": "x", "Timestamps": [START], "Values": [float(first + i)],
         "StatusCode": status, **({"Messages": messages} if messages else {})}
        for i in range(count)]}
    if token:
        response["NextToken"] = token
    return response


def stubbed() -> tuple[dict[str, ClientFactory], Stubber]:
    session = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s",
                                    region_name=f.REGION)
    factory = ClientFactory(session, CallStats())
    stubber = Stubber(factory.client("cloudwatch", f.REGION))
    return {f.ACCOUNT: factory}, stubber


def test_one_failed_batch_loses_only_its_own_series() -> None:
    wanted = queries(MAX_QUERIES_PER_CALL + 3)
    clients, stubber = stubbed()
    stubber.add_client_error("get_metric_data", "Throttling", "Rate exceeded")
    stubber.add_response("get_metric_data", answer(MAX_QUERIES_PER_CALL, 3))
    recorder = Recorder()
    with stubber:
        store = fetch_metrics(clients, wanted, START, f.NOW, recorder, max_workers=1)
    first, second = wanted[:MAX_QUERIES_PER_CALL], wanted[MAX_QUERIES_PER_CALL:]
    assert all(store.failed[q] == "Throttling" for q in first)
    assert all(q in store.series and q not in store.failed for q in second)
    [error] = recorder.errors
    assert (error.operation, error.code, error.datasets) == ("GetMetricData", "Throttling", ())
    # The subjects the failed series were read for, and only those, are named.
    assert set(error.resources) == {q.subject for q in first}
    assert len(error.series) == MAX_QUERIES_PER_CALL


def test_a_query_answered_forbidden_is_recorded_and_the_rest_of_its_batch_kept() -> None:
    wanted = queries(3)
    clients, stubber = stubbed()
    response = answer(0, 3)
    response["MetricDataResults"][1].update(
        StatusCode="Forbidden", Messages=[{"Code": "Forbidden", "Value": "denied by SCP"}])
    stubber.add_response("get_metric_data", response)
    recorder = Recorder()
    with stubber:
        store = fetch_metrics(clients, wanted, START, f.NOW, recorder, max_workers=1)
    assert store.failed == {wanted[1]: "Forbidden"}
    assert set(store.series) == {wanted[0], wanted[2]}
    [error] = recorder.errors
    assert error.code == "Forbidden" and "denied by SCP" in error.message
    assert error.resources == (wanted[1].subject,)


def test_partial_data_is_followed_to_the_end_and_a_series_left_partial_is_not_trusted() -> None:
    wanted = queries(2)
    clients, stubber = stubbed()
    stubber.add_response("get_metric_data", answer(0, 2, "PartialData", token="more"))
    tail = answer(10, 2)
    tail["MetricDataResults"][1]["StatusCode"] = "PartialData"  # and no NextToken: cut short
    stubber.add_response("get_metric_data", tail)
    recorder = Recorder()
    with stubber:
        store = fetch_metrics(clients, wanted, START, f.NOW, recorder, max_workers=1)
    assert list(store.series[wanted[0]].values) == [0.0, 10.0]
    assert store.failed == {wanted[1]: "PartialData"}
    assert [e.code for e in recorder.errors] == ["PartialData"]


def test_a_series_across_pages_reads_in_utc_time_order_with_its_percentiles_and_hours() -> None:
    [wanted] = queries(1)
    clients, stubber = stubbed()
    # Two pages, the later hours first, in a UTC+2 offset as a machine's local time gives.
    plus_two = timezone(timedelta(hours=2))
    hours = [START + timedelta(hours=h) for h in range(6)]
    first = {"Id": "q0", "Label": "x", "StatusCode": "PartialData",
             "Timestamps": [h.astimezone(plus_two) for h in hours[3:]], "Values": [4.0, 5.0, 6.0]}
    second = {"Id": "q0", "Label": "x", "StatusCode": "Complete",
              "Timestamps": [h.astimezone(plus_two) for h in hours[:3]], "Values": [1.0, 2.0, 3.0]}
    stubber.add_response("get_metric_data", {"MetricDataResults": [first], "NextToken": "t"})
    stubber.add_response("get_metric_data", {"MetricDataResults": [second]})
    with stubber:
        store = fetch_metrics(clients, [wanted], START, f.NOW, Recorder(), max_workers=1)
    series = store.series[wanted]
    assert series.timestamps == tuple(hours)
    assert {t.tzinfo for t in series.timestamps} == {UTC}
    assert list(series.values) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert (series.percentile(50), series.percentile(90), series.maximum()) == (3.5, 5.5, 6.0)
    assert series.hours_covered() == 5.0
    assert series.earliest() == START


def test_a_time_it_cannot_read_drops_only_its_own_point() -> None:
    """Emulators and fakes answer times as text; one unreadable time loses its own point, not
    its neighbours' and not the series (botocore itself only ever hands back datetimes)."""
    [wanted] = queries(1)
    hours = [START + timedelta(hours=h) for h in range(3)]

    class Answers:
        def get_metric_data(self, **_: Any) -> dict[str, Any]:
            return {"MetricDataResults": [{
                "Id": "q0", "StatusCode": "Complete",
                "Timestamps": [hours[0].isoformat(), "yesterday-ish",
                               hours[2].replace(tzinfo=None), hours[2] + timedelta(hours=1)],
                "Values": [1.0, 2.0, 3.0]}]}

    class Factory:
        def client(self, service: str, region: str) -> Answers:
            return Answers()

    store = fetch_metrics({f.ACCOUNT: Factory()}, [wanted], START, f.NOW,  # type: ignore[dict-item]
                          Recorder(), max_workers=1)
    series = store.series[wanted]
    assert series.timestamps == (hours[0], hours[2])
    assert list(series.values) == [1.0, 3.0]
