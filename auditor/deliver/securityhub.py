"""Findings into AWS Security Hub as ASFF (`--security-hub`), through a client allowed reads and
`securityhub:BatchImportFindings` only.

- Reported findings (failed, neither suppressed nor baselined) are imported, at most 100 per
  call, each with `Id` = its fingerprint, so tonight's import updates last night's record.
- A finding gone since the previous import is re-imported with `RecordState: ARCHIVED`. The
  previous import is what Security Hub holds: this product's ACTIVE findings (GetFindings), in
  the accounts and regions the report scanned, for the checks it ran. A finding still present,
  baselined or `unknown` tonight is left as it is; one suppressed tonight is archived.
- Findings land in the hub of the delivery session's account and region, under that account's
  default product (`arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from auditor.deliver.clients import delivery_client, read_client
from auditor.findings import Finding
from auditor.model import GLOBAL_REGION
from auditor.report.document import Delivery, Report, iso

BATCH = 100
"""BatchImportFindings takes at most 100 findings a call."""
PRODUCT_NAME = "compute-auditor"
SCHEMA_VERSION = "2018-10-08"
SEVERITY_LABELS = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW",
                   "info": "INFORMATIONAL"}
RESOURCE_TYPES = {"ecs-service": "AwsEcsService", "ecs-task-definition": "AwsEcsTaskDefinition",
                  "ecs-cluster": "AwsEcsCluster", "lambda-function": "AwsLambdaFunction",
                  "eks-cluster": "AwsEksCluster", "iam-role": "AwsIamRole",
                  "subnet": "AwsEc2Subnet", "security-group": "AwsEc2SecurityGroup",
                  "vpc": "AwsEc2Vpc", "route-table": "AwsEc2RouteTable",
                  "ec2-instance": "AwsEc2Instance"}
"""ASFF resource types for the inventory kinds that have one; the others are `Other`."""
_KEPT = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types",
         "CreatedAt", "Severity", "Title", "Description", "Resources", "Remediation",
         "ProductName", "CompanyName", "Compliance")
"""What an archived record keeps of the one Security Hub holds (it adds fields of its own
that an import may not set)."""


def product_arn(region: str, account: str) -> str:
    return f"arn:aws:securityhub:{region}:{account}:product/{account}/default"


def asff(finding: Finding, product: str, updated_at: datetime,
         created_at: str | None = None) -> dict[str, Any]:
    """One finding as an ASFF record (within Security Hub's field length limits)."""
    partition = finding.resource_arn.split(":")[1] if finding.resource_arn.count(":") > 1 \
        else "aws"
    fields = {"compute-auditor/CheckId": finding.check_id,
              "compute-auditor/Category": finding.category.value}
    if finding.monthly_savings_usd:
        fields["compute-auditor/MonthlySavingsUsd"] = f"{finding.monthly_savings_usd:.2f}"
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding.fingerprint,
        "ProductArn": product,
        "ProductName": PRODUCT_NAME,
        "CompanyName": PRODUCT_NAME,
        "GeneratorId": finding.check_id,
        "AwsAccountId": finding.account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices/"
                  f"{finding.category.value}"],
        "CreatedAt": created_at or iso(updated_at),
        "UpdatedAt": iso(updated_at),
        "Severity": {"Label": SEVERITY_LABELS[finding.severity.value]},
        "Title": finding.title[:256],
        "Description": finding.message[:1024],
        "Remediation": {"Recommendation": {"Text": finding.remediation[:512] or finding.title}},
        "Resources": [{"Type": RESOURCE_TYPES.get(finding.resource_type, "Other"),
                       "Id": finding.resource_arn, "Partition": partition,
                       "Region": finding.region}],
        "Compliance": {"Status": "FAILED"},
        "ProductFields": fields,
        "RecordState": "ACTIVE",
    }


def _previous(client: Any, product: str) -> Iterator[dict[str, Any]]:
    """This product's ACTIVE findings. The filters are checked again on what comes back: an
    emulator (and an older endpoint) may ignore them."""
    filters = {"ProductArn": [{"Value": product, "Comparison": "EQUALS"}],
               "ProductName": [{"Value": PRODUCT_NAME, "Comparison": "EQUALS"}],
               "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]}
    for page in client.get_paginator("get_findings").paginate(Filters=filters):
        for record in page["Findings"]:
            if (record.get("ProductArn") == product and record.get("RecordState") == "ACTIVE"
                    and record.get("ProductName") == PRODUCT_NAME):
                yield record


def _in_scope(record: Mapping[str, Any], report: Report) -> bool:
    """Recorded for an account, region and check the report covered; account-wide resources
    (IAM, region `global`) with any region of their account."""
    regions = {r.get("Region") for r in record.get("Resources", [])}
    return (record.get("AwsAccountId") in report.accounts
            and record.get("GeneratorId") in report.checks_run
            and bool(regions & {*report.regions, GLOBAL_REGION}))


def _archived(record: Mapping[str, Any], report: Report) -> dict[str, Any]:
    kept = {key: record[key] for key in _KEPT if key in record}
    return {**kept, "RecordState": "ARCHIVED", "UpdatedAt": iso(report.generated_at)}


def _batches(records: Sequence[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(records), BATCH):
        yield list(records[start:start + BATCH])


def import_findings(report: Report, client: Any, account: str, region: str) -> Delivery:
    """Import tonight's findings and archive the resolved ones; a `Delivery` either way."""
    target = f"securityhub:{region}"
    product = product_arn(region, account)
    try:
        previous = {record["Id"]: record for record in _previous(client, product)}
        present = {f.fingerprint for f in report.findings if not f.suppressed}
        records = [asff(f, product, report.generated_at,
                        previous.get(f.fingerprint, {}).get("CreatedAt"))
                   for f in report.active_findings if f.status == "fail"]
        archive = [_archived(record, report) for key, record in previous.items()
                   if key not in present and _in_scope(record, report)]
        failed: list[str] = []
        for batch in _batches([*records, *archive]):
            answer = client.batch_import_findings(Findings=batch)
            failed += [f"{x.get('Id', '?')}: {x.get('ErrorCode', '')} {x.get('ErrorMessage', '')}"
                       for x in answer.get("FailedFindings", [])]
    except (ClientError, BotoCoreError) as exc:
        return Delivery(target, "failed", f"{type(exc).__name__}: {exc}"[:300], 1)
    if failed:
        return Delivery(target, "failed", f"{len(failed)} of {len(records) + len(archive)} "
                        f"records refused: {'; '.join(failed[:3])}"[:300], 1)
    return Delivery(target, "sent", f"{len(records)} imported, {len(archive)} archived", 1)


def send_to_security_hub(report: Report, session: boto3.session.Session,
                         region: str | None = None) -> Delivery:
    """`--security-hub`: into the hub of the session's account in `region` (else the session's
    region). Never raises: the report is already written, whatever happens here."""
    where = region or session.region_name or "us-east-1"
    try:
        account: str = read_client(session, "sts", where).get_caller_identity()["Account"]
        return import_findings(report, delivery_client(session, "securityhub", where),
                               account, where)
    # Deliberately broad, as `auditor.deliver.send.deliver`: never lose the report to a bug.
    except Exception as exc:
        return Delivery(f"securityhub:{where}", "failed", f"{type(exc).__name__}: {exc}"[:300],
                        1)
