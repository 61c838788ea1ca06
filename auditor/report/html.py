"""One self-contained HTML page: summary, inline SVG charts, sortable/filterable findings,
workloads with each option's cost breakdown, and what could not be checked.

Self-contained means no request leaves the page: CSS, SVG and script are inline, and a
Content-Security-Policy allows nothing else (`default-src 'none'`, the one style and the one
script by hash). Everything from the account (names, ARNs, tags, messages, evidence) is
escaped; the CSP is the second wall should an escape ever be missed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from auditor.cost.bill import PLATFORMS as PLATFORM_NAMES
from auditor.cost.model import Family, Option
from auditor.cost.priced import KIND_FAMILIES, PricedWorkload
from auditor.findings import SEVERITIES, Finding
from auditor.report.document import Report, iso, sorted_findings
from auditor.report.table import short_arn

SEVERITY_COLOURS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#d97706",
                    "low": "#2563eb", "info": "#6b7280"}
PLATFORMS = (*Family, "other")
PLATFORM_LABELS = {Family.LAMBDA: "Lambda", Family.ECS: "ECS", Family.EKS: "EKS", "other": "Other"}
SPEND_COLOUR = "#475569"
SAVINGS_COLOUR = "#16a34a"

CSS = """
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#0f172a;background:#f1f5f9}
header{background:#0f172a;color:#f8fafc;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#cbd5e1}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;background:#f59e0b;color:#111;
 font-size:12px;margin-left:8px;vertical-align:middle}
main{max-width:1320px;margin:0 auto;padding:20px 32px 40px}
section{background:#fff;border-radius:10px;padding:16px 20px;margin:0 0 18px;
 box-shadow:0 1px 2px rgba(15,23,42,.08)}
h2{font-size:17px;margin:0 0 12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(132px,1fr));gap:10px}
.card{border-radius:8px;padding:10px 12px;background:#f8fafc;border-left:5px solid #94a3b8}
.card .n{font-size:22px;font-weight:650;white-space:nowrap}
.card .l{color:#475569;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.sev-critical{border-color:#7f1d1d}.sev-high{border-color:#dc2626}
.sev-medium{border-color:#d97706}.sev-low{border-color:#2563eb}.sev-info{border-color:#6b7280}
.card.money{border-color:#16a34a}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:18px}
.charts figure{margin:0}
.charts figcaption{font-weight:600;margin-bottom:6px}
svg text{font:12px system-ui,"DejaVu Sans",sans-serif;fill:#0f172a}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top}
th{background:#f8fafc;font-weight:600;white-space:nowrap}
th[data-sort]{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}
td.num,th.num{text-align:right;white-space:nowrap}
.pill{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px;
 font-weight:600}
.pill.critical{background:#7f1d1d}.pill.high{background:#dc2626}.pill.medium{background:#d97706}
.pill.low{background:#2563eb}.pill.info{background:#6b7280}
.status-unknown{color:#7c3aed;font-weight:600}
.arn{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;
 overflow-wrap:anywhere}
td.res{min-width:190px;max-width:300px}
td.nowrap{white-space:nowrap}
.tag{display:inline-block;background:#e2e8f0;border-radius:4px;padding:0 5px;margin:1px 2px;
 font-size:12px;font-family:ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
table.options{margin:2px 0 4px;font-size:12px}
table.options th,table.options td{padding:2px 6px}
table.options td:first-child{white-space:nowrap}
#workloads>tbody>tr>td:first-child{overflow-wrap:anywhere;min-width:90px}
#workloads>tbody>tr>td:last-child{min-width:360px}
table.options tr.current td{background:#f1f5f9}
details summary{cursor:pointer;color:#1d4ed8}
pre{background:#0f172a;color:#e2e8f0;padding:8px;border-radius:6px;overflow:auto;
 max-height:260px;font-size:12px;white-space:pre-wrap;word-break:break-word}
.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-bottom:10px}
.filters input,.filters select{font:inherit;padding:4px 6px;border:1px solid #cbd5e1;
 border-radius:6px}
.filters input{min-width:260px}
#shown{color:#475569;margin-left:auto}
.muted{color:#64748b}
.note{color:#92400e}
footer{color:#64748b;font-size:12px;text-align:center;padding:0 0 24px}
@media print{.filters{display:none}body{background:#fff}section{box-shadow:none}}
"""

SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("findings");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("filter-text");
  var severity = document.getElementById("filter-severity");
  var status = document.getElementById("filter-status");
  var category = document.getElementById("filter-category");
  var shown = document.getElementById("shown");

  function apply() {
    var needle = text.value.trim().toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var ok = (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0) &&
        (!severity.value || row.dataset.severity === severity.value) &&
        (!status.value || row.dataset.status === status.value) &&
        (!category.value || row.dataset.category === category.value);
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " findings shown";
    shown.dataset.shown = String(count);
  }

  function sortBy(header) {
    var key = header.dataset.sort;
    var numeric = header.dataset.type === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.dataset[key] || "";
      var y = b.dataset[key] || "";
      var order = numeric ? (parseFloat(x || "0") - parseFloat(y || "0")) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  [text, severity, status, category].forEach(function (control) {
    control.addEventListener("input", apply);
  });
  Array.prototype.forEach.call(table.querySelectorAll("th[data-sort]"), function (header) {
    header.addEventListener("click", function () { sortBy(header); });
  });
  apply();
})();
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


CSP = (f"default-src 'none'; style-src {_hash(CSS)}; script-src {_hash(SCRIPT)}; "
       "img-src data:; base-uri 'none'; form-action 'none'")


def e(value: object) -> str:
    """Escape for HTML text and attribute values (quotes included)."""
    return escape(str(value), quote=True)


def money(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"${value:,.2f}"


# --------------------------------------------------------------------------- charts


def _bar_chart(label: str, rows: Sequence[tuple[str, Sequence[tuple[str, float, str, str]]]],
               empty: str) -> str:
    """Horizontal bars: per row a label and one or more (series, value, colour, text) bars."""
    bars = [bar for _, group in rows for bar in group]
    if not bars or not any(value > 0 for _, value, _, _ in bars):
        return (f'<svg class="chart" role="img" aria-label="{e(label)}" width="100%" '
                f'height="60" viewBox="0 0 560 60"><text x="10" y="34" class="muted">'
                f"{e(empty)}</text></svg>")
    top = max(value for _, value, _, _ in bars) or 1.0
    bar_height, gap, left, width = 18, 10, 90, 380
    y = 8
    parts: list[str] = []
    for row_label, group in rows:
        group_top = y
        for series, value, colour, text in group:
            length = 0.0 if value <= 0 else max(2.0, width * value / top)
            parts.append(
                f'<rect class="bar" data-series="{e(series)}" data-label="{e(row_label)}" '
                f'data-value="{value:g}" x="{left}" y="{y}" width="{length:.1f}" '
                f'height="{bar_height}" rx="3" fill="{colour}"><title>{e(row_label)} '
                f"{e(series)}: {e(text)}</title></rect>"
                f'<text x="{left + length + 6:.1f}" y="{y + 13}">{e(text)}</text>')
            y += bar_height + 2
        middle = (group_top + y) / 2 + 4
        parts.append(f'<text x="{left - 8}" y="{middle:.1f}" text-anchor="end">'
                     f"{e(row_label)}</text>")
        y += gap
    return (f'<svg class="chart" role="img" aria-label="{e(label)}" width="100%" '
            f'height="{y}" viewBox="0 0 560 {y}" preserveAspectRatio="xMinYMin meet">'
            + "".join(parts) + "</svg>")


def severity_chart(report: Report) -> str:
    counts = report.counts_by_severity("fail")
    rows = [(severity.capitalize(), [("findings", float(counts[severity]),
                                      SEVERITY_COLOURS[severity], str(counts[severity]))])
            for severity in SEVERITIES]
    return _bar_chart("Findings by severity", rows, "No findings.")


def spend_by_platform(report: Report) -> dict[str, tuple[float, float]]:
    """(current monthly spend from the workloads, savings from the findings) by platform
    family. A finding's family is its workload's, else its resource kind's, else `other`."""
    spend: dict[str, float] = defaultdict(float)
    savings: dict[str, float] = defaultdict(float)
    families = {workload.arn: workload.family for workload in report.workloads}
    for workload in report.workloads:
        spend[workload.family] += workload.current_monthly_usd
    for finding in report.findings:
        if finding.status == "fail" and not finding.suppressed and finding.monthly_savings_usd:
            family = (families.get(finding.resource_arn)
                      or KIND_FAMILIES.get(finding.resource_type) or "other")
            savings[family] += finding.monthly_savings_usd
    return {p: (round(spend[p], 2), round(savings[p], 2)) for p in PLATFORMS
            if spend[p] or savings[p]}


def cost_chart(report: Report) -> str:
    rows = [(PLATFORM_LABELS[platform],
             [("spend", spend, SPEND_COLOUR, f"{money(spend)} spend"),
              ("savings", saved, SAVINGS_COLOUR, f"{money(saved)} savings")])
            for platform, (spend, saved) in spend_by_platform(report).items()]
    return _bar_chart("Monthly spend and savings by platform", rows,
                      "No spend or savings estimated.")


def _legend() -> str:
    return (f'<svg width="260" height="18" role="img" aria-label="legend">'
            f'<rect x="0" y="4" width="12" height="12" fill="{SPEND_COLOUR}"/>'
            f'<text x="18" y="14">current monthly spend</text>'
            f'<rect x="160" y="4" width="12" height="12" fill="{SAVINGS_COLOUR}"/>'
            f'<text x="178" y="14">savings</text></svg>')


# --------------------------------------------------------------------------- sections


def _tags(tags: Mapping[str, str]) -> str:
    return "".join(f'<span class="tag">{e(k)}={e(v)}</span>' for k, v in sorted(tags.items()))


def _evidence(value: Any) -> str:
    return e(json.dumps(value, indent=2, sort_keys=True, default=str))


def _finding_row(finding: Finding, report: Report) -> str:
    tags = report.resource_tags.get(finding.resource_arn, {})
    saving = finding.monthly_savings_usd
    note = (f'<p class="note">{e(finding.suppression_reason)}</p>'
            if finding.suppression_reason else "")
    return (
        f'<tr class="finding" data-fingerprint="{e(finding.fingerprint)}" '
        f'data-severity="{e(finding.severity.value)}" data-rank="{finding.severity.rank}" '
        f'data-status="{e(finding.status)}" data-category="{e(finding.category.value)}" '
        f'data-check="{e(finding.check_id)}" data-resource="{e(short_arn(finding.resource_arn))}" '
        f'data-region="{e(finding.region)}" data-saving="{saving or 0:g}">'
        f'<td><span class="pill {e(finding.severity.value)}">{e(finding.severity.value)}</span>'
        f"</td>"
        f'<td class="status-{e(finding.status)}">{e(finding.status)}</td>'
        f"<td>{e(finding.check_id)}</td>"
        f'<td class="res"><span class="arn" title="{e(finding.resource_arn)}">'
        f"{e(short_arn(finding.resource_arn))}</span><br>{_tags(tags)}</td>"
        f'<td class="nowrap">{e(finding.region)}</td>'
        f'<td class="num">{money(saving) if saving is not None else ""}</td>'
        f"<td>{e(finding.message)}{note}<details><summary>evidence and fix</summary>"
        f"<p><b>Fix:</b> {e(finding.remediation)}</p>"
        f'<p class="arn">{e(finding.resource_arn)} · account {e(finding.account)} · '
        f"fingerprint {e(finding.fingerprint)}</p>"
        f"<pre>{_evidence(finding.evidence)}</pre></details></td></tr>"
    )


def _options(values: Iterable[str], label: str) -> str:
    return (f'<option value="">{e(label)}</option>'
            + "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values))


def findings_section(report: Report) -> str:
    findings = sorted_findings(report.active_findings)
    categories = sorted({f.category.value for f in findings})
    headers = [("severity", "Severity", "rank", "number"), ("status", "Status", "status", ""),
               ("check", "Check", "check", ""), ("resource", "Resource", "resource", ""),
               ("region", "Region", "region", ""), ("saving", "Saving/mo", "saving", "number"),
               ("finding", "Finding", "", "")]
    head = "".join(
        f'<th{" class=num" if key == "saving" else ""}'
        + (f' data-sort="{sort}"' if sort else "")
        + (f' data-type="{kind}"' if kind else "") + f">{e(title)}</th>"
        for key, title, sort, kind in headers)
    rows = "".join(_finding_row(f, report) for f in findings)
    empty = ("" if findings else
             '<p class="muted">No findings: every selected check passed or was suppressed.</p>')
    return (
        f'<section id="findings-section"><h2>Findings ({len(findings)})</h2>'
        '<div class="filters">'
        '<input id="filter-text" type="search" placeholder="Filter: check, resource, text…" '
        'aria-label="filter findings">'
        f'<select id="filter-severity" aria-label="severity">'
        f'{_options(SEVERITIES, "any severity")}</select>'
        f'<select id="filter-status" aria-label="status">'
        f'{_options(("fail", "unknown"), "any status")}</select>'
        f'<select id="filter-category" aria-label="category">'
        f'{_options(categories, "any category")}</select>'
        f'<span id="shown">{len(findings)} findings</span></div>'
        f'<div class="scroll"><table id="findings"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>{empty}</section>"
    )


def _breakdown(option: Option) -> str:
    if not option.lines:
        return '<span class="muted">—</span>'
    return " · ".join(f"{e(line.name)} {money(line.usd)}" for line in option.lines)


def _option_rows(workload: PricedWorkload) -> str:
    """The current cost (when the workload says it) and every option, each with its
    breakdown; infeasible options say why."""
    if not workload.options:
        return '<p class="muted">No options estimated.</p>'
    rows = []
    current = workload.current
    if current is not None:
        rows.append(
            '<tr class="current"><td><b>now</b></td>'
            f'<td class="num">{money(workload.current_monthly_usd)}</td>'
            f"<td>{e(current.platform)}</td><td>{_breakdown(current)}</td></tr>")
    rows += [_option_row(option) for option in workload.options]
    return ('<table class="options"><thead><tr><th>Option</th><th class="num">Monthly</th>'
            "<th></th><th>Breakdown</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _option_row(option: Option) -> str:
    """An option and its cost; an infeasible one says so instead of a monthly figure, and
    why, under its lines (none when it could not be priced at all)."""
    if option.feasible:
        return (f'<tr class="option" data-platform="{e(option.platform)}">'
                f"<td>{e(option.platform)}</td>"
                f'<td class="num">{money(option.monthly_usd)}</td>'
                f"<td></td><td>{_breakdown(option)}</td></tr>")
    lines = f"{_breakdown(option)}<br>" if option.monthly_usd else ""
    return (f'<tr class="option" data-platform="{e(option.platform)}" data-feasible="false">'
            f"<td>{e(option.platform)}</td>"
            '<td class="num muted">not feasible</td>'
            f'<td></td><td>{lines}<span class="muted">not feasible: '
            f'{e("; ".join(option.blockers))}</span></td></tr>')


def workloads_section(report: Report) -> str:
    if not report.workloads:
        return ('<section id="workloads-section"><h2>Workloads (0)</h2><p class="muted">'
                "No workload cost estimates in this report.</p>"
                '<table id="workloads"><tbody></tbody></table></section>')
    rows = []
    for workload in report.workloads:
        rows.append(
            f'<tr class="workload" data-platform="{e(workload.platform)}">'
            f'<td><span title="{e(workload.arn)}">{e(workload.name)}</span></td>'
            f"<td>{e(workload.platform)}</td>"
            f"<td>{e(workload.region)}</td>"
            f'<td class="num">{money(workload.current_monthly_usd)}</td>'
            f"<td>{e(workload.recommended_platform or '—')}</td>"
            f'<td class="num">{money(workload.monthly_savings_usd)}</td>'
            f"<td>{e(workload.confidence.value)}</td>"
            f"<td>{_option_rows(workload)}"
            "<details><summary>usage and assumptions</summary>"
            + (f"<pre>{_evidence(workload.usage)}</pre>" if workload.usage else "")
            + ("<ul>" + "".join(f"<li>{e(a)}</li>" for a in workload.assumptions) + "</ul>"
               if workload.assumptions else "")
            + "</details></td></tr>")
    return (
        f'<section id="workloads-section"><h2>Workloads ({len(report.workloads)})</h2>'
        '<div class="scroll"><table id="workloads"><thead><tr><th>Workload</th><th>Platform</th>'
        "<th>Region</th>"
        '<th class="num">Now/mo</th><th>Cheapest</th><th class="num">Saving/mo</th>'
        "<th>Confidence</th><th>Options: monthly cost and breakdown</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def billing_section(report: Report) -> str:
    """With `--bill`: each platform's billed and modelled cost, in words, and what the model
    cannot see."""
    bill = report.billing
    if bill is None:
        return ""
    rows = "".join(
        f'<tr class="bill" data-platform="{e(row.platform)}"><td>{e(row.account)}/'
        f"{e(row.region)}</td><td>{e(PLATFORM_NAMES.get(row.platform, row.platform))}</td>"
        f'<td class="num">{money(row.billed_usd)}</td>'
        f'<td class="num">{money(row.modelled_usd)}</td><td>{e(sentence)}.</td></tr>'
        for row, sentence in zip(bill.by_platform, bill.sentences(), strict=True))
    discounts = bill.discounts()
    notes = "".join(f"<li>{e(note)}</li>" for note in bill.notes)
    return (
        '<section id="billing-section"><h2>The model against the bill</h2>'
        f'<p class="muted">Billed {e(bill.heading())}. {e(bill.source)}.</p>'
        + (f"<p>{e(discounts)}</p>" if discounts else "")
        + '<div class="scroll"><table id="billing"><thead><tr><th>Scope</th><th>Platform</th>'
        '<th class="num">Billed/mo</th><th class="num">Modelled/mo</th><th>Explained</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
        + (f"<h3>What the model cannot see</h3><ul id=\"billing-notes\">{notes}</ul>"
           if notes else "")
        + "</section>"
    )


def errors_section(report: Report) -> str:
    if not report.errors:
        return ('<section id="errors-section"><h2>What could not be checked (0)</h2>'
                '<p class="muted">Every call the selected checks needed succeeded.</p>'
                '<table id="errors"><tbody></tbody></table></section>')
    rows = "".join(
        f'<tr class="error"><td>{e(x.account)}/{e(x.region)}</td>'
        f"<td>{e(x.service)}:{e(x.operation)}</td><td>{e(x.code)}</td><td>{e(x.message)}</td>"
        f"<td>{e(', '.join(x.checks_affected) or '—')}</td></tr>"
        for x in report.errors)
    return (
        f'<section id="errors-section"><h2>What could not be checked ({len(report.errors)})</h2>'
        '<p class="muted">These calls failed; the checks named report <b>unknown</b> for what '
        "they could not judge, never a pass.</p>"
        '<table id="errors"><thead><tr><th>Scope</th><th>Call</th><th>Code</th><th>Message</th>'
        f"<th>Checks left unknown</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def set_aside_section(report: Report) -> str:
    """Suppressed and baselined findings: listed, never counted."""
    suppressed = [f for f in report.findings if f.suppressed]
    baselined = [f for f in report.findings
                 if not f.suppressed and f.fingerprint in report.baselined]
    if not suppressed and not baselined:
        return ""
    rows = "".join(
        f'<tr class="set-aside" data-why="{"suppressed" if f.suppressed else "baselined"}">'
        f"<td>{'suppressed' if f.suppressed else 'in baseline'}</td>"
        f"<td>{e(f.check_id)}</td><td class=arn>{e(short_arn(f.resource_arn))}</td>"
        f"<td>{e(f.suppression_reason or '')}</td></tr>"
        for f in sorted_findings([*suppressed, *baselined]))
    return (
        f'<section id="set-aside-section"><h2>Suppressed ({len(suppressed)}) and baselined '
        f"({len(baselined)})</h2><p class=muted>Not counted above.</p>"
        "<details><summary>show</summary><table><thead><tr><th>Why</th><th>Check</th>"
        f"<th>Resource</th><th>Reason</th></tr></thead><tbody>{rows}</tbody></table>"
        "</details></section>"
    )


def summary_section(report: Report) -> str:
    counts = report.counts_by_severity("fail")
    unknown = sum(report.counts_by_severity("unknown").values())
    cards = "".join(
        f'<div class="card sev-{s}"><div class="n" data-summary="{s}">{counts[s]}</div>'
        f'<div class="l">{s}</div></div>' for s in SEVERITIES)
    cards += (
        f'<div class="card"><div class="n" data-summary="unknown">{unknown}</div>'
        '<div class="l">unknown</div></div>'
        f'<div class="card"><div class="n" data-summary="errors">{len(report.errors)}</div>'
        '<div class="l">errors</div></div>'
        f'<div class="card money"><div class="n" data-summary="savings">'
        f"{money(report.total_monthly_savings_usd)}</div><div class=l>savings / month</div></div>"
        f'<div class="card money"><div class="n" data-summary="spend">'
        f"{money(report.total_current_monthly_usd)}</div><div class=l>spend / month</div></div>")
    return (
        f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div></section>'
        '<section><div class="charts">'
        f"<figure><figcaption>Findings by severity</figcaption>{severity_chart(report)}</figure>"
        f"<figure><figcaption>Monthly spend and savings by platform</figcaption>"
        f"{cost_chart(report)}{_legend()}</figure>"
        "</div></section>"
    )


def history_section(report: Report) -> str:
    """`scan --history`: the trend over the earlier reports and this one."""
    if not report.history:
        return ""
    # Imported here: the trend's page is built from this module's style and helpers.
    from auditor.report.trend import trend_section

    return trend_section(report.history)


def page_start(title: str) -> str:
    """The document up to `<body>`: no script or style from anywhere else (CSP), no
    referrer; `title` is text, escaped here."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
    )


def render(report: Report) -> str:
    scope = (f"{len(report.accounts)} account(s): {', '.join(report.accounts) or '—'} · "
             f"regions: {', '.join(report.regions) or '—'} · lookback {report.lookback_days} "
             f"days · generated {iso(report.generated_at)}")
    demo = '<span class="badge">demo account</span>' if report.demo else ""
    stats = report.stats
    pricing = " · ".join(f"{k}: {v}" for k, v in sorted(report.pricing.items()))
    return (
        page_start(f"compute-auditor report {iso(report.generated_at)}")
        + f"<header><h1>compute-auditor report{demo}</h1><p>{e(scope)}</p></header><main>"
        + summary_section(report)
        + history_section(report)
        + findings_section(report)
        + workloads_section(report)
        + billing_section(report)
        + errors_section(report)
        + set_aside_section(report)
        + "</main>"
        f"<footer>compute-auditor {e(report.tool_version)} · {stats.api_calls} API calls in "
        f"{stats.duration_s:.1f}s · {e(pricing)}</footer>"
        f"<script>{SCRIPT}</script></body></html>\n"
    )
