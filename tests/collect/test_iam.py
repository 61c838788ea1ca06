from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber

from auditor.collect import iam
from auditor.collect.iam import parse_policy_document
from auditor.model import GLOBAL_REGION, Inventory, PolicyDocument, PolicyStatement
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny

FILTER = ["Role", "LocalManagedPolicy", "AWSManagedPolicy"]


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --------------------------------------------------------------------------- parsing


def test_parse_policy_document_normalises_strings_and_lists() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::a/*",
                                                                   "arn:aws:s3:::b/*"]},
        {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::c",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}

    parsed = parse_policy_document("inline", doc)

    assert parsed == PolicyDocument("inline", (
        PolicyStatement("Allow", ("s3:GetObject",), (), ("arn:aws:s3:::a/*", "arn:aws:s3:::b/*"),
                        (), False),
        PolicyStatement("Deny", (), ("iam:*", "sts:*"), (), ("arn:aws:s3:::c",), True),
    ))


@pytest.mark.parametrize("text", [
    _doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"}),
    quote(_doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"})),
    "  " + quote(_doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"})),
])
def test_parse_policy_document_reads_json_and_url_encoded_text(text: str) -> None:
    (statement,) = parse_policy_document("p", text).statements
    assert (statement.effect, statement.actions, statement.resources) == (
        "Allow", ("logs:*",), ("*",))


def test_parse_policy_document_tolerates_missing_parts() -> None:
    single = parse_policy_document("p", {"Statement": {"Effect": "Allow", "Action": "s3:*"}})
    assert single.statements == (PolicyStatement("Allow", ("s3:*",), (), (), (), False),)
    assert parse_policy_document("p", {"Statement": [{}]}).statements == (
        PolicyStatement("", (), (), (), (), False),)
    empties: tuple[Any, ...] = (None, "", {}, {"Version": "2012-10-17"},
                                {"Statement": ["junk"]}, [])
    for empty in empties:
        assert parse_policy_document("p", empty) == PolicyDocument("p", ())


# --------------------------------------------------------------------------- collection


def _trust(services: str | list[str]) -> str:
    return _doc({"Effect": "Allow", "Principal": {"Service": services},
                 "Action": "sts:AssumeRole"})


def test_collects_roles_and_their_policies(
    scan: Callable[..., Scan],
) -> None:
    client = boto3.client("iam", region_name=REGION)
    client.create_role(RoleName="task", Path="/app/", AssumeRolePolicyDocument=_trust(
        ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]), Tags=[{"Key": "team",
                                                                     "Value": "web"}])
    client.create_role(RoleName="plain", AssumeRolePolicyDocument=_doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "sts:AssumeRole"}))
    client.put_role_policy(RoleName="task", PolicyName="logs", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}))
    attached = client.create_policy(PolicyName="read-s3", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}}))["Policy"]["Arn"]
    client.create_policy_version(PolicyArn=attached, SetAsDefault=True, PolicyDocument=_doc(
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}))
    unused = client.create_policy(PolicyName="unused", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}))["Policy"]["Arn"]
    client.attach_role_policy(RoleName="task", PolicyArn=attached)
    run = scan(region=GLOBAL_REGION)

    inventory = iam.collect(run.ctx)

    assert run.errors == []
    roles = {r.name: r for r in inventory.iam_roles}
    task = roles["task"]
    assert (task.arn, task.account, task.region) == (
        f"arn:aws:iam::{ACCOUNT}:role/app/task", ACCOUNT, GLOBAL_REGION)
    assert task.path == "/app/"
    assert task.trusted_services == ("ecs-tasks.amazonaws.com", "lambda.amazonaws.com")
    assert task.attached_policy_arns == (attached,)
    assert task.inline_policies == (PolicyDocument("logs", (
        PolicyStatement("Allow", ("logs:PutLogEvents",), (), ("*",), (), False),)),)
    assert task.tags == {"team": "web"}
    assert roles["plain"].trusted_services == ()

    policy = inventory.managed_policy(attached)
    assert policy is not None
    assert (policy.name, policy.aws_managed, policy.region) == ("read-s3", False, GLOBAL_REGION)
    # The default version, not the first one.
    assert policy.document.statements[0].actions == ("s3:GetObject", "s3:ListBucket")
    assert inventory.managed_policy(unused) is not None  # customer-managed: always kept
    assert run.calls("iam:GetAccountAuthorizationDetails") == 1


def test_keeps_only_the_aws_managed_policies_roles_use(
    scan: Callable[..., Scan],
) -> None:
    run = scan(region=GLOBAL_REGION)
    created = datetime(2024, 1, 1, tzinfo=UTC)

    def policy(name: str, attachments: int) -> dict[str, Any]:
        return {"PolicyName": name, "Arn": f"arn:aws:iam::aws:policy/{name}",
                "AttachmentCount": attachments, "DefaultVersionId": "v2",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": False,
                     "Document": quote(_doc({"Effect": "Allow", "Action": "old:*"}))},
                    {"VersionId": "v2", "IsDefaultVersion": True,
                     "Document": quote(_doc({"Effect": "Allow", "Action": f"{name}:*"}))},
                ]}

    role = {"RoleName": "worker", "RoleId": "AROAEXAMPLEEXAMPLE", "Path": "/",
            "CreateDate": created,
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/worker",
            "AssumeRolePolicyDocument": quote(_trust("ecs-tasks.amazonaws.com")),
            "AttachedManagedPolicies": [{"PolicyName": "Used",
                                         "PolicyArn": "arn:aws:iam::aws:policy/Used"}]}
    with Stubber(run.ctx.client("iam")) as stub:
        # The policy comes a page before the role that attaches it.
        stub.add_response("get_account_authorization_details", {
            "Policies": [policy("Used", 1), policy("Unattached", 0), policy("UsersOnly", 2)],
            "IsTruncated": True, "Marker": "page-2",
        }, {"Filter": FILTER, "MaxItems": 1000})
        stub.add_response("get_account_authorization_details", {
            "RoleDetailList": [role], "IsTruncated": False,
        }, {"Filter": FILTER, "MaxItems": 1000, "Marker": "page-2"})

        inventory = iam.collect(run.ctx)

        stub.assert_no_pending_responses()
    assert run.errors == []
    (kept,) = inventory.managed_policies
    assert (kept.arn, kept.name, kept.aws_managed) == ("arn:aws:iam::aws:policy/Used", "Used",
                                                       True)
    assert kept.document.statements[0].actions == ("Used:*",)
    (worker,) = inventory.iam_roles
    assert worker.trusted_services == ("ecs-tasks.amazonaws.com",)


def test_runs_only_for_the_account_wide_scope(scan: Callable[..., Scan]) -> None:
    run = scan()  # a regional scope

    assert iam.collect(run.ctx) == Inventory()
    assert run.stats.total == 0


def test_denied_pass_is_recorded_against_the_account(scan: Callable[..., Scan]) -> None:
    run = scan(region=GLOBAL_REGION)
    deny(run.ctx.client("iam"), "GetAccountAuthorizationDetails", "AccessDenied")

    inventory = iam.collect(run.ctx)

    assert inventory.iam_roles == ()
    (error,) = run.errors
    assert (error.account, error.region, error.service, error.operation, error.code) == (
        ACCOUNT, GLOBAL_REGION, "iam", "GetAccountAuthorizationDetails", "AccessDenied")
    assert error.datasets == ("iam.authorization",)
