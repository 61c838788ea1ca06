"""The benchmark moto server: counting by operation, latency, injected faults, rule removal."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from moto.cloudwatch.models import cloudwatch_backends

from auditor.collect.base import Recorder
from auditor.collect.cloudwatch import fetch_metrics
from auditor.metrics import MetricQuery
from auditor.session import CallStats, ClientFactory
from bench.moto_server import (
    _ORIGINAL_STATS,
    UNRESOLVED,
    FaultRule,
    MotoServer,
    _fast_get_metric_statistics,
    delay,
    deny,
    identify,
    malformed,
    server_error,
    throttle,
    truncate,
)
from tests.conftest import ONE_TRY
from tests.factories import lambda_zip


def _seed_function() -> None:
    role = boto3.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
    )["Role"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="h.h",
        Code={"ZipFile": lambda_zip()})


def test_counts_every_protocol_exactly_as_botocore_sent_them(server: MotoServer) -> None:
    _seed_function()
    boto3.client("ecs").create_cluster(clusterName="c")
    server.reset_counts()
    stats = CallStats()
    factory = ClientFactory(boto3.session.Session(), stats)
    region = "us-east-1"
    now = datetime.now(UTC)
    lam = factory.client("lambda", region)
    lam.list_functions()                                       # rest-json, fixed path
    lam.get_function_concurrency(FunctionName="fn")            # rest-json, label + suffix
    lam.get_function(FunctionName="fn")                        # rest-json, label only
    lam.list_event_source_mappings()
    factory.client("ecs", region).list_clusters()              # json (X-Amz-Target)
    factory.client("ecs", region).describe_clusters(clusters=["c"])
    factory.client("eks", region).list_clusters()              # rest-json
    factory.client("ec2", region).describe_vpcs()              # ec2 (Action=)
    factory.client("iam", region).list_roles()                 # query
    factory.client("sts", region).get_caller_identity()        # query
    cloudwatch = factory.client("cloudwatch", region)          # rpc v2 cbor
    cloudwatch.list_metrics()
    cloudwatch.get_metric_statistics(Namespace="AWS/ECS", MetricName="CPUUtilization",
                                     StartTime=now - timedelta(hours=2), EndTime=now,
                                     Period=3600, Statistics=["Maximum"])
    factory.client("logs", region).describe_log_groups()
    factory.client("rds", region).describe_db_instances()
    assert server.counts() == stats.by_operation()
    assert server.total() == stats.total == 14


@pytest.mark.parametrize("service", ["lambda", "eks", "apigateway", "apigatewayv2"])
def test_every_rest_operation_is_named_from_its_template(service: str) -> None:
    """Each request-URI template, filled in, resolves to its own operation: no two templates
    of the service shadow each other."""
    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        environ = {
            "REQUEST_METHOD": http["method"],
            "PATH_INFO": path.replace("{", "x").replace("}", "").replace("+", ""),
            "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/"
                                  f"{model.signing_name}/aws4_request, Signature=0",
        }
        call = identify(environ, b"")
        assert (call.service, call.operation, call.region) == (service, name, "eu-west-1")


def test_an_unexplained_request_is_counted_not_dropped() -> None:
    call = identify({"REQUEST_METHOD": "GET", "PATH_INFO": "/nothing/here"}, b"")
    assert call.operation == UNRESOLVED


def test_latency_is_added_to_every_request(server: MotoServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ecs = boto3.client("ecs")
    ecs.list_clusters()  # connection and model loading out of the way
    # The waits are counted, not timed against each other: a busy machine slows any request.
    waits: list[float] = []
    sleep = time.sleep

    def counted(seconds: float) -> None:
        waits.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", counted)

    def timed() -> float:
        started = time.monotonic()
        ecs.list_clusters()
        return time.monotonic() - started

    timed()
    assert waits == []
    server.set_latency(0.25)
    slow = timed()
    ecs.list_clusters()
    assert slow >= 0.25  # a lower bound: load can only add to it
    assert waits == [0.25, 0.25]


@pytest.mark.parametrize(("fault", "service", "code"), [
    (deny(), "lambda", "AccessDeniedException"),
    (deny(), "iam", "AccessDenied"),
    (deny(), "ec2", "UnauthorizedOperation"),
    (throttle(), "ecs", "ThrottlingException"),
    (throttle(), "iam", "Throttling"),
    (throttle(), "cloudwatch", "ThrottlingException"),
    (throttle("Throttling"), "cloudwatch", "Throttling"),
    (server_error(500), "eks", "InternalFailure"),
    (server_error(503), "ec2", "ServiceUnavailable"),
])
def test_injected_errors_reach_boto3_with_their_code(
    server: MotoServer, fault: Any, service: str, code: str
) -> None:
    calls = {"lambda": "list_functions", "iam": "list_roles", "ec2": "describe_vpcs",
             "ecs": "list_clusters", "cloudwatch": "list_metrics", "eks": "list_clusters"}
    server.add_fault(FaultRule(fault, service=service))
    with pytest.raises(ClientError) as caught:
        getattr(boto3.client(service, config=ONE_TRY), calls[service])()
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == fault.status


def test_first_n_faults_are_retried_through(server: MotoServer) -> None:
    rule = server.add_fault(FaultRule(throttle(), service="ecs", operation="ListClusters",
                                      times=2))
    client = boto3.client("ecs", config=Config(retries={"mode": "standard",
                                                        "total_max_attempts": 3}))
    assert client.list_clusters()["clusterArns"] == []
    assert rule.hits == 2
    assert server.counts() == {"ecs:ListClusters": 3}


def test_first_n_is_exact_under_concurrency(server: MotoServer) -> None:
    server.add_fault(FaultRule(deny(), service="sts", times=5))
    client = boto3.client("sts", config=ONE_TRY)

    def call(_: int) -> bool:
        try:
            client.get_caller_identity()
        except ClientError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(40)))
    assert results.count(False) == 5


def test_delay_past_the_read_timeout(server: MotoServer) -> None:
    server.add_fault(FaultRule(delay(1.0), service="lambda", operation="ListFunctions"))
    client = boto3.client("lambda", config=Config(read_timeout=0.2, retries={
        "mode": "standard", "total_max_attempts": 1}))
    with pytest.raises(ReadTimeoutError):
        client.list_functions()


def test_truncated_and_malformed_bodies(server: MotoServer) -> None:
    _seed_function()
    server.add_fault(FaultRule(truncate(), service="iam", operation="ListRoles"))
    server.add_fault(FaultRule(malformed(), service="ec2"))
    server.add_fault(FaultRule(truncate(), service="lambda", operation="ListFunctions"))
    with pytest.raises(ResponseParserError):
        boto3.client("iam", config=ONE_TRY).list_roles()
    with pytest.raises(ResponseParserError):
        boto3.client("ec2", config=ONE_TRY).describe_vpcs()
    # botocore reads an unparseable JSON body as an empty answer: the function is missing.
    answer = boto3.client("lambda", config=ONE_TRY).list_functions()
    assert answer.get("Functions", []) == []


def test_removed_rules_stop_applying(server: MotoServer) -> None:
    client = boto3.client("ecs", config=ONE_TRY)
    denied = server.add_fault(FaultRule(deny()))
    with pytest.raises(ClientError):
        client.list_clusters()
    server.remove_fault(denied)
    assert client.list_clusters()["clusterArns"] == []
    server.add_fault(FaultRule(deny()))
    server.clear_faults()
    assert client.list_clusters()["clusterArns"] == []
    assert denied.hits == 1


def test_indexed_get_metric_statistics_matches_moto(server: MotoServer) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    cloudwatch = boto3.client("cloudwatch")
    data: list[dict[str, Any]] = []
    for hour in range(1, 60):
        for service, base in (("api", 40.0), ("worker", 10.0)):
            data.append({
                "MetricName": "CPUUtilization", "Timestamp": end - timedelta(minutes=37 * hour),
                "Dimensions": [{"Name": "ClusterName", "Value": "prod"},
                               {"Name": "ServiceName", "Value": service}],
                "StatisticValues": {"SampleCount": 60, "Sum": base * 60 + hour,
                                    "Minimum": base / 2, "Maximum": base + hour % 5},
                "Unit": "Percent",
            })
    cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=data)
    backend = cloudwatch_backends["123456789012"]["us-east-1"]
    start = (end - timedelta(days=1)).replace(tzinfo=None)
    for dims in ([], [{"Name": "ServiceName", "Value": "api"}],
                 [{"Name": "ServiceName"}], [{"Name": "ServiceName", "Value": "nope"}]):
        for period in (300, 3600, 86400):
            args = ("AWS/ECS", "CPUUtilization", start, end.replace(tzinfo=None), period,
                    ["Maximum", "Average", "SampleCount"], dims)
            ours, theirs = (
                [(s.timestamp, s.unit, [s.get_statistics_for_type(x) for x in args[5]])
                 for s in method(backend, *args)]
                for method in (_fast_get_metric_statistics, _ORIGINAL_STATS))
            assert ours == theirs
            assert ours or dims[0].get("Value") == "nope"


def test_metric_series_come_back_in_utc(server: MotoServer) -> None:
    """botocore parses each timestamp with its own tzlocal(); the metrics pass keeps one shared
    UTC tzinfo instead (half a kilobyte less per datapoint)."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    dims = [{"Name": "FunctionName", "Value": "fn"}]
    boto3.client("cloudwatch").put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Invocations", "Dimensions": dims, "Timestamp": end - timedelta(hours=h),
         "Value": float(h)} for h in range(1, 25)])
    query = MetricQuery("123456789012", "us-east-1", "AWS/Lambda", "Invocations",
                        (("FunctionName", "fn"),), "Sum")
    store = fetch_metrics({"123456789012": ClientFactory(boto3.session.Session(), CallStats())},
                          [query], end - timedelta(days=1), end, Recorder())
    series = store.series[query]
    assert len(series.timestamps) == 24
    assert {t.tzinfo for t in series.timestamps} == {UTC}
    assert sorted(series.values) == [float(h) for h in range(1, 25)]
