"""The terminal table: findings grouped by severity, worst first, then a summary line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tabulate import tabulate

from auditor.cost.optimizer import optimizer_summary
from auditor.findings import SEVERITIES
from auditor.report.document import Report, sorted_findings

_MESSAGE_WIDTH = 110


def short_arn(arn: str) -> str:
    """The part of an ARN a person recognises: the resource, without partition and account."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn


def render(report: Report) -> str:
    lines: list[str] = []
    findings = sorted_findings(report.active_findings)
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity.value == severity]
        if not group:
            continue
        lines.append(f"\n{severity.upper()} ({len(group)})")
        rows = [
            [f.check_id, f.status.upper() if f.status != "fail" else "FAIL",
             short_arn(f.resource_arn), f.region,
             "" if f.monthly_savings_usd is None else f"${f.monthly_savings_usd:,.2f}",
             f.message]
            for f in group
        ]
        lines.append(tabulate(
            rows, headers=["check", "status", "resource", "region", "saving/mo", "finding"],
            tablefmt="simple", maxcolwidths=[None, None, 48, None, None, _MESSAGE_WIDTH],
        ))
    if report.errors:
        lines.append(f"\nERRORS ({len(report.errors)}): what could not be checked")
        lines.append(tabulate(
            [[f"{e.account}/{e.region}", f"{e.service}:{e.operation}", e.code,
              ", ".join(e.checks_affected) or "-"] for e in report.errors],
            headers=["scope", "call", "code", "checks unknown"], tablefmt="simple",
            maxcolwidths=[None, None, None, 60],
        ))
    lines.extend(_optimizer(report.workloads))
    if report.billing is not None:
        lines.append(f"\nBILL: {report.billing.heading()}")
        lines.extend(f"  {sentence}" for sentence in report.billing.sentences())
        discounts = report.billing.discounts()
        lines.extend([f"  {discounts}"] if discounts else [])
        lines.extend(f"  - {note}" for note in report.billing.notes)
    lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines).lstrip("\n") + "\n"


def _optimizer(workloads: tuple[Mapping[str, Any], ...]) -> list[str]:
    """With `--compute-optimizer`: its recommendations beside ours, and its notes."""
    summary = optimizer_summary(workloads)
    if summary is None:
        return []
    entries = [(w, w["compute_optimizer"]) for w in workloads
               if w.get("compute_optimizer", {}).get("status") == "recommendation"]
    lines = [f"\nCOMPUTE OPTIMIZER ({len(entries)}): its recommendations beside ours, as "
             "evidence (its savings are in no total; workloads[].compute_optimizer in the JSON "
             "report explains each difference)"]
    if entries:
        lines.append(tabulate(
            [[w["name"], w["region"], entry["their_recommendation"],
              entry["our_recommendation"]] for w, entry in entries],
            headers=["workload", "region", "Compute Optimizer", "our model"],
            tablefmt="simple", maxcolwidths=[None, None, 55, 55]))
    lines.extend(summary["notes"])
    return lines


def summary_line(report: Report) -> str:
    """One line a scheduler log can grep: counts by severity, unknowns, errors, savings."""
    counts = report.counts_by_severity("fail")
    parts = " ".join(f"{severity}={counts[severity]}" for severity in SEVERITIES)
    unknown = sum(report.counts_by_severity("unknown").values())
    suppressed = sum(1 for f in report.findings if f.suppressed)
    set_aside = "".join(f", {n} {what}" for n, what in
                        ((suppressed, "suppressed"), (len(report.baselined), "baselined")) if n)
    return (
        f"compute-auditor: {sum(counts.values())} findings ({parts}), {unknown} unknown"
        f"{set_aside}, {len(report.errors)} errors, "
        f"savings ${report.total_monthly_savings_usd:,.2f}/month, "
        f"{len(report.accounts)} account(s), {len(report.regions)} region(s), "
        f"{report.stats.api_calls} API calls in {report.stats.duration_s:.1f}s"
    )
