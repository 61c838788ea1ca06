"""SARIF 2.1.0, for code-scanning dashboards (GitHub, Azure DevOps, SonarQube, DefectDojo).

- One rule per check that reported, with its title, remediation and default level;
  `security-severity` lets GitHub rank them.
- One result per finding, all of them: `fail` findings are `kind: fail` with a level from the
  severity; `unknown` ones are `kind: open` (the check could not decide) with level `none`.
  Suppressed findings carry an external, accepted `suppressions` entry with the reason; with a
  baseline, `baselineState` says `new` or `unchanged`.
- The location is the resource: a logical location named by the ARN, and the ARN as the
  artifact URI (dashboards require a physical location; there is no source file).
- The fingerprint goes in `partialFingerprints`, so a dashboard tracks a finding across runs.
- Failed API calls are tool execution notifications: what could not be checked.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from auditor.findings import Finding, Severity
from auditor.report.document import Report, finding_dict, iso, sorted_findings
from auditor.report.table import short_arn

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "computeAuditor/v1"
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "1.0"}


def _rule(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.check_id,
        "name": "".join(part.capitalize() for part in
                        finding.check_id.replace(".", "_").split("_")),
        "shortDescription": {"text": finding.title},
        "help": {"text": finding.remediation or finding.title},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {"tags": [finding.category.value, "aws"],
                       "security-severity": SECURITY_SEVERITY[finding.severity],
                       "severity": finding.severity.value},
    }


def _result(finding: Finding, rule_index: int, report: Report, baselined: bool) -> dict[str, Any]:
    plain = finding_dict(finding, report.resource_tags.get(finding.resource_arn), baselined)
    result: dict[str, Any] = {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "kind": "fail" if finding.status == "fail" else "open",
        "level": LEVELS[finding.severity] if finding.status == "fail" else "none",
        "message": {"text": finding.message},
        "locations": [{
            "physicalLocation": {"artifactLocation": {
                "uri": quote(finding.resource_arn, safe=":/+=,.@-_*")}},
            "logicalLocations": [{"name": short_arn(finding.resource_arn),
                                  "fullyQualifiedName": finding.resource_arn,
                                  "kind": finding.resource_type}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {key: plain[key] for key in
                       ("severity", "category", "status", "resource_type", "account", "region",
                        "monthly_savings_usd", "evidence", "remediation", "resource_tags")
                       if key in plain},
    }
    if finding.suppressed:
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": finding.suppression_reason or ""}]
    elif finding.suppression_reason:
        result["properties"]["suppression_note"] = finding.suppression_reason
    if report.baselined:
        result["baselineState"] = "unchanged" if baselined else "new"
    return result


def document(report: Report) -> dict[str, Any]:
    findings = sorted_findings(report.findings)
    rules: dict[str, int] = {}
    rule_list: list[dict[str, Any]] = []
    for finding in findings:
        if finding.check_id not in rules:
            rules[finding.check_id] = len(rule_list)
            rule_list.append(_rule(finding))
    notifications = [{
        "level": "warning",
        "message": {"text": f"{e.service}:{e.operation} failed in {e.account}/{e.region} "
                            f"({e.code}): {e.message}"},
        "properties": {"account": e.account, "region": e.region, "code": e.code,
                       "checks_affected": list(e.checks_affected)},
    } for e in report.errors]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "compute-auditor", "version": report.tool_version,
                                "semanticVersion": report.tool_version, "rules": rule_list}},
            "invocations": [{"executionSuccessful": True,
                             "endTimeUtc": iso(report.generated_at),
                             "toolExecutionNotifications": notifications}],
            "results": [_result(f, rules[f.check_id], report, f.fingerprint in report.baselined)
                        for f in findings],
            "properties": {"accounts": list(report.accounts), "regions": list(report.regions),
                           "lookback_days": report.lookback_days,
                           "checks_run": list(report.checks_run), "demo": report.demo,
                           "total_monthly_savings_usd": report.total_monthly_savings_usd},
        }],
    }


def render(report: Report) -> str:
    return json.dumps(document(report), indent=2) + "\n"
