"""The trend over a series of nightly reports (`auditor trend`): open findings by severity,
monthly spend and savings, one point per report, ordered by report time.

Open findings are the failed ones not suppressed, baselined included: a nightly run with
`--baseline` reports only what is new, but what it baselined is still there. As HTML, the
series are inline-SVG line charts under the report's own Content-Security-Policy: the page
makes no request."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from auditor.errors import ReportError
from auditor.findings import SEVERITIES
from auditor.report import read
from auditor.report.document import Report, iso
from auditor.report.html import (
    SAVINGS_COLOUR,
    SEVERITY_COLOURS,
    SPEND_COLOUR,
    e,
    money,
    page_start,
)
from auditor.report.output import parse_s3
from auditor.session import CallStats, ClientFactory, RetryPolicy

REPORT_NAME = re.compile(r"report-\d{8}T\d{6}Z\.json")
"""A whole scan's JSON report as `--output DIR/` or `s3://…/` names it; shard reports (one
slice of a scan each) would read as nights with fewer findings, and are left out."""


@dataclass(frozen=True)
class Point:
    generated_at: datetime
    source: str
    findings_by_severity: dict[str, int]
    spend_usd: float
    savings_usd: float

    @classmethod
    def of(cls, report: Report, source: str) -> Point:
        counts = dict.fromkeys(SEVERITIES, 0)
        for finding in report.findings:
            if finding.status == "fail" and not finding.suppressed:
                counts[finding.severity.value] += 1
        return cls(report.generated_at, source, counts, report.total_current_monthly_usd,
                   report.total_monthly_savings_usd)

    @property
    def findings(self) -> int:
        return sum(self.findings_by_severity.values())


def series(reports: Iterable[tuple[Report, str]]) -> list[Point]:
    """One point per (report, where it came from), oldest first."""
    return sorted((Point.of(report, source) for report, source in reports),
                  key=lambda p: (p.generated_at, p.source))


# --------------------------------------------------------------------------- reading


def load(sources: Sequence[str], session: boto3.session.Session | None = None,
         empty_ok: bool = False) -> list[tuple[Report, str]]:
    """Report files, directories (their `report-*.json`) and `s3://bucket/prefix/` (the
    `report-*.json` under it, read with a read-only client). `empty_ok`: a directory or prefix
    with no report yet, or a path not made yet, gives none (`scan --history` on the first
    night)."""
    loaded: list[tuple[Report, str]] = []
    for source in sources:
        if source.startswith("s3://"):
            loaded += _from_s3(source, session or boto3.session.Session(), empty_ok)
        elif empty_ok and not Path(source).exists():
            continue
        elif Path(source).is_dir():
            found = sorted(p for p in Path(source).iterdir() if REPORT_NAME.fullmatch(p.name))
            if not found and not empty_ok:
                raise ReportError(f"{source}: no report-*.json in this directory")
            loaded += [(read.load(path), str(path)) for path in found]
        else:
            loaded.append((read.load(Path(source)), source))
    return loaded


def _from_s3(url: str, session: boto3.session.Session, empty_ok: bool = False
             ) -> list[tuple[Report, str]]:
    bucket, prefix = parse_s3(url)
    s3 = ClientFactory(session, CallStats(), RetryPolicy(max_attempts=4)).client(
        "s3", session.region_name or "us-east-1")
    loaded = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                key: str = entry["Key"]
                if REPORT_NAME.fullmatch(key.rsplit("/", 1)[-1]):
                    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    where = f"s3://{bucket}/{key}"
                    loaded.append((read.parse(body.decode("utf-8", "replace"), where), where))
    except (ClientError, BotoCoreError) as exc:
        raise ReportError(f"cannot read the reports under {url}: {exc}") from None
    if not loaded and not empty_ok:
        raise ReportError(f"{url}: no report-*.json under this prefix")
    return loaded


# --------------------------------------------------------------------------- json and csv


def to_json(points: Sequence[Point]) -> str:
    return json.dumps({"points": [
        {"generated_at": iso(p.generated_at), "source": p.source,
         "findings_by_severity": p.findings_by_severity, "findings": p.findings,
         "total_current_monthly_usd": p.spend_usd, "total_monthly_savings_usd": p.savings_usd}
        for p in points]}, indent=2) + "\n"


def to_csv(points: Sequence[Point]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["generated_at", *SEVERITIES, "findings", "total_current_monthly_usd",
                     "total_monthly_savings_usd", "source"])
    for p in points:
        writer.writerow([iso(p.generated_at), *(p.findings_by_severity[s] for s in SEVERITIES),
                         p.findings, f"{p.spend_usd:.2f}", f"{p.savings_usd:.2f}", p.source])
    return out.getvalue()


# --------------------------------------------------------------------------- html

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 600, 240, 70, 20, 14, 40


def _x(points: Sequence[Point], index: int) -> float:
    """By time, so a missed night shows as a gap; evenly when all share one time."""
    first, last = points[0].generated_at, points[-1].generated_at
    span = (last - first).total_seconds()
    width = WIDTH - LEFT - RIGHT
    if span <= 0:
        return LEFT + width * (index + 1) / (len(points) + 1)
    return LEFT + width * (points[index].generated_at - first).total_seconds() / span


def line_chart(label: str, points: Sequence[Point],
               lines: Sequence[tuple[str, str, Sequence[float], bool]]) -> str:
    """An SVG line chart: per series (name, colour, one value per point, as money)."""
    top = max((v for _, _, values, _ in lines for v in values), default=0.0) or 1.0
    height = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + height * (1 - value / top)

    as_money = any(m for *_, m in lines)
    parts = [f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(0):.1f}" '
             'stroke="#94a3b8"/>',
             f'<text x="{LEFT - 6}" y="{y(top) + 4:.1f}" text-anchor="end">'
             f"{e(money(top) if as_money else f'{top:g}')}</text>",
             f'<text x="{LEFT - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
             f'<text x="{_x(points, 0):.1f}" y="{HEIGHT - 12}" text-anchor="start">'
             f"{e(points[0].generated_at.strftime('%Y-%m-%d'))}</text>"]
    if len(points) > 1:
        parts.append(f'<text x="{_x(points, len(points) - 1):.1f}" y="{HEIGHT - 12}" '
                     f'text-anchor="end">{e(points[-1].generated_at.strftime("%Y-%m-%d"))}'
                     "</text>")
    for name, colour, values, is_money in lines:
        coords = [(_x(points, i), y(v)) for i, v in enumerate(values)]
        parts.append(f'<polyline class="line" data-series="{e(name)}" fill="none" '
                     f'stroke="{colour}" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords) + '"/>')
        for i, ((x, yy), value) in enumerate(zip(coords, values, strict=True)):
            shown = money(value) if is_money else f"{value:g}"
            parts.append(
                f'<circle class="point" data-series="{e(name)}" data-index="{i}" '
                f'data-value="{value:g}" cx="{x:.1f}" cy="{yy:.1f}" r="3.5" fill="{colour}">'
                f"<title>{e(name)} {e(iso(points[i].generated_at))}: {e(shown)}</title>"
                "</circle>")
    legend = "".join(
        f'<rect x="{LEFT + 110 * i}" y="{HEIGHT + 2}" width="10" height="10" fill="{colour}"/>'
        f'<text x="{LEFT + 110 * i + 14}" y="{HEIGHT + 11}">{e(name)}</text>'
        for i, (name, colour, _, _) in enumerate(lines))
    return (f'<svg class="chart trend" role="img" aria-label="{e(label)}" width="100%" '
            f'viewBox="0 0 {WIDTH} {HEIGHT + 18}" preserveAspectRatio="xMinYMin meet">'
            + "".join(parts) + legend + "</svg>")


def trend_section(points: Sequence[Point]) -> str:
    """The charts and the table of values: a section a report page can hold too."""
    findings = line_chart("Open findings by severity", points, [
        (s, SEVERITY_COLOURS[s], [float(p.findings_by_severity[s]) for p in points], False)
        for s in SEVERITIES])
    money_chart = line_chart("Monthly spend and savings", points, [
        ("spend", SPEND_COLOUR, [p.spend_usd for p in points], True),
        ("savings", SAVINGS_COLOUR, [p.savings_usd for p in points], True)])
    rows = "".join(
        f'<tr class="point-row"><td class="nowrap">{e(iso(p.generated_at))}</td>'
        + "".join(f'<td class="num">{p.findings_by_severity[s]}</td>' for s in SEVERITIES)
        + f'<td class="num">{money(p.spend_usd)}</td><td class="num">{money(p.savings_usd)}'
        f'</td><td class="arn">{e(p.source)}</td></tr>' for p in points)
    head = "".join(f'<th class="num">{e(s)}</th>' for s in SEVERITIES)
    return (
        f'<section id="trend"><h2>Trend over {len(points)} reports</h2><div class="charts">'
        f"<figure><figcaption>Open findings by severity</figcaption>{findings}</figure>"
        f"<figure><figcaption>Monthly spend and savings</figcaption>{money_chart}</figure>"
        '</div><div class="scroll"><table id="trend-table"><thead><tr><th>Generated</th>'
        f'{head}<th class="num">Spend/mo</th><th class="num">Savings/mo</th><th>Report</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div></section>")


def to_html(points: Sequence[Point]) -> str:
    span = f"{iso(points[0].generated_at)} to {iso(points[-1].generated_at)}"
    return (page_start("compute-auditor trend")
            + f"<header><h1>compute-auditor trend</h1><p>{e(span)}</p></header><main>"
            f"{trend_section(points)}</main></body></html>\n")


RENDER: dict[str, Callable[[Sequence[Point]], str]] = {
    "html": to_html, "json": to_json, "csv": to_csv}
