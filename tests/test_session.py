"""Clients: read-only by construction, counted, and pointed anywhere by AWS_ENDPOINT_URL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.utils import parse_timestamp
from hypothesis import given
from hypothesis import strategies as st

from auditor.config import Config
from auditor.errors import ReadOnlyViolation
from auditor.scan import Environment, scan
from auditor.session import CallStats, ClientFactory, fast_timestamp, is_read_only
from tests.conftest import isolated_ecs_service


@pytest.mark.parametrize(("service", "operation", "allowed"), [
    ("ecs", "DescribeServices", True),
    ("lambda", "ListFunctions", True),
    ("iam", "GetAccountAuthorizationDetails", True),
    ("dynamodb", "BatchGetItem", True),
    ("sts", "AssumeRole", True),
    ("sts", "GetCallerIdentity", True),
    ("ecs", "UpdateService", False),
    ("lambda", "PutFunctionConcurrency", False),
    ("iam", "CreateRole", False),
    ("ec2", "DeleteVpc", False),
    ("sts", "AssumeRoleWithWebIdentity", False),
])
def test_read_only_rule(service: str, operation: str, allowed: bool) -> None:
    assert is_read_only(service, operation) is allowed


@pytest.mark.usefixtures("aws")
def test_guard_refuses_a_write_before_it_is_sent() -> None:
    stats = CallStats()
    ecs = ClientFactory(boto3.session.Session(), stats).client("ecs", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="refused ecs:CreateCluster"):
        ecs.create_cluster(clusterName="should-not-exist")
    assert ecs.list_clusters()["clusterArns"] == []
    assert stats.by_operation() == {"ecs:ListClusters": 1}


MOMENTS = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))


@given(MOMENTS, st.sampled_from(["epoch", "epoch float", "Z", "+0000", "+00:00 millis",
                                 "-0500", "rfc822", "epoch text", "no zone"]))
def test_timestamps_parse_to_the_same_instant_as_botocores_parser(moment: datetime,
                                                                  form: str) -> None:
    value = {
        "epoch": int(moment.timestamp()),
        "epoch float": moment.timestamp(),
        "Z": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "+0000": moment.strftime("%Y-%m-%dT%H:%M:%S.%f+0000"),
        "+00:00 millis": moment.isoformat(timespec="milliseconds"),
        "-0500": moment.strftime("%Y-%m-%dT%H:%M:%S-0500"),
        "rfc822": moment.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "epoch text": str(int(moment.timestamp())),
        "no zone": moment.strftime("%Y-%m-%dT%H:%M:%S"),
    }[form]
    ours, botocores = fast_timestamp(value), parse_timestamp(value)
    assert (ours.tzinfo is None) == (botocores.tzinfo is None)
    assert ours == botocores


@pytest.mark.usefixtures("aws")
def test_metric_timestamps_come_back_as_the_instants_that_were_put() -> None:
    session = boto3.session.Session(region_name="us-east-1")
    hours = [datetime(2026, 11, 28, hour, tzinfo=UTC) for hour in (1, 2, 3)]
    session.client("cloudwatch").put_metric_data(Namespace="Test", MetricData=[
        {"MetricName": "Load", "Timestamp": hour, "Value": 1.0} for hour in hours])
    cloudwatch = ClientFactory(session, CallStats()).client("cloudwatch", "us-east-1")
    [result] = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "load", "MetricStat": {
            "Metric": {"Namespace": "Test", "MetricName": "Load"}, "Period": 3600,
            "Stat": "Sum"}}],
        StartTime=datetime(2026, 11, 28, tzinfo=UTC), EndTime=datetime(2026, 11, 29, tzinfo=UTC),
    )["MetricDataResults"]
    assert sorted(result["Timestamps"]) == hours
    # In UTC, not botocore's local zone: they went through the fast parser.
    assert {stamp.tzinfo for stamp in result["Timestamps"]} == {UTC}


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", endpoint)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    try:
        yield endpoint
    finally:
        server.stop()


def test_scan_follows_aws_endpoint_url_to_a_moto_server(moto_server: str) -> None:
    isolated_ecs_service("remote", "isolated")
    report = scan(Config(regions=("us-east-1",), checks=("network.private_subnet_no_egress",)),
                  Environment(), datetime.now(UTC))
    assert report.errors == ()
    [finding] = report.findings
    assert finding.resource_arn.endswith("service/remote/isolated")
    assert finding.evidence["needs"] == {"internet": "container app pulls nginx:1.27 from a "
                                                     "registry outside AWS"}
