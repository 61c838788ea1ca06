"""CSV: one row per finding, every finding (suppressed and baselined ones say so).

Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
carriage return) get a leading `'`, so a resource name or tag can never execute in Excel.
"""

from __future__ import annotations

import csv
import io
import json

from auditor.report.document import Report, finding_dict, sorted_findings

COLUMNS = ("fingerprint", "severity", "status", "check_id", "title", "category",
           "resource_arn", "resource_type", "account", "region", "message", "remediation",
           "monthly_savings_usd", "suppressed", "suppression_reason", "baselined",
           "resource_tags", "evidence")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) else text


def render(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in sorted_findings(report.findings):
        row = finding_dict(f, report.resource_tags.get(f.resource_arn),
                           f.fingerprint in report.baselined)
        row["resource_tags"] = ";".join(f"{k}={v}" for k, v in
                                        row.get("resource_tags", {}).items())
        row["evidence"] = json.dumps(row["evidence"], sort_keys=True)
        row["baselined"] = row.get("baselined", False)
        writer.writerow([_value(row.get(column)) for column in COLUMNS])
    return buffer.getvalue()


def _value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.2f}"
    return cell(str(value))
