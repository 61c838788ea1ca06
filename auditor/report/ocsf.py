"""OCSF 1.5.0 Detection Finding events (class 2004), one per finding, as a JSON array: the
shape AWS Security Lake, Security Hub's OCSF ingestion and most SIEMs take.

- `finding_info.uid` is the fingerprint, stable across runs; `metadata.event_code` the check.
- `severity_id` from the severity (critical 5 ... info 1); `status_id` New, or Suppressed
  with the reason in `status_detail`; `status_code` FAIL or UNKNOWN (the check could not
  decide), as Prowler does.
- The cloud profile: `cloud` (provider AWS, account, region) and `resources` with the ARN,
  type, region, tags as `labels` and the evidence in `data`.
- What OCSF has no field for (savings, category, baseline) goes in `unmapped`.
"""

from __future__ import annotations

import json
from typing import Any

from auditor import __version__
from auditor.findings import Finding, Severity
from auditor.report.document import Report, finding_dict, iso, sorted_findings
from auditor.report.table import short_arn

OCSF_VERSION = "1.5.0"
CLASS_UID = 2004
ACTIVITY_CREATE = 1
SEVERITY_IDS = {Severity.CRITICAL: (5, "Critical"), Severity.HIGH: (4, "High"),
                Severity.MEDIUM: (3, "Medium"), Severity.LOW: (2, "Low"),
                Severity.INFO: (1, "Informational")}
STATUS_NEW = (1, "New")
STATUS_SUPPRESSED = (3, "Suppressed")


def _partition(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def event(finding: Finding, report: Report) -> dict[str, Any]:
    baselined = finding.fingerprint in report.baselined
    plain = finding_dict(finding, report.resource_tags.get(finding.resource_arn), baselined)
    time_ms = int(report.generated_at.timestamp() * 1000)
    severity_id, severity = SEVERITY_IDS[finding.severity]
    status_id, status = STATUS_SUPPRESSED if finding.suppressed else STATUS_NEW
    tags = plain.get("resource_tags", {})
    out: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "status_code": finding.status.upper(),
        "message": finding.message,
        "time": time_ms,
        "time_dt": iso(report.generated_at),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "compute-auditor", "vendor_name": "compute-auditor",
                        "version": report.tool_version or __version__},
            "event_code": finding.check_id,
            "uid": finding.fingerprint,
            "profiles": ["cloud"],
        },
        "finding_info": {
            "uid": finding.fingerprint,
            "title": finding.title,
            "desc": finding.message,
            "types": [finding.category.value],
            "created_time": time_ms,
            "created_time_dt": iso(report.generated_at),
        },
        "cloud": {
            "provider": "AWS",
            "region": finding.region,
            "account": {"uid": finding.account, "name": finding.account,
                        "type_id": 10, "type": "AWS Account"},
        },
        "resources": [{
            "uid": finding.resource_arn,
            "name": short_arn(finding.resource_arn),
            "type": finding.resource_type,
            "region": finding.region,
            "cloud_partition": _partition(finding.resource_arn),
            "labels": [f"{k}={v}" for k, v in tags.items()],
            "data": {"evidence": plain["evidence"], "tags": tags},
        }],
        "remediation": {"desc": finding.remediation or finding.title},
        "unmapped": {"check_id": finding.check_id, "category": finding.category.value,
                     "monthly_savings_usd": finding.monthly_savings_usd,
                     "baselined": baselined},
    }
    if finding.suppression_reason:
        out["status_detail"] = finding.suppression_reason
    return out


def render(report: Report) -> str:
    events = [event(f, report) for f in sorted_findings(report.findings)]
    return json.dumps(events, indent=2) + "\n"
