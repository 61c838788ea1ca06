"""`auditor trend REPORT… | s3://bucket/prefix/`: findings, spend and savings over a series of
nightly reports."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import emit_text, fails_cleanly
from auditor.nightly import s3_session
from auditor.report import trend


@click.command("trend")
@click.argument("sources", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(sorted(trend.RENDER)), default="html",
              show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write to this file instead of standard output.")
@click.option("--profile", help="AWS profile for an s3:// source.")
@fails_cleanly
def trend_command(sources: tuple[str, ...], fmt: str, output: Path | None,
                  profile: str | None) -> None:
    """Open findings by severity, monthly spend and savings over a series of JSON reports
    (files, directories of report-*.json, or s3://bucket/prefix/), one point per report,
    ordered by report time."""
    emit_text(trend.RENDER[fmt](trend.series(trend.load(sources, s3_session(sources, profile)))),
              output, "the trend")
