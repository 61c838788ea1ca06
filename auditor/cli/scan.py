"""`auditor scan`: collect, check, suppress, compare with the baseline, report; exit by
--fail-on."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from auditor.baseline import apply_baseline
from auditor.cli.common import (
    checks_option,
    config_option,
    dir_option,
    fails_cleanly,
    load_config,
    skip_option,
    with_selection,
)
from auditor.config import FORMATS, Config
from auditor.findings import SEVERITIES, Severity
from auditor.progress import Progress
from auditor.report import read
from auditor.report.document import Report
from auditor.report.output import check_destination, deliver, render
from auditor.report.table import summary_line
from auditor.scan import Environment, scan
from auditor.suppress import apply_suppressions


@click.command("scan")
@config_option
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@click.option("--region", "regions", multiple=True, help="Region to scan (repeatable).")
@click.option("--all-regions", is_flag=True, default=None,
              help="Scan every region enabled for each account.")
@click.option("--org", is_flag=True, default=None,
              help="Scan every active account of the organization (needs --role-name).")
@click.option("--role-name", help="Role to assume in each account with --org.")
@click.option("--account-role", "account_roles", multiple=True,
              help="Role ARN to assume and scan (repeatable, one account each).")
@click.option("--external-id", help="External ID the assumed roles' trust policy requires.")
@click.option("--shard",
              help="Scan one slice: I/N, or N with I from JOB_COMPLETION_INDEX or "
                   "AWS_BATCH_JOB_ARRAY_INDEX.")
@checks_option
@skip_option
@dir_option
@click.option("--lookback-days", type=click.IntRange(1, 455),
              help="Days of CloudWatch history to judge by (default 14).")
@click.option("--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format (repeatable; default table).")
@click.option("--output",
              help="Write the report here: a file, a directory (one timestamped file per "
                   "format) or s3://BUCKET/PREFIX/.")
@click.option("--baseline", type=click.Path(path_type=Path),
              help="A previous JSON report: report only findings not in it.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when a finding at or above this severity is reported, 4 when none "
                   "is but some could not be checked (unknown) at or above it.")
@click.option("--allow-unknown", is_flag=True, default=None,
              help="With --fail-on: exit 0 though verdicts at or above it are unknown.")
@click.option("--bill/--no-bill", "billing", default=None,
              help="Set the model against the bill: Cost Explorer (at most 8 calls an account, "
                   "$0.01 each), Savings Plans and Reserved Instances.")
@click.option("--compute-optimizer/--no-compute-optimizer", "compute_optimizer", default=None,
              help="Put AWS Compute Optimizer's Lambda and Fargate recommendations beside ours "
                   "in each workload's evidence (the account must be enrolled).")
@click.option("--max-workers", type=click.IntRange(1, 64),
              help="Parallel API workers (default 8).")
@click.option("--demo", is_flag=True,
              help="Audit an embedded emulated account; no AWS credentials needed.")
@click.option("--quiet", is_flag=True, help="No progress and no summary line on stderr.")
@click.option("--verbose", is_flag=True,
              help="Log every API call (operation and region) and every failure on stderr.")
@fails_cleanly
def scan_command(config_path: Path | None, profile: str | None, regions: tuple[str, ...],
                 all_regions: bool | None, org: bool | None, role_name: str | None,
                 account_roles: tuple[str, ...], external_id: str | None, shard: str | None,
                 checks: tuple[str, ...], skip_checks: tuple[str, ...],
                 checks_dirs: tuple[Path, ...], lookback_days: int | None,
                 formats: tuple[str, ...], output: str | None, baseline: Path | None,
                 fail_on: str | None, allow_unknown: bool | None, billing: bool | None,
                 compute_optimizer: bool | None, max_workers: int | None, demo: bool,
                 quiet: bool, verbose: bool) -> None:
    """Collect, run the checks, and report."""
    if verbose:
        # The auditor's own logger only: botocore's debug log prints whole response bodies,
        # Lambda environments included.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("auditor: %(levelname)s %(message)s"))
        logger = logging.getLogger("auditor")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    config = with_selection(load_config(config_path), checks, skip_checks, checks_dirs)
    config = replace(
        config,
        profile=profile or config.profile,
        regions=regions or config.regions,
        lookback_days=lookback_days or config.lookback_days,
        formats=formats or config.formats,
        output=output or config.output,
        baseline=str(baseline) if baseline else config.baseline,
        fail_on=fail_on or config.fail_on,
        allow_unknown=config.allow_unknown if allow_unknown is None else allow_unknown,
        # The demo sets its model against its emulated bill unless told --no-bill.
        billing=(config.billing or demo) if billing is None else billing,
        compute_optimizer=(config.compute_optimizer if compute_optimizer is None
                           else compute_optimizer),
        max_workers=max_workers or config.max_workers,
        all_regions=config.all_regions if all_regions is None else all_regions,
        org=config.org if org is None else org,
        role_name=role_name or config.role_name,
        account_roles=account_roles or config.account_roles,
        external_id=external_id or config.external_id,
        shard=shard or config.shard,
    )
    # Check what can be checked first: a bad file fails in a second, not after the scan.
    check_destination(config.formats, config.output)
    previous = read.load(Path(config.baseline)) if config.baseline else None
    progress = Progress.for_stream(sys.stderr, quiet)
    hooks = progress.hooks if progress else ()
    try:
        report = _scan(config, hooks, demo)
    finally:
        if progress:
            progress.finish()

    report = replace(report, findings=apply_suppressions(
        report.findings, config.suppressions, report.resource_tags, report.generated_at))
    if previous is not None:
        report = apply_baseline(report, previous)

    if config.output:
        for where in deliver(report, config.formats, config.output, config.profile):
            click.echo(f"wrote {where}", err=True)
    else:
        for fmt in config.formats:
            click.echo(render(report, fmt), nl=False)
    if not quiet and (config.output or config.formats != ("table",) or previous is not None):
        click.echo(summary_line(report), err=True)
    code = report.exit_code(Severity(config.fail_on) if config.fail_on else None,
                            config.allow_unknown)
    if code:
        sys.exit(code)


def _scan(config: Config, hooks: tuple[tuple[str, Any], ...], demo: bool) -> Report:
    if not demo:
        return scan(config, Environment(hooks=hooks))
    # Imported here: moto is only needed, and only paid for, when the demo runs.
    from auditor.demo import demo_environment

    with demo_environment(datetime.now(UTC)) as emulated:
        seeded = emulated.account
        config = replace(config, regions=config.regions or seeded.regions, profile=None)
        return scan(config, Environment(hooks=(*emulated.extra_hooks, *hooks), demo=True),
                    seeded.now)
