"""The benchmark server's org mode: AWS's rates enforced per account, each account's requests
told apart by its credentials (bench/moto_server.py, `enforce_rates`)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from auditor.ratelimit import Rate
from bench.moto_server import MotoServer
from tests.conftest import ONE_TRY

MEMBER = "210987654321"
# No token comes back within the test.
TINY = Rate(per_second=0.001, burst=2, source="the test's")


def _member_session() -> boto3.session.Session:
    """Credentials of a role assumed in another account, as `auditor scan --org` gets them."""
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{MEMBER}:role/AuditorRole", RoleSessionName="test")["Credentials"]
    return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                 aws_secret_access_key=credentials["SecretAccessKey"],
                                 aws_session_token=credentials["SessionToken"],
                                 region_name="us-east-1")


def _error(call: Any) -> str | None:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def test_an_account_past_its_bucket_gets_the_services_throttling_error_and_no_other(
        server: MotoServer) -> None:
    management_account = boto3.client("sts").get_caller_identity()["Account"]
    member = _member_session()
    server.enforce_rates(lambda service, operation: TINY)
    server.reset_counts()
    lam = boto3.client("lambda", config=ONE_TRY)
    ec2 = boto3.client("ec2", config=ONE_TRY)

    assert [_error(lam.list_functions) for _ in range(3)] == [
        None, None, "TooManyRequestsException"]
    assert [_error(ec2.describe_vpcs) for _ in range(3)] == [None, None, "RequestLimitExceeded"]
    # The member account has buckets of its own, full.
    member_lambda = member.client("lambda", config=ONE_TRY)
    assert [_error(member_lambda.list_functions) for _ in range(2)] == [None, None]

    assert server.throttles() == {(management_account, "ec2"): 1,
                                  (management_account, "lambda"): 1}
    sent: dict[tuple[str, str], int] = {}
    for second in server.by_second():
        key = (second.account, second.operation)
        sent[key] = sent.get(key, 0) + second.requests
    # Throttled requests were sent all the same: they count toward the rate.
    assert sent == {(management_account, "ListFunctions"): 3,
                    (management_account, "DescribeVpcs"): 3, (MEMBER, "ListFunctions"): 2}


def test_rates_are_not_enforced_unless_asked(server: MotoServer) -> None:
    lam = boto3.client("lambda", config=ONE_TRY)
    assert {_error(lam.list_functions) for _ in range(20)} == {None}
    assert server.throttles() == {}


def test_the_server_lists_functions_fifty_a_page_as_aws_does(server: MotoServer) -> None:
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    awslambda = boto3.client("lambda")
    names = {f"fn-{i:03d}" for i in range(120)}
    for name in names:
        awslambda.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                  Handler="h.h", Code={"ZipFile": b"x"})
    server.reset_counts()
    pages = list(awslambda.get_paginator("list_functions").paginate())
    assert [len(page["Functions"]) for page in pages] == [50, 50, 20]
    assert {f["FunctionName"] for page in pages for f in page["Functions"]} == names
    assert server.counts()["lambda:ListFunctions"] == 3
