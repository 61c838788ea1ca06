"""`auditor report FILE` re-renders a saved JSON report; `auditor diff OLD NEW` compares two."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from tabulate import tabulate

from auditor.baseline import Diff, diff
from auditor.cli.common import emit, emit_text, fails_cleanly, option
from auditor.findings import SEVERITIES, Finding, Severity
from auditor.report import read
from auditor.report.output import check_destination
from auditor.report.table import short_arn

report_path = click.Path(path_type=Path, dir_okay=False)


@click.command("report")
@click.argument("file", type=report_path)
@option("formats")
@option("output")
@option("profile", help="AWS profile for an s3:// output.")
@fails_cleanly
def report_command(file: Path, formats: tuple[str, ...], output: str | None,
                   profile: str | None) -> None:
    """Re-render a saved JSON report in other formats."""
    formats = formats or ("table",)
    check_destination(formats, output, profile)
    emit(read.load(file), formats, output, profile)


def _rows(findings: tuple[Finding, ...]) -> list[list[str]]:
    return [[f.severity.value, f.check_id, short_arn(f.resource_arn), f.region, f.message]
            for f in findings]


def _table(result: Diff) -> str:
    lines = []
    for title, findings in (("NEW", result.new), ("RESOLVED", result.resolved)):
        lines.append(f"{title} ({len(findings)})")
        if findings:
            lines.append(tabulate(_rows(findings),
                                  headers=["severity", "check", "resource", "region", "finding"],
                                  maxcolwidths=[None, None, 48, None, 90]))
        lines.append("")
    lines.append(
        f"unchanged {result.unchanged} · spend {result.current_monthly_usd_change:+,.2f} USD/month"
        f" · savings {result.monthly_savings_usd_change:+,.2f} USD/month")
    return "\n".join(lines) + "\n"


@click.command("diff")
@click.argument("old", type=report_path)
@click.argument("new", type=report_path)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when a new finding is at or above this severity.")
@fails_cleanly
def diff_command(old: Path, new: Path, fmt: str, output: Path | None,
                 fail_on: str | None) -> None:
    """Findings new, resolved and unchanged between two JSON reports (by fingerprint), and the
    change in monthly spend and savings."""
    result = diff(read.load(old), read.load(new))
    text = json.dumps(result.to_dict(), indent=2) + "\n" if fmt == "json" else _table(result)
    emit_text(text, output, "the diff")
    if fail_on and any(f.status == "fail" and f.severity.rank >= Severity(fail_on).rank
                       and not f.suppressed for f in result.new):
        sys.exit(1)
