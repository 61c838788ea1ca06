"""The terminal table: findings grouped by severity, worst first, then a summary line."""

from __future__ import annotations

import shutil
import textwrap
from typing import TextIO

from tabulate import tabulate

from auditor.cost.optimizer import optimizer_summary
from auditor.cost.priced import PricedWorkload
from auditor.findings import SEVERITIES
from auditor.report.document import Report, sorted_findings

_MESSAGE_WIDTH = 110
_RESOURCE_WIDTH = 48
_NARROWEST_WRAPPED = 30
"""Fewer columns than this left for a table's last column, and each row is stacked instead:
its short fields on one line, the long text indented under them."""
_INDENT = "    "


def short_arn(arn: str) -> str:
    """The part of an ARN a person recognises: the resource, without partition and account."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn


def terminal_width(stream: TextIO) -> int | None:
    """The columns of the terminal `stream` is (or `COLUMNS`); None when it is a file or a
    pipe, where each row stays one line for grep."""
    if not stream.isatty():
        return None
    return shutil.get_terminal_size(fallback=(0, 0)).columns or None


def render(report: Report, width: int | None = None) -> str:
    """The table, fitted to `width` columns; without one, a finding to a line."""
    lines = _wrap("compute-auditor: the demo account, an emulated account seeded with problems "
                  "to find (`auditor scan` without --demo audits yours)", width,
                  hang="  ") if report.demo else []
    lines += _findings(report, width)
    if report.errors:
        lines += ["", *_wrap(f"ERRORS ({len(report.errors)}): what could not be checked", width)]
        lines.append(_table(
            ["scope", "call", "code", "checks unknown"],
            [[f"{e.account}/{e.region}", f"{e.service}:{e.operation}", e.code,
              ", ".join(e.checks_affected) or "-"] for e in report.errors],
            [None, None, None, 60], width))
    lines += _optimizer(report.workloads, width)
    lines += _bill(report, width)
    lines += ["", *_wrap(summary_line(report), width, hang="  ")]
    return "\n".join(lines).lstrip("\n") + "\n"


def _findings(report: Report, width: int | None) -> list[str]:
    lines: list[str] = []
    findings = sorted_findings(report.active_findings)
    for severity in SEVERITIES:
        group = [f for f in findings if f.severity.value == severity]
        if not group:
            continue
        lines += ["", f"{severity.upper()} ({len(group)})"]
        rows = [
            [f.check_id, f.status.upper(), short_arn(f.resource_arn), f.region,
             "" if f.monthly_savings_usd is None else f"${f.monthly_savings_usd:,.2f}",
             f.message]
            for f in group
        ]
        lines.append(_table(["check", "status", "resource", "region", "saving/mo", "finding"],
                            rows, [None, None, _RESOURCE_WIDTH, None, None, _MESSAGE_WIDTH],
                            width))
    return lines


def _bill(report: Report, width: int | None) -> list[str]:
    if report.billing is None:
        return []
    bill = report.billing
    discounts = bill.discounts()
    return [
        "", *_wrap(f"BILL: {bill.heading()}", width, hang="  "),
        *(line for sentence in bill.sentences() for line in _wrap(sentence, width, "  ", "  ")),
        *(_wrap(discounts, width, "  ", "  ") if discounts else []),
        *(line for note in bill.notes for line in _wrap(f"- {note}", width, "  ", "  ")),
    ]


def _wrap(text: str, width: int | None, indent: str = "", hang: str = "") -> list[str]:
    """`text` after `indent`, on lines of at most `width`; later lines `hang` further in."""
    if width is None:
        return [indent + text]
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + hang,
                         break_on_hyphens=False) or [indent]


def _table(headers: list[str], rows: list[list[str]], limits: list[int | None],
           width: int | None) -> str:
    """A table whose last column wraps to what `width` leaves it; with too little left, each
    row stacked (`_stacked`). Without a width, each column wraps at its limit."""
    if width is None:
        return tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=limits)
    # A column is at least its header and two spaces wide, at most its limit.
    natural = [max(len(header) + 2, *(len(row[i]) for row in rows))
               for i, header in enumerate(headers[:-1])]
    shown = [n if limit is None else min(n, limit) for n, limit in zip(natural, limits,
                                                                        strict=False)]
    room = width - sum(shown) - 2 * len(shown)
    if room >= _NARROWEST_WRAPPED:
        text = tabulate(rows, headers=headers, tablefmt="simple",
                        maxcolwidths=[*limits[:-1], room])
        if max(len(line) for line in text.splitlines()) <= width:
            return text
    return "\n".join(_stacked(headers, rows, width))


def _stacked(headers: list[str], rows: list[list[str]], width: int) -> list[str]:
    """Each row as its short fields on one line and its last column indented under them."""
    lines: list[str] = []
    for number, row in enumerate([headers, *rows]):
        fields = "  ".join(cell for cell in row[:-1] if cell)
        lines += _wrap(fields, width, hang=_INDENT)
        lines += _wrap(row[-1], width, _INDENT)
        if number == 0:
            lines.append("-" * min(width, max(len(fields), len(_INDENT + row[-1]))))
    return lines


def _optimizer(workloads: tuple[PricedWorkload, ...], width: int | None) -> list[str]:
    """With `--compute-optimizer`: its recommendations beside ours, and its notes."""
    summary = optimizer_summary(workloads)
    if summary is None:
        return []
    entries = [(w, w.compute_optimizer) for w in workloads if w.compute_optimizer is not None
               and w.compute_optimizer.status == "recommendation"]
    lines = ["", *_wrap(f"COMPUTE OPTIMIZER ({len(entries)}): its recommendations beside ours, "
                        "as evidence (its savings are in no total; "
                        "workloads[].compute_optimizer in the JSON report explains each "
                        "difference)", width, hang="  ")]
    if entries:
        lines.append(_table(["workload", "region", "Compute Optimizer", "our model"],
                            [[w.name, w.region, entry.theirs, entry.ours]
                             for w, entry in entries], [None, None, 55, 55], width))
    lines += [line for note in summary["notes"] for line in _wrap(note, width, hang="  ")]
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
        f"{len(report.accounts)} account(s)" + (" (the demo account)" if report.demo else "")
        + f", {len(report.regions)} region(s), "
        f"{report.stats.api_calls} API calls in {report.stats.duration_s:.1f}s"
    )
