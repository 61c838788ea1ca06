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
from auditor.report.document import ErrorEntry, Report, Stats


def _prefer(kept: Finding, other: Finding) -> Finding:
    return other if kept.status == "unknown" and other.status == "fail" else kept


def _unique(items: Iterable[Any], key: Any) -> list[Any]:
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


def merge(reports: Sequence[Report]) -> Report:
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
    findings: dict[str, Finding] = {}
    for report in reports:
        for finding in report.findings:
            kept = findings.get(finding.fingerprint)
            findings[finding.fingerprint] = finding if kept is None else _prefer(kept, finding)
    by_operation: Counter[str] = Counter()
    for report in reports:
        by_operation.update(report.stats.api_calls_by_operation)
    tags: dict[str, Any] = {}
    for report in reports:
        tags.update(report.resource_tags)
    first = reports[0]
    return Report(
        generated_at=max(r.generated_at for r in reports),
        accounts=tuple(sorted({a for r in reports for a in r.accounts})),
        regions=tuple(sorted({g for r in reports for g in r.regions})),
        lookback_days=first.lookback_days,
        findings=tuple(findings.values()),
        errors=tuple(_unique((e for r in reports for e in r.errors), _error_key)),
        stats=Stats(
            api_calls=sum(r.stats.api_calls for r in reports),
            api_calls_by_operation=dict(sorted(by_operation.items())),
            # Shards run side by side: the scan took as long as its slowest shard.
            duration_s=max(r.stats.duration_s for r in reports),
            resources=sum(r.stats.resources for r in reports),
            metric_queries=sum(r.stats.metric_queries for r in reports),
        ),
        checks_run=tuple(sorted({c for r in reports for c in r.checks_run})),
        pricing=first.pricing,
        workloads=tuple(_unique((w for r in reports for w in r.workloads),
                                lambda w: w.get("arn"))),
        demo=any(r.demo for r in reports),
        tool_version=first.tool_version,
        resource_tags=tags,
        baselined=frozenset().union(*(r.baselined for r in reports)),
        billing=combine([r.billing for r in reports]),
    )


def _error_key(error: ErrorEntry) -> tuple[str, ...]:
    return (error.account, error.region, error.service, error.operation, error.code,
            error.message, *error.resources)
