"""Many accounts and regions: sharded scans merged equal one scan, and a refused role, a
disabled region or credentials that cannot be refreshed mid-scan each end as `errors` with
the rest of the scan intact."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from auditor import accounts
from auditor.config import Config
from auditor.merge import merge
from auditor.ratelimit import Rate, RateLimits
from auditor.report.document import Report, to_dict
from auditor.scan import Environment, scan
from tests.factories import lambda_zip

ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
ROLE = "ComputeAuditorRead"
NOW = datetime.now(UTC)


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{ROLE}"


def session_in(account: str) -> boto3.session.Session:
    creds = boto3.client("sts").assume_role(RoleArn=role_arn(account),
                                            RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"])



def seed() -> None:
    """In each account and region: an ECS service in a subnet with no way out, and two
    Lambda functions sharing an execution role (that region's own role)."""
    for account in ACCOUNTS:
        session = session_in(account)
        iam = session.client("iam")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        for region in REGIONS:
            role = iam.create_role(RoleName=f"fn-{region}", AssumeRolePolicyDocument=trust)
            lam = session.client("lambda", region_name=region)
            for name in ("a", "b"):
                lam.create_function(FunctionName=f"fn-{name}", Runtime="python3.12",
                                    Role=role["Role"]["Arn"], Handler="handler.handler",
                                    Code={"ZipFile": lambda_zip()})
            ec2 = session.client("ec2", region_name=region)
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
            group = ec2.create_security_group(GroupName="s", Description="s",
                                              VpcId=vpc)["GroupId"]
            ecs = session.client("ecs", region_name=region)
            ecs.create_cluster(clusterName="c")
            ecs.register_task_definition(
                family="t", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                cpu="256", memory="512", containerDefinitions=[{"name": "a", "image": "nginx"}])
            ecs.create_service(cluster="c", serviceName="s", taskDefinition="t", desiredCount=2,
                               launchType="FARGATE", networkConfiguration={
                                   "awsvpcConfiguration": {"subnets": [subnet],
                                                           "securityGroups": [group]}})


def run(hooks: tuple[tuple[str, Callable[..., Any]], ...] = (),
        limits: RateLimits | None = None, **options: Any) -> Report:
    config = Config(regions=REGIONS, account_roles=tuple(role_arn(a) for a in ACCOUNTS),
                    **options)
    return scan(config, Environment(session=boto3.session.Session(), hooks=hooks,
                                    limits=limits), NOW)


def essence(report: Report) -> dict[str, Any]:
    document = to_dict(report)
    return {
        "findings": sorted((f["fingerprint"], f["status"]) for f in document["findings"]),
        "savings": document["summary"]["total_monthly_savings_usd"],
        "spend": document["summary"]["total_current_monthly_usd"],
        "workloads": sorted(w["arn"] for w in document["workloads"]),
        "errors": sorted((e["account"], e["region"], e["operation"]) for e in
                         document["errors"]),
        "scope": (document["scope"]["accounts"], document["scope"]["regions"]),
    }


@pytest.mark.usefixtures("aws")
def test_four_shards_merged_equal_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    whole = run()
    assert set(whole.accounts) == set(ACCOUNTS) and set(whole.regions) == set(REGIONS)
    assert {f.check_id for f in whole.findings} >= {"network.private_subnet_no_egress",
                                                     "iam.shared_role"}
    shards = []
    for index in range(4):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", str(index))
        shards.append(run(shard="4"))
    # Each (account, region) pair is scanned by exactly one shard: its one service is seen once.
    seen = [f.resource_arn for s in shards for f in s.findings
            if f.check_id == "network.private_subnet_no_egress"]
    assert len(seen) == len(set(seen)) == len(ACCOUNTS) * len(REGIONS)
    assert essence(merge(shards)) == essence(whole)


def refuse(service: str, operation: str, when: Callable[[dict[str, Any]], bool]
           ) -> tuple[str, Callable[..., Any]]:
    def hook(model: Any, params: Any, **_: Any) -> None:
        if when(params):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "refused"}},
                              operation)
    return (f"before-call.{service}.{operation}", hook)


def body_mentions(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda params: text in str(params.get("body", ""))


@pytest.mark.usefixtures("aws")
def test_an_account_whose_role_cannot_be_assumed_is_an_error_not_a_crash() -> None:
    seed()
    report = run((refuse("sts", "AssumeRole", body_mentions(ACCOUNTS[1])),))
    [error] = report.errors
    assert (error.account, error.service, error.operation, error.code) == (
        ACCOUNTS[1], "sts", "AssumeRole", "AccessDenied")
    assert report.accounts == (ACCOUNTS[0],)
    assert {f.account for f in report.findings} == {ACCOUNTS[0]}


@pytest.mark.usefixtures("aws")
def test_a_region_not_enabled_is_an_error_and_the_others_are_scanned() -> None:
    seed()

    def enabled_only(model: Any, **_: Any) -> Any:
        regions = [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in REGIONS]
        return (type("Http", (), {"status_code": 200, "headers": {}})(),
                {"Regions": regions, "ResponseMetadata": {"HTTPStatusCode": 200}})

    config_regions = (*REGIONS, "ap-east-1")
    report = scan(Config(regions=config_regions,
                         account_roles=tuple(role_arn(a) for a in ACCOUNTS)),
                  Environment(session=boto3.session.Session(),
                              hooks=(("before-call.ec2.DescribeRegions", enabled_only),)), NOW)
    disabled = [e for e in report.errors if e.code == "RegionNotEnabled"]
    assert {(e.account, e.region) for e in disabled} == {(a, "ap-east-1") for a in ACCOUNTS}
    assert "ap-east-1" not in report.regions
    assert set(report.regions) == set(REGIONS)


@pytest.mark.usefixtures("aws")
def test_credentials_that_cannot_be_refreshed_mid_scan_fail_only_that_account(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    state = {"assumed": 0}

    def second_assume_refused(model: Any, params: Any, **_: Any) -> None:
        if ACCOUNTS[1] in str(params.get("body", "")):
            state["assumed"] += 1
            if state["assumed"] > 1:
                raise ClientError({"Error": {"Code": "ExpiredToken",
                                             "Message": "the source session expired"}},
                                  "AssumeRole")

    # Every credential looks 55 minutes old from the first use on, so each call refreshes:
    # account B's refresh is refused, as when a long scan outlives its source session.
    later = datetime.now(UTC) + timedelta(minutes=55)
    monkeypatch.setattr(botocore.credentials, "_local_now", lambda: later)
    # botocore binds the clock into each credentials object when it is made.
    monkeypatch.setattr(accounts, "DeferredRefreshableCredentials", functools.partial(
        botocore.credentials.DeferredRefreshableCredentials, time_fetcher=lambda: later))
    # Each call refreshing, each is also an AssumeRole in the home account: no STS budget
    # here, or this scan would wait most of a minute on it.
    unlimited = RateLimits(1.0, rates=lambda service, operation: Rate(1e9, 1e9, "no limit"))
    report = run((("before-call.sts.AssumeRole", second_assume_refused),), unlimited)
    failed_accounts = {e.account for e in report.errors}
    assert failed_accounts == {ACCOUNTS[1]}
    assert {e.code for e in report.errors} == {"ExpiredToken"}
    assert ACCOUNTS[0] in {f.account for f in report.findings if f.status == "fail"}
    assert all(f.status == "unknown" for f in report.findings if f.account == ACCOUNTS[1])
