"""`auditor scan`: collect, check, report; exit by --fail-on."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click

from auditor.cli.common import (
    checks_option,
    config_option,
    dir_option,
    fails_cleanly,
    load_config,
    skip_option,
    with_selection,
)
from auditor.findings import SEVERITIES, Severity
from auditor.report.output import RENDERERS, render, write_all
from auditor.report.table import summary_line
from auditor.scan import Environment, scan


@click.command("scan")
@config_option
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@click.option("--region", "regions", multiple=True, help="Region to scan (repeatable).")
@checks_option
@skip_option
@dir_option
@click.option("--lookback-days", type=click.IntRange(1, 455),
              help="Days of CloudWatch history to judge by (default 14).")
@click.option("--format", "formats", multiple=True, type=click.Choice(sorted(RENDERERS)),
              help="Output format (repeatable; default table).")
@click.option("--output", type=click.Path(path_type=Path),
              help="Write the report here (a file, or a directory for several formats).")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when a finding at or above this severity is reported.")
@click.option("--max-workers", type=click.IntRange(1, 64),
              help="Parallel API workers (default 8).")
@click.option("--demo", is_flag=True,
              help="Audit an embedded emulated account; no AWS credentials needed.")
@click.option("--quiet", is_flag=True, help="No summary line on stderr.")
@fails_cleanly
def scan_command(config_path: Path | None, profile: str | None, regions: tuple[str, ...],
                 checks: tuple[str, ...], skip_checks: tuple[str, ...],
                 checks_dirs: tuple[Path, ...], lookback_days: int | None,
                 formats: tuple[str, ...], output: Path | None, fail_on: str | None,
                 max_workers: int | None, demo: bool, quiet: bool) -> None:
    """Collect, run the checks, and report."""
    config = with_selection(load_config(config_path), checks, skip_checks, checks_dirs)
    config = replace(
        config,
        profile=profile or config.profile,
        regions=regions or config.regions,
        lookback_days=lookback_days or config.lookback_days,
        formats=formats or config.formats,
        output=str(output) if output else config.output,
        fail_on=fail_on or config.fail_on,
        max_workers=max_workers or config.max_workers,
    )
    if demo:
        # Imported here: moto is only needed, and only paid for, when the demo runs.
        from auditor.demo import demo_environment

        with demo_environment(datetime.now(UTC)) as emulated:
            seeded = emulated.account
            config = replace(config, regions=config.regions or seeded.regions, profile=None)
            report = scan(config, Environment(hooks=emulated.extra_hooks, demo=True),
                          seeded.now)
    else:
        report = scan(config)

    if config.output:
        for path in write_all(report, config.formats, Path(config.output)):
            click.echo(f"wrote {path}", err=True)
    else:
        for fmt in config.formats:
            click.echo(render(report, fmt), nl=False)
    if not quiet and (config.output or config.formats != ("table",)):
        click.echo(summary_line(report), err=True)
    if config.fail_on and report.worst_at_or_above(Severity(config.fail_on)):
        sys.exit(1)
