"""Fault injection through a real HTTP moto server: whatever fails, the scan finishes in
bounded time, names the failure in `errors`, marks what it could not judge `unknown`, and
reports every other finding exactly as a clean run does."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from auditor.config import Config
from auditor.engine import Registry
from auditor.errors import NothingCollected
from auditor.report.document import Report
from auditor.scan import Environment, scan
from bench.moto_server import (
    Fault,
    FaultRule,
    MotoServer,
    delay,
    deny,
    malformed,
    server_error,
    throttle,
    truncate,
)
from tests.factories import lambda_zip

NOW = datetime.now(UTC)
FAST = Config(regions=("us-east-1",), max_attempts=2, read_timeout=1.0)
# A hang guard, not a speed promise: about 10x the slowest faulted scan (5 s on a busy
# 2-core machine). A scan that retries or waits far past its limits fails; load does not.
SECONDS = 60



def seed() -> None:
    iam = boto3.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="shared", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    lam = boto3.client("lambda")
    for name in ("a", "b"):
        lam.create_function(FunctionName=name, Runtime="python3.9", Role=role,
                            Handler="handler.handler", Code={"ZipFile": lambda_zip()},
                            Environment={"Variables": {"DB_PASSWORD": "fault-suite-secret"}})
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="s", Description="s", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(family="t", requiresCompatibilities=["FARGATE"],
                                 networkMode="awsvpc", cpu="256", memory="512",
                                 containerDefinitions=[{"name": "a", "image": "nginx"}])
    ecs.create_service(cluster="c", serviceName="s", taskDefinition="t", desiredCount=1,
                       launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                           "subnets": [subnet], "securityGroups": [group]}})


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    with MotoServer(latency_s=0.0) as running, pytest.MonkeyPatch.context() as patch:
        for name, value in running.client_env().items():
            patch.setenv(name, value)
        patch.setenv("AWS_SESSION_TOKEN", "testing")
        patch.delenv("AWS_PROFILE", raising=False)
        seed()
        yield running


@pytest.fixture(scope="module")
def clean(server: MotoServer) -> Report:
    report = scan(FAST, Environment(session=boto3.session.Session()), NOW)
    assert report.errors == ()
    return report


def faulted(server: MotoServer, rule: FaultRule, config: Config = FAST) -> tuple[Report, float]:
    server.add_fault(rule)
    started = time.monotonic()
    try:
        report = scan(config, Environment(session=boto3.session.Session()), NOW)
    finally:
        server.remove_fault(rule)
    return report, time.monotonic() - started


def verdicts(report: Report, checks: set[str]) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.resource_arn, f.status) for f in report.findings
            if f.check_id in checks}


def assert_contained(report: Report, clean: Report, service: str, seconds: float) -> None:
    """The failure is named, its checks go unknown, and everything else is unchanged."""
    assert seconds < SECONDS
    failed = [e for e in report.errors if e.service == service]
    assert failed, f"no error recorded for {service}: {report.errors}"
    affected = {c for e in failed for c in e.checks_affected}
    untouched = set(Registry.build(include_entry_points=False).ids) - affected
    assert verdicts(report, untouched) == verdicts(clean, untouched)
    for check in affected:
        judged = {f.resource_arn for f in clean.findings if f.check_id == check}
        now_seen = {f.resource_arn: f.status for f in report.findings if f.check_id == check}
        # Nothing the clean run flagged silently disappears: it is still failed or unknown.
        assert judged <= set(now_seen) or any(s == "unknown" for s in now_seen.values()), check


SERVICES = ("ecs", "lambda", "ec2", "iam", "logs", "rds", "cloudwatch")


@pytest.mark.parametrize("service", SERVICES)
def test_access_denied_on_each_service_in_turn(server: MotoServer, clean: Report,
                                               service: str) -> None:
    report, seconds = faulted(server, FaultRule(deny(), service=service))
    assert_contained(report, clean, service, seconds)
    assert {e.code for e in report.errors if e.service == service} <= {
        "AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def test_a_throttling_burst_is_retried_to_completion(server: MotoServer, clean: Report) -> None:
    rule = FaultRule(throttle(), service="lambda", times=1)
    report, _ = faulted(server, rule, Config(regions=("us-east-1",), max_attempts=4))
    assert rule.hits == 1
    assert report.errors == ()
    everything = set(Registry.build(include_entry_points=False).ids)
    assert verdicts(report, everything) == verdicts(clean, everything)


@pytest.mark.parametrize("fault", [server_error(500), server_error(503)], ids=["500", "503"])
def test_persistent_server_errors_are_recorded(server: MotoServer, clean: Report,
                                               fault: Fault) -> None:
    report, seconds = faulted(server, FaultRule(fault, service="ecs"))
    assert_contained(report, clean, "ecs", seconds)


def test_a_response_slower_than_the_read_timeout_is_recorded(server: MotoServer,
                                                             clean: Report) -> None:
    report, seconds = faulted(server, FaultRule(delay(2.5), service="logs"))
    assert_contained(report, clean, "logs", seconds)
    assert {e.code for e in report.errors} == {"ReadTimeoutError"}


def test_expired_credentials_are_recorded(server: MotoServer, clean: Report) -> None:
    report, seconds = faulted(server, FaultRule(deny("ExpiredToken"), service="iam"))
    assert_contained(report, clean, "iam", seconds)
    assert {e.code for e in report.errors} == {"ExpiredToken"}


@pytest.mark.parametrize(("service", "fault"), [
    ("ec2", truncate()), ("ec2", malformed()),          # XML: botocore's parser raises
    ("lambda", truncate()), ("lambda", malformed()),    # JSON: would read as an empty list
], ids=["xml-truncated", "xml-malformed", "json-truncated", "json-malformed"])
def test_truncated_or_malformed_bodies_are_recorded_not_read_as_empty(
        server: MotoServer, clean: Report, service: str, fault: Fault) -> None:
    report, seconds = faulted(server, FaultRule(fault, service=service))
    assert_contained(report, clean, service, seconds)


def test_an_unknown_new_field_in_a_response_changes_nothing(clean: Report,
                                                            server: MotoServer) -> None:
    def add_field(parsed: dict, **_: object) -> None:  # type: ignore[type-arg]
        for function in parsed.get("Functions", []):
            function["SomethingAwsAddedIn2027"] = {"nested": [1, 2, 3]}

    env = Environment(session=boto3.session.Session(),
                      hooks=(("after-call.lambda.ListFunctions", add_field),))
    report = scan(FAST, env, NOW)
    assert report.errors == ()
    everything = set(Registry.build(include_entry_points=False).ids)
    assert verdicts(report, everything) == verdicts(clean, everything)


def test_a_disabled_region_is_recorded_and_the_enabled_one_scanned(server: MotoServer,
                                                                   clean: Report) -> None:
    config = Config(regions=("us-east-1", "me-south-1"), max_attempts=2, read_timeout=1.0)

    def only_us_east(model: object, **_: object) -> object:
        return (type("Http", (), {"status_code": 200, "headers": {}})(),
                {"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                             {"RegionName": "me-south-1", "OptInStatus": "not-opted-in"}]})

    report = scan(config, Environment(session=boto3.session.Session(), hooks=(
        ("before-call.ec2.DescribeRegions", only_us_east),)), NOW)
    assert [(e.region, e.code) for e in report.errors] == [("me-south-1", "RegionNotEnabled")]
    everything = set(Registry.build(include_entry_points=False).ids)
    assert verdicts(report, everything) == verdicts(clean, everything)


def test_sts_denied_means_nothing_can_be_collected(server: MotoServer) -> None:
    server.add_fault(rule := FaultRule(deny(), service="sts"))
    try:
        with pytest.raises(NothingCollected, match="cannot identify the AWS account"):
            scan(FAST, Environment(session=boto3.session.Session()), NOW)
    finally:
        server.remove_fault(rule)
