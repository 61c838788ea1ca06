"""Fixtures for the collector tests: a collector context whose calls are counted and whose
failures are recorded, as in a real scan, over the emulated account of the `aws` fixture
(tests/conftest.py), which pages like AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from auditor.collect.base import Recorder, ScopeCollector
from auditor.datasets import DATASETS
from auditor.model import CollectionError, Scope
from auditor.session import CallStats, ClientFactory

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Scan:
    """A collector context with its call counter at hand."""

    ctx: ScopeCollector
    stats: CallStats

    @property
    def errors(self) -> list[CollectionError]:
        return self.ctx.recorder.errors

    def calls(self, operation: str) -> int:
        return self.stats.by_operation().get(operation, 0)


def make_scan(wanted: Iterable[str] = DATASETS, region: str = REGION) -> Scan:
    stats = CallStats()
    clients = ClientFactory(boto3.session.Session(region_name=REGION), stats)
    ctx = ScopeCollector(Scope(ACCOUNT, region), clients, Recorder(), frozenset(wanted), NOW)
    return Scan(ctx, stats)


@pytest.fixture
def scan(aws: None) -> Callable[..., Scan]:
    return make_scan


def deny(client: Any, operation: str, code: str = "AccessDeniedException") -> None:
    """Make `operation` fail on this client as IAM would, before anything is sent."""

    def refuse(model: Any, **_: Any) -> None:
        if model.name == operation:
            raise ClientError({"Error": {"Code": code, "Message": "not authorized"}}, operation)

    client.meta.events.register("before-call.*.*", refuse)



def network() -> tuple[str, str, str]:
    """A VPC, a subnet and a security group: ECS, EKS, Lambda and RDS check they exist."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    return vpc, subnet, group



def role(name: str = "workload", service: str = "lambda.amazonaws.com") -> str:
    trust = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
             f'"Principal": {{"Service": "{service}"}}, "Action": "sts:AssumeRole"}}]}}')
    iam = boto3.client("iam", region_name=REGION)
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])


def fail_when(client: Any, operation: str, when: Callable[[dict[str, Any]], bool],
              error: Exception | None = None, code: str = "ThrottlingException") -> None:
    """Make `operation` fail on this client for the calls whose parameters `when` picks, as
    one resource failing on AWS would (the other calls are answered as usual)."""

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    # Raised from before-call, after the call is counted and named, as a failure on the wire.
    def refuse(model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == operation and when(context.get("api_params", {})):
            raise error or ClientError({"Error": {"Code": code, "Message": "failed"}}, operation)

    client.meta.events.register("before-parameter-build.*.*", remember)
    client.meta.events.register("before-call.*.*", refuse)
