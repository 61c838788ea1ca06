"""The report object every output format renders, and its JSON form (schema_version 1)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from auditor import __version__
from auditor.cost.bill import Billing
from auditor.cost.optimizer import optimizer_summary
from auditor.cost.priced import PricedWorkload
from auditor.cost.totals import cost_totals
from auditor.findings import SEVERITIES, Finding, Severity

if TYPE_CHECKING:
    from auditor.report.trend import Point

SCHEMA_VERSION = 1

EXIT_DONE = 0
EXIT_FINDINGS = 1
EXIT_UNCHECKED = 4
"""Exit codes of `auditor scan` that come from the report (2 and 3 are errors before it)."""


@dataclass(frozen=True)
class ErrorEntry:
    account: str
    region: str
    service: str
    operation: str
    code: str
    message: str
    checks_affected: tuple[str, ...]
    resources: tuple[str, ...] = ()
    """The resources the failure leaves unknown; empty when it is the whole dataset's."""

    @property
    def key(self) -> tuple[str, ...]:
        """What tells two entries apart, and the order a report lists them in."""
        return (self.account, self.region, self.service, self.operation, self.code,
                self.message, *self.resources)


DeliveryStatus = Literal["sent", "skipped", "failed"]


@dataclass(frozen=True)
class Delivery:
    """What became of one delivery (`auditor.deliver`), kept in the JSON report's `delivery`."""

    target: str
    """Masked (`auditor.deliver.targets.Target.masked`): safe to print, log and keep."""
    status: DeliveryStatus
    reason: str = ""
    attempts: int = 0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """The one stderr line a failed delivery is."""
        return f"delivery to {self.target} failed after {self.attempts} attempt(s): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "status": self.status, "reason": self.reason,
                "attempts": self.attempts}


@dataclass(frozen=True)
class Stats:
    api_calls: int
    api_calls_by_operation: Mapping[str, int]
    duration_s: float
    resources: int
    metric_queries: int


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    lookback_days: int
    findings: tuple[Finding, ...]
    errors: tuple[ErrorEntry, ...]
    stats: Stats
    checks_run: tuple[str, ...]
    pricing: Mapping[str, str]
    workloads: tuple[PricedWorkload, ...] = ()
    demo: bool = False
    shard: str | None = None
    """`I/N` when this report covers one shard of a larger scan (see `auditor merge`)."""
    tool_version: str = field(default=__version__)
    resource_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Tags of the resources the findings name, by ARN (for suppressions and the reports)."""
    baselined: frozenset[str] = frozenset()
    """Fingerprints of findings already in the `--baseline` report: kept, not reported."""
    billing: Billing | None = None
    """The model set against the bill, with `--bill`."""
    delivery: tuple[Delivery, ...] = ()
    """What became of each `--notify` target and `--security-hub`, sent after the report was
    first written (the JSON is then written again with them)."""
    history: tuple[Point, ...] = ()
    """`--history`: the trend over earlier reports and this one, shown in the HTML only."""

    def __post_init__(self) -> None:
        # Calls fail in whatever order the workers finish them: listed by what they are, two
        # scans of one account list their errors alike, and so do their diffs.
        object.__setattr__(self, "errors", tuple(sorted(self.errors, key=lambda e: e.key)))

    @property
    def active_findings(self) -> list[Finding]:
        """What is reported: neither suppressed nor already in the baseline."""
        return [f for f in self.findings
                if not f.suppressed and f.fingerprint not in self.baselined]

    def counts_by_severity(self, status: str = "fail") -> dict[str, int]:
        counts = Counter(f.severity.value for f in self.active_findings if f.status == status)
        return {severity: counts.get(severity, 0) for severity in SEVERITIES}

    def worst_at_or_above(self, threshold: Severity, status: str = "fail") -> list[Finding]:
        return [f for f in self.active_findings
                if f.status == status and f.severity.rank >= threshold.rank]

    def exit_code(self, fail_on: Severity | None, allow_unknown: bool = False) -> int:
        """What the run tells a scheduler: 1 when a finding at or above `fail_on` failed; 4
        when none failed but some could not be checked (`unknown`) at or above it, unless
        `allow_unknown`: a scan that lost access must not read as a clean pass; else 0."""
        if fail_on is None:
            return EXIT_DONE
        if self.worst_at_or_above(fail_on):
            return EXIT_FINDINGS
        if not allow_unknown and self.worst_at_or_above(fail_on, "unknown"):
            return EXIT_UNCHECKED
        return EXIT_DONE

    @property
    def savings_by_kind(self) -> dict[str, float]:
        """What the findings claim, by what the saving comes from. The cost model composes
        each workload's savings, so the kinds add up without counting a dollar twice.
        Baselined findings still cost money: only suppression takes a saving out."""
        by_kind: dict[str, float] = {}
        for f in self.findings:
            if f.status == "fail" and not f.suppressed and f.monthly_savings_usd:
                kind = f.savings_kind or "other"
                by_kind[kind] = by_kind.get(kind, 0.0) + f.monthly_savings_usd
        return {kind: round(usd, 2) for kind, usd in sorted(by_kind.items())}

    @property
    def total_monthly_savings_usd(self) -> float:
        """The report's one savings total: the sum of `savings_by_kind`."""
        return round(sum(self.savings_by_kind.values()), 2)

    @property
    def total_current_monthly_usd(self) -> float:
        return round(sum(w.current_monthly_usd for w in self.workloads), 2)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finding_dict(finding: Finding, tags: Mapping[str, str] | None = None,
                 baselined: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fingerprint": finding.fingerprint,
        "check_id": finding.check_id,
        "title": finding.title,
        "severity": finding.severity.value,
        "category": finding.category.value,
        "status": finding.status,
        "resource_arn": finding.resource_arn,
        "resource_type": finding.resource_type,
        "account": finding.account,
        "region": finding.region,
        "message": finding.message,
        "evidence": _plain(finding.evidence),
        "remediation": finding.remediation,
        "monthly_savings_usd": finding.monthly_savings_usd,
        "suppressed": finding.suppressed,
    }
    if finding.savings_kind:
        out["savings_kind"] = finding.savings_kind
    if finding.suppression_reason:
        out["suppression_reason"] = finding.suppression_reason
    if baselined:
        out["baselined"] = True
    if finding.sub_key:
        out["sub_key"] = finding.sub_key
    if tags:
        out["resource_tags"] = dict(sorted(tags.items()))
    return out


def _plain(value: Any) -> Any:
    """Evidence as JSON-ready data (tuples become lists, datetimes ISO strings)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime):
        return iso(value)
    return value


def to_dict(report: Report) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, Iterator) else value
            for key, value in sections(report).items()}


def sections(report: Report) -> dict[str, Any]:
    """The JSON form's top-level keys in order, with `findings` and `workloads` as iterators
    that make each entry when asked: a writer can then hold one entry at a time (the whole
    document of 55,000 workloads would be hundreds of MB of dicts)."""
    findings = sorted(report.findings, key=_finding_order)
    optimizer = optimizer_summary(report.workloads)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "compute-auditor", "version": report.tool_version},
        "generated_at": iso(report.generated_at),
        "scope": {"accounts": list(report.accounts), "regions": list(report.regions),
                  "lookback_days": report.lookback_days, "demo": report.demo,
                  **({"shard": report.shard} if report.shard else {})},
        "summary": {
            "findings_by_severity": report.counts_by_severity("fail"),
            "unknown_by_severity": report.counts_by_severity("unknown"),
            "workloads": len(report.workloads),
            "total_current_monthly_usd": report.total_current_monthly_usd,
            "total_monthly_savings_usd": report.total_monthly_savings_usd,
            "savings_by_kind": report.savings_by_kind,
            "checks_run": list(report.checks_run),
            "errors": len(report.errors),
            "suppressed": sum(1 for f in report.findings if f.suppressed),
            "baselined": len(report.baselined),
            "costs": cost_totals(report.workloads),
            **({"compute_optimizer": optimizer} if optimizer else {}),
        },
        "findings": (finding_dict(f, report.resource_tags.get(f.resource_arn),
                                  f.fingerprint in report.baselined) for f in findings),
        "workloads": (w.to_dict() for w in report.workloads),
        "errors": [
            {"account": e.account, "region": e.region, "service": e.service,
             "operation": e.operation, "code": e.code, "message": e.message,
             "checks_affected": list(e.checks_affected),
             **({"resources": list(e.resources)} if e.resources else {})}
            for e in report.errors
        ],
        "pricing": dict(report.pricing),
        "stats": {
            "api_calls": report.stats.api_calls,
            "api_calls_by_operation": dict(report.stats.api_calls_by_operation),
            "duration_s": round(report.stats.duration_s, 3),
            "resources": report.stats.resources,
            "metric_queries": report.stats.metric_queries,
        },
        **({"billing": report.billing.to_dict()} if report.billing else {}),
        **({"delivery": [d.to_dict() for d in report.delivery]} if report.delivery else {}),
    }


def _finding_order(finding: Finding) -> tuple[int, str, str, str, str]:
    return (-finding.severity.rank, finding.status, finding.check_id, finding.resource_arn,
            finding.sub_key)


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=_finding_order)
