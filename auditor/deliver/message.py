"""The message every target renders, built once from the report and the baseline: counts by
severity, what is new and what was resolved (top 10 by saving), spend and savings and their
change, and where the HTML report is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.baseline import diff
from auditor.findings import SEVERITIES, Finding, Severity
from auditor.report.document import Report
from auditor.report.output import parse_s3
from auditor.report.table import short_arn

TOP = 10
PRESIGN_MAX = timedelta(days=7)
"""The longest a SigV4 presigned URL can live."""


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime | None = None
    """When a presigned URL stops working; None for a configured `report_url`."""

    def describe(self) -> str:
        if self.expires_at is None:
            return self.url
        return f"{self.url} (link expires {when(self.expires_at)})"


def presigned_link(client: Any, s3_url: str, expires_in: timedelta, now: datetime) -> Link:
    """A GET link to an uploaded report, signed locally (no call is made) with `client`'s
    credentials; it expires after `expires_in` (at most 7 days), or sooner when those
    credentials are temporary and expire first."""
    seconds = int(min(expires_in, PRESIGN_MAX).total_seconds())
    bucket, key = parse_s3(s3_url)
    url: str = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)
    return Link(url, now + timedelta(seconds=seconds))


def report_link(written: Sequence[str], report_url: str | None, s3_client: Any,
                expires_in: timedelta, now: datetime) -> Link | None:
    """The link a message gives: the configured `report_url`, else a presigned URL to the
    HTML report when it was uploaded (`written`: where each format went), else none."""
    if report_url:
        return Link(report_url)
    uploaded = [w for w in written if w.startswith("s3://") and w.endswith(".html")]
    return presigned_link(s3_client, uploaded[0], expires_in, now) if uploaded else None


@dataclass(frozen=True)
class Item:
    """One finding as a message names it."""

    fingerprint: str
    check_id: str
    title: str
    severity: Severity
    resource_arn: str
    account: str
    region: str
    saving: float | None

    @classmethod
    def of(cls, finding: Finding) -> Item:
        return cls(finding.fingerprint, finding.check_id, finding.title, finding.severity,
                   finding.resource_arn, finding.account, finding.region,
                   finding.monthly_savings_usd)

    @property
    def resource(self) -> str:
        return short_arn(self.resource_arn)

    def line(self) -> str:
        saving = f" · ${self.saving:,.2f}/month" if self.saving else ""
        return f"{self.severity.value} {self.check_id} {self.resource}{saving}"


@dataclass(frozen=True)
class Message:
    generated_at: datetime
    accounts: tuple[str, ...]
    counts: Mapping[str, int]
    """Failed findings reported (neither suppressed nor baselined), by severity."""
    new: tuple[Item, ...]
    """Every new failed finding, the largest saving first."""
    resolved: tuple[Item, ...]
    spend_usd: float
    savings_usd: float
    spend_change_usd: float | None
    savings_change_usd: float | None
    baseline_at: datetime | None
    """When the baseline was generated; None without one (then every finding is new)."""
    link: Link | None = None
    demo: bool = False

    @property
    def top_new(self) -> tuple[Item, ...]:
        return self.new[:TOP]

    @property
    def top_resolved(self) -> tuple[Item, ...]:
        return self.resolved[:TOP]

    def at_or_above(self, severity: Severity | None) -> Message:
        """Only what is at or above `severity` (a target's `min_severity`)."""
        if severity is None:
            return self

        def keep(item: Item) -> bool:
            return item.severity.rank >= severity.rank

        return replace(self, counts={s: n for s, n in self.counts.items()
                                     if Severity(s).rank >= severity.rank},
                       new=tuple(filter(keep, self.new)),
                       resolved=tuple(filter(keep, self.resolved)))

    @property
    def headline(self) -> str:
        since = (f" since {when(self.baseline_at)}" if self.baseline_at
                 else " (no baseline: every finding is new)")
        demo = " [demo account]" if self.demo else ""
        return (f"compute-auditor{demo}: {len(self.new)} new, {len(self.resolved)} resolved"
                f"{since}")

    @property
    def counts_line(self) -> str:
        counts = ", ".join(f"{s} {n}" for s, n in self.counts.items())
        return f"{sum(self.counts.values())} findings ({counts})"

    @property
    def money_line(self) -> str:
        return (f"spend ${self.spend_usd:,.2f}/month{_change(self.spend_change_usd)} · "
                f"savings ${self.savings_usd:,.2f}/month{_change(self.savings_change_usd)}")

    def text(self) -> str:
        """The plain-text form: Slack's fallback, the SNS message and the email body."""
        lines = [self.headline, f"Accounts: {', '.join(self.accounts) or '—'} · "
                 f"generated {when(self.generated_at)}", self.counts_line,
                 self.money_line.capitalize()]
        for title, items, total in (("New", self.top_new, len(self.new)),
                                    ("Resolved", self.top_resolved, len(self.resolved))):
            if items:
                lines += ["", f"{title} ({_of(len(items), total)}):"]
                lines += [f"- {item.line()}" for item in items]
        if self.link:
            lines += ["", f"Report: {self.link.describe()}"]
        return "\n".join(lines) + "\n"


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _change(value: float | None) -> str:
    return "" if value is None else f" ({value:+,.2f})"


def _of(shown: int, total: int) -> str:
    return str(total) if shown == total else f"top {shown} of {total} by saving"


def _order(item: Item) -> tuple[float, int, str, str]:
    return (-(item.saving or 0.0), -item.severity.rank, item.check_id, item.resource_arn)


def _reported(findings: Iterable[Finding]) -> tuple[Item, ...]:
    """Failed findings that are not suppressed: an `unknown` is neither new nor resolved."""
    return tuple(sorted((Item.of(f) for f in findings
                         if f.status == "fail" and not f.suppressed), key=_order))


def build_message(report: Report, baseline: Report | None = None,
                  link: Link | None = None) -> Message:
    """New and resolved are by fingerprint against `baseline`; without one, every reported
    finding is new and nothing is resolved."""
    counts = report.counts_by_severity("fail")
    common: dict[str, Any] = {
        "generated_at": report.generated_at, "accounts": report.accounts,
        "counts": {s: counts[s] for s in SEVERITIES},
        "spend_usd": report.total_current_monthly_usd,
        "savings_usd": report.total_monthly_savings_usd, "link": link, "demo": report.demo}
    if baseline is None:
        return Message(new=_reported(report.active_findings), resolved=(),
                       spend_change_usd=None, savings_change_usd=None, baseline_at=None,
                       **common)
    change = diff(baseline, report)
    return Message(new=_reported(change.new), resolved=_reported(change.resolved),
                   spend_change_usd=change.current_monthly_usd_change,
                   savings_change_usd=change.monthly_savings_usd_change,
                   baseline_at=baseline.generated_at, **common)

