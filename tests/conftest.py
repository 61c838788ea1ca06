"""Shared fixtures: fake credentials and a moto-emulated AWS for tests that need one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, paging like AWS (ListFunctions 50 a page, DescribeServices 10 services a call,
    ...) on every client the test creates, so pagination and batching are exercised."""
    from moto import mock_aws

    from auditor.demo.paging import aws_page_sizes

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws(), aws_page_sizes():
        yield


def isolated_ecs_service(cluster: str = "prod", name: str = "api") -> str:
    """In the emulated account: a Fargate service in a subnet with no way out (no route, no
    endpoint), pulling a public image: `network.private_subnet_no_egress` reports it (high).
    Returns the service ARN."""
    import boto3

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=cluster, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", containerDefinitions=[{"name": "app", "image": "nginx:1.27"}])
    arn: str = ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=cluster, desiredCount=1,
        launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
            "subnets": [subnet], "securityGroups": [group]}})["service"]["serviceArn"]
    return arn
