"""Comparing reports by finding fingerprint: `--baseline` on a scan and `auditor diff`.

A fingerprint is stable across runs (check ID + resource ARN + sub-key), so the same problem
on the same resource matches whatever its message or numbers say tonight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from auditor.findings import Finding
from auditor.report.document import Report, finding_dict, sorted_findings


def apply_baseline(report: Report, baseline: Report) -> Report:
    """Mark the findings the baseline already had; they stay in the report, not reported.

    Suppression comes first: a finding suppressed tonight is suppressed, not baselined, and
    one the baseline held only as suppressed is not known, so when its suppression expires
    (or its `auditor:ignore` tag goes) it reports again, baseline or not."""
    known = {f.fingerprint for f in baseline.findings if not f.suppressed}
    return replace(report, baselined=frozenset(
        f.fingerprint for f in report.findings
        if f.fingerprint in known and not f.suppressed))


@dataclass(frozen=True)
class Diff:
    """What changed from OLD to NEW: findings by fingerprint, spend and savings by total."""

    new: tuple[Finding, ...]
    resolved: tuple[Finding, ...]
    unchanged: int
    current_monthly_usd_change: float
    monthly_savings_usd_change: float
    old: Report
    current: Report

    def to_dict(self) -> dict[str, Any]:
        return {
            "new": _dicts(self.new, self.current),
            "resolved": _dicts(self.resolved, self.old),
            "unchanged": self.unchanged,
            "current_monthly_usd_change": self.current_monthly_usd_change,
            "monthly_savings_usd_change": self.monthly_savings_usd_change,
        }


def _dicts(findings: Iterable[Finding], report: Report) -> list[dict[str, Any]]:
    return [finding_dict(f, report.resource_tags.get(f.resource_arn),
                         f.fingerprint in report.baselined) for f in findings]


def diff(old: Report, new: Report) -> Diff:
    before = {f.fingerprint: f for f in old.findings}
    after = {f.fingerprint: f for f in new.findings}
    return Diff(
        new=tuple(sorted_findings([f for key, f in after.items() if key not in before])),
        resolved=tuple(sorted_findings([f for key, f in before.items() if key not in after])),
        unchanged=len(after.keys() & before.keys()),
        current_monthly_usd_change=round(
            float(new.total_current_monthly_usd - old.total_current_monthly_usd), 2),
        monthly_savings_usd_change=round(
            float(new.total_monthly_savings_usd - old.total_monthly_savings_usd), 2),
        old=old,
        current=new,
    )
