"""Clients: read-only by construction, counted, and pointed anywhere by AWS_ENDPOINT_URL."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from auditor.config import Config
from auditor.errors import ReadOnlyViolation
from auditor.scan import Environment, scan
from auditor.session import CallStats, ClientFactory, is_read_only
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
