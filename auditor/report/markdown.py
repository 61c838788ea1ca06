"""Markdown for a ticket or a pull-request comment (GitHub-flavoured tables).

Text from the account is neutralised: Markdown and HTML characters are escaped, `@` cannot
mention anyone, newlines cannot break a table row, and ARNs and tags sit in code spans so a
URL in a tag is never turned into a link. Long reports are cut at `MAX_ROWS` findings (a
comment has a size limit); the JSON report has them all.
"""

from __future__ import annotations

import re
from html import escape

from auditor.findings import SEVERITIES, Finding
from auditor.report.document import Report, sorted_findings
from auditor.report.html import money
from auditor.report.table import short_arn, summary_line

MAX_ROWS = 200
_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def md(value: object) -> str:
    """Plain text safe in a Markdown table cell."""
    text = " ".join(str(value).split())
    text = _SPECIAL.sub(r"\\\1", escape(text, quote=False))
    return text.replace("@", "&#64;")


def code(value: object) -> str:
    """A code span (never a link, never formatted); falls back to `md` if it has backticks."""
    text = " ".join(str(value).split())
    if not text:
        return ""
    if "`" in text:
        return md(text)
    return "`" + text.replace("|", "\\|") + "`"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render(report: Report) -> str:
    lines = [*_summary(report), *_findings(report), *_workloads(report), *_errors(report),
             *_billing(report), "", f"<sub>{md(summary_line(report))}</sub>", ""]
    return "\n".join(lines)


def _summary(report: Report) -> list[str]:
    counts = report.counts_by_severity("fail")
    return [
        "## compute-auditor report" + (" (demo account)" if report.demo else ""),
        "",
        f"**{sum(counts.values())} findings** ("
        + " · ".join(f"{s} {counts[s]}" for s in SEVERITIES)
        + f"), {sum(report.counts_by_severity('unknown').values())} unknown, "
        f"{len(report.errors)} errors · savings **{money(report.total_monthly_savings_usd)}"
        f"/month** · spend {money(report.total_current_monthly_usd)}/month · "
        f"accounts {', '.join(code(a) for a in report.accounts) or '—'} · regions "
        f"{', '.join(code(r) for r in report.regions) or '—'} · generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC",
        "",
    ]


def _finding_row(report: Report, f: Finding) -> str:
    tags = report.resource_tags.get(f.resource_arn, {})
    resource = code(short_arn(f.resource_arn)) + "".join(
        f"<br>{code(f'{k}={v}')}" for k, v in sorted(tags.items()))
    note = f" _{md(f.suppression_reason)}_" if f.suppression_reason else ""
    return _row([
        f"**{f.severity.value}**", f.status, code(f.check_id), resource, md(f.region),
        money(f.monthly_savings_usd) if f.monthly_savings_usd is not None else "",
        md(f.message) + note,
    ])


def _findings(report: Report) -> list[str]:
    """The reported findings, at most `MAX_ROWS`, and how many were set aside."""
    findings = sorted_findings(report.active_findings)
    lines: list[str] = []
    if findings:
        lines += [_row(["Severity", "Status", "Check", "Resource", "Region", "Saving/mo",
                        "Finding"]),
                  "|---|---|---|---|---|---:|---|"]
        lines += [_finding_row(report, f) for f in findings[:MAX_ROWS]]
        if len(findings) > MAX_ROWS:
            lines.append(f"\n… and {len(findings) - MAX_ROWS} more findings; see the JSON "
                         "report.")
    else:
        lines.append("No findings: every selected check passed or was suppressed.")
    set_aside = len(report.findings) - len(findings)
    if set_aside:
        suppressed = sum(1 for f in report.findings if f.suppressed)
        lines += ["", f"{suppressed} suppressed and {set_aside - suppressed} baselined "
                  "findings are not listed."]
    return lines


def _workloads(report: Report) -> list[str]:
    if not report.workloads:
        return []
    return [
        "", f"<details><summary>Workloads ({len(report.workloads)})</summary>", "",
        _row(["Workload", "Platform", "Now/mo", "Cheapest", "Saving/mo", "Confidence"]),
        "|---|---|---:|---|---:|---|",
        *(_row([code(w.name), md(w.platform), money(w.current_monthly_usd),
                md(w.recommended_platform or "—"), money(w.monthly_savings_usd),
                md(w.confidence.value)]) for w in report.workloads),
        "", "</details>",
    ]


def _errors(report: Report) -> list[str]:
    if not report.errors:
        return []
    return [
        "", f"### What could not be checked ({len(report.errors)})", "",
        _row(["Scope", "Call", "Code", "Checks left unknown"]), "|---|---|---|---|",
        *(_row([code(f"{x.account}/{x.region}"), code(f"{x.service}:{x.operation}"),
                md(x.code), ", ".join(code(c) for c in x.checks_affected) or "—"])
          for x in report.errors),
    ]


def _billing(report: Report) -> list[str]:
    bill = report.billing
    if bill is None:
        return []
    lines = ["", "### The model against the bill", "", f"Billed {md(bill.heading())}.", ""]
    lines += [f"- {md(sentence)}." for sentence in bill.sentences()]
    discounts = bill.discounts()
    lines += [f"- {md(discounts)}"] if discounts else []
    if bill.notes:
        lines += ["", "What the model cannot see:", ""]
        lines += [f"- {md(note)}" for note in bill.notes]
    return lines
