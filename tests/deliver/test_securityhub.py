"""Security Hub through moto: the nightly scenario (a new finding ACTIVE, a resolved one
ARCHIVED, suppressed and baselined ones not sent), batches of at most 100, and the scope an
archive is limited to."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from auditor.baseline import apply_baseline
from auditor.deliver.clients import delivery_client
from auditor.deliver.securityhub import import_findings, product_arn, send_to_security_hub
from auditor.deliver.send import deliver_all
from auditor.deliver.targets import parse_target
from auditor.findings import Severity
from auditor.report.document import Report
from tests.deliver.conftest import (
    LAST_NIGHT,
    NEW,
    RESOLVED,
    STAYING,
    SUPPRESSED,
    Receiver,
    arn,
    report,
)
from tests.report.conftest import ACCOUNT, finding

pytestmark = pytest.mark.usefixtures("aws")
REGION = "us-east-1"


@pytest.fixture
def hub() -> Any:
    client = boto3.client("securityhub", region_name=REGION)
    client.enable_security_hub()
    return client


def states(hub: Any) -> dict[str, str]:
    return {f["Id"]: f["RecordState"] for f in hub.get_findings(MaxResults=100)["Findings"]}


def test_the_nightly_scenario_leaves_new_active_and_resolved_archived(
        hub: Any, baseline: Report, tonight: Report, receiver: Receiver) -> None:
    session = boto3.session.Session()
    first = send_to_security_hub(baseline, session)
    assert (first.status, first.reason) == ("sent", "2 imported, 0 archived")
    assert first.target == f"securityhub:{REGION}"

    scanned = apply_baseline(tonight, baseline)
    [sent] = deliver_all(scanned, [parse_target(f"webhook+{receiver.url}")], baseline)
    assert sent.status == "sent"
    [message] = receiver.accepted
    assert [f["fingerprint"] for f in message["new"]] == [NEW.fingerprint]
    assert [f["fingerprint"] for f in message["resolved"]] == [RESOLVED.fingerprint]
    second = send_to_security_hub(scanned, session)
    assert (second.status, second.reason) == ("sent", "1 imported, 1 archived")
    assert states(hub) == {STAYING.fingerprint: "ACTIVE", NEW.fingerprint: "ACTIVE",
                           RESOLVED.fingerprint: "ARCHIVED"}
    assert SUPPRESSED.fingerprint not in states(hub)


def test_the_record_is_asff_with_severity_resource_and_remediation(
        hub: Any, tonight: Report) -> None:
    send_to_security_hub(tonight, boto3.session.Session())
    [record] = [f for f in hub.get_findings()["Findings"] if f["Id"] == NEW.fingerprint]
    assert record["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/" \
                                   f"{ACCOUNT}/default"
    assert record["SchemaVersion"] == "2018-10-08"
    assert record["GeneratorId"] == NEW.check_id and record["AwsAccountId"] == ACCOUNT
    assert record["Severity"] == {"Label": "HIGH"}
    assert record["Resources"] == [{"Type": "AwsEcsService", "Id": NEW.resource_arn,
                                    "Partition": "aws", "Region": "us-east-1"}]
    assert record["Remediation"] == {"Recommendation": {"Text": "Add a NAT gateway route."}}
    assert record["CreatedAt"] == record["UpdatedAt"] == "2026-11-23T02:00:00Z"


def test_imports_go_in_batches_of_at_most_100(hub: Any) -> None:
    many = tuple(finding("ecs.task_overprovisioned", arn(f"svc-{i:03}"), Severity.LOW,
                         resource_type="ecs-service") for i in range(250))
    client = delivery_client(boto3.session.Session(), "securityhub", REGION)
    sizes: list[int] = []
    client.meta.events.register("provide-client-params.securityhub.BatchImportFindings",
                                lambda params, **_: sizes.append(len(params["Findings"])))
    result = import_findings(report(many), client, ACCOUNT, REGION)
    assert result.reason == "250 imported, 0 archived"
    assert sizes == [100, 100, 50]


def test_only_what_the_report_covered_is_archived(hub: Any) -> None:
    """A region, account or check tonight's scan did not cover says nothing about its
    findings; neither does another tool's finding in the same hub. An account-wide finding
    (IAM) goes with any region of its account."""
    elsewhere = finding("ecs.no_autoscaling", arn("eu"), Severity.LOW, region="eu-west-1",
                        resource_type="ecs-service")
    other_check = finding("lambda.timeout_high", arn("fn"), Severity.LOW)
    role = finding("iam.shared_role", f"arn:aws:iam::{ACCOUNT}:role/app", Severity.HIGH,
                   region="global")
    session = boto3.session.Session()
    send_to_security_hub(report((STAYING, elsewhere, other_check, role), LAST_NIGHT,
                                regions=("us-east-1", "eu-west-1")), session)
    hub.batch_import_findings(Findings=[{
        "SchemaVersion": "2018-10-08", "Id": "someone-else", "ProductArn":
        product_arn(REGION, ACCOUNT), "ProductName": "another-tool", "GeneratorId": "x",
        "AwsAccountId": ACCOUNT, "Types": ["Software and Configuration Checks"],
        "CreatedAt": "2026-11-22T00:00:00Z", "UpdatedAt": "2026-11-22T00:00:00Z",
        "Severity": {"Label": "LOW"}, "Title": "t", "Description": "d",
        "Resources": [{"Type": "Other", "Id": "x", "Region": REGION}], "RecordState": "ACTIVE"}])

    tonight_us_only = report((NEW,), regions=("us-east-1",))
    tonight_us_only = replace(tonight_us_only,
                              checks_run=(*tonight_us_only.checks_run, role.check_id))
    assert other_check.check_id not in tonight_us_only.checks_run
    assert send_to_security_hub(tonight_us_only, session).reason == "1 imported, 2 archived"
    assert states(hub) == {STAYING.fingerprint: "ARCHIVED", role.fingerprint: "ARCHIVED",
                           elsewhere.fingerprint: "ACTIVE",
                           other_check.fingerprint: "ACTIVE", "someone-else": "ACTIVE",
                           NEW.fingerprint: "ACTIVE"}


def test_a_refused_import_is_a_failed_delivery_not_an_exception(tonight: Report) -> None:
    result = import_findings(tonight, _Refusing(), ACCOUNT, REGION)
    assert result.failed
    assert result.reason.startswith("2 of 2 records refused: ") and "InvalidInput" in result.reason


def test_a_denied_hub_is_a_failed_delivery(tonight: Report) -> None:
    client = delivery_client(boto3.session.Session(), "securityhub", REGION)
    client.meta.events.register("before-call.securityhub.GetFindings", _deny)
    result = import_findings(tonight, client, ACCOUNT, REGION)
    assert result.failed and "AccessDeniedException" in result.reason


def _deny(**_: Any) -> None:
    raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                      "GetFindings")


class _Refusing:
    """A hub that holds nothing and refuses every finding it is given."""

    def get_paginator(self, _: str) -> Any:
        return type("P", (), {"paginate": lambda self, **_: iter([{"Findings": []}])})()

    def batch_import_findings(self, Findings: list[dict[str, Any]]) -> dict[str, Any]:
        return {"FailedCount": len(Findings), "SuccessCount": 0, "FailedFindings": [
            {"Id": f["Id"], "ErrorCode": "InvalidInput", "ErrorMessage": "bad"}
            for f in Findings]}
