"""Join shard or per-account reports into one report of the same schema.

Account-wide findings (IAM roles) come from every shard that scanned a region of that
account, so findings are deduplicated by fingerprint; where shards disagree, a `fail` seen by
one outweighs an `unknown` from another. Totals are recomputed from the joined findings and
workloads, so nothing is counted twice. Billing sections join by account, region and platform,
their discounts recomputed (`auditor.cost.bill.combine`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from auditor.cost.bill import combine
from auditor.errors import ReportError
from auditor.findings import Finding
from auditor.report.document import Report, Stats


def _prefer(kept: Finding, other: Finding) -> Finding:
    return other if kept.status == "unknown" and other.status == "fail" else kept


def _unique(items: Iterable[Any], key: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def merge(reports: Sequence[Report]) -> Report:
    _require_one_scan(reports)
    first = reports[0]
    return Report(
        generated_at=max(r.generated_at for r in reports),
        accounts=_sorted_union(r.accounts for r in reports),
        regions=_sorted_union(r.regions for r in reports),
        lookback_days=first.lookback_days,
        findings=_joined_findings(reports),
        errors=tuple(_unique((e for r in reports for e in r.errors), lambda e: e.key)),
        stats=_joined_stats(reports),
        checks_run=_sorted_union(r.checks_run for r in reports),
        pricing=first.pricing,
        workloads=tuple(_unique((w for r in reports for w in r.workloads),
                                lambda w: w.arn)),
        demo=any(r.demo for r in reports),
        tool_version=first.tool_version,
        resource_tags=_joined_tags(reports),
        baselined=frozenset().union(*(r.baselined for r in reports)),
        billing=combine([r.billing for r in reports]),
    )


def _require_one_scan(reports: Sequence[Report]) -> None:
    """Refuses reports that are not shards of one scan: none at all, or ones that looked back
    over different windows or were priced with different price books."""
    if not reports:
        raise ReportError("nothing to merge: give at least one JSON report")
    lookbacks = {r.lookback_days for r in reports}
    if len(lookbacks) > 1:
        raise ReportError(f"the reports were scanned with different lookbacks {sorted(lookbacks)}"
                          "; merge reports of one scan")
    prices = {tuple(sorted(r.pricing.items())) for r in reports}
    if len(prices) > 1:
        raise ReportError("the reports were priced with different price books; merge reports "
                          "of one scan (or refresh prices before scanning every shard)")


def _sorted_union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(sorted({item for group in groups for item in group}))


def _joined_findings(reports: Sequence[Report]) -> tuple[Finding, ...]:
    """Each finding once by fingerprint, a `fail` preferred to an `unknown`."""
    findings: dict[str, Finding] = {}
    for report in reports:
        for finding in report.findings:
            kept = findings.get(finding.fingerprint)
            findings[finding.fingerprint] = finding if kept is None else _prefer(kept, finding)
    return tuple(findings.values())


def _joined_stats(reports: Sequence[Report]) -> Stats:
    by_operation: Counter[str] = Counter()
    for report in reports:
        by_operation.update(report.stats.api_calls_by_operation)
    return Stats(
        api_calls=sum(r.stats.api_calls for r in reports),
        api_calls_by_operation=dict(sorted(by_operation.items())),
        # Shards run side by side: the scan took as long as its slowest shard.
        duration_s=max(r.stats.duration_s for r in reports),
        resources=sum(r.stats.resources for r in reports),
        metric_queries=sum(r.stats.metric_queries for r in reports),
    )


def _joined_tags(reports: Sequence[Report]) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for report in reports:
        tags.update(report.resource_tags)
    return tags
