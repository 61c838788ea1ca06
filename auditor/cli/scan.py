"""`auditor scan`: parse the flags over the config, check the destination, scan (the library
applies suppressions and the baseline), put the report out, exit by --fail-on."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from auditor import nightly
from auditor.cli.common import (
    config_option,
    emit,
    fails_cleanly,
    load_config,
    options,
    send_deliveries,
)
from auditor.config import Config, with_flags
from auditor.findings import Severity
from auditor.progress import Progress
from auditor.report.document import Report
from auditor.report.output import check_destination
from auditor.report.table import summary_line
from auditor.scan import Environment, scan

SCAN_SETTINGS = ("profile", "regions", "all_regions", "org", "role_name", "account_roles",
                 "external_id", "shard", "checks", "skip_checks", "checks_dirs",
                 "lookback_days", "formats", "output", "baseline", "notify", "security_hub",
                 "history", "fail_on", "allow_unknown", "billing", "compute_optimizer",
                 "max_workers", "account_concurrency", "api_rate_share")
"""The settings `auditor scan` takes as flags, in the order its help lists them."""

NEXT_AFTER_DEMO = """
What to try next:
  auditor scan --demo --format html --output report.html   # the same report, for people
  auditor iam-policy > auditor-policy.json                  # the read-only policy to scan with
  auditor scan --profile NAME                               # your own account
"""


@click.command("scan")
@config_option
@options(*SCAN_SETTINGS)
@click.option("--demo", is_flag=True,
              help="Audit an embedded emulated account; no AWS credentials needed.")
@click.option("--quiet", is_flag=True,
              help="Nothing on stderr but errors: no progress, no summary line, no 'wrote'.")
@click.option("--verbose", is_flag=True,
              help="Log every API call (operation and region) and every failure on stderr.")
@fails_cleanly
def scan_command(config_path: Path | None, demo: bool, quiet: bool, verbose: bool,
                 **flags: Any) -> None:
    """Collect, run the checks, and report."""
    if verbose:
        _log_calls()
    if demo and flags["billing"] is None:
        flags["billing"] = True  # the demo sets its model against its emulated bill
    config = with_flags(load_config(config_path), flags)
    # Check what can be checked first: a bad path, bucket, notify target or earlier report
    # fails in a second, not after the scan.
    check_destination(config.formats, config.output, config.profile)
    night = nightly.prepare(config, demo)
    progress = Progress.for_stream(sys.stderr, quiet)
    try:
        # The baseline, read already (it may be the latest report of a prefix), is applied
        # by `night.finish`, as `auditor merge` applies it.
        report = _scan(replace(config, baseline=None), progress.hooks if progress else (), demo)
    finally:
        if progress:
            progress.finish()
    report = night.finish(report)
    written = emit(report, config.formats, config.output, config.profile, quiet)
    send_deliveries(night.deliveries, report, config.formats, written, config.profile, quiet)
    if not quiet:
        _after(report, config, demo)
    code = report.exit_code(Severity(config.fail_on) if config.fail_on else None,
                            config.allow_unknown)
    if code:
        sys.exit(code)


def _after(report: Report, config: Config, demo: bool) -> None:
    """The summary line on stderr, unless the table on stdout already ends with it; after
    the demo's table on a terminal, what to try next."""
    table_shown = not config.output and config.formats == ("table",)
    if not table_shown:
        click.echo(summary_line(report), err=True)
    elif demo and _stdout_is_terminal():
        click.echo(NEXT_AFTER_DEMO, nl=False)


def _log_calls() -> None:
    """The auditor's own logger only: botocore's debug log prints whole response bodies,
    Lambda environments included."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("auditor: %(levelname)s %(message)s"))
    logger = logging.getLogger("auditor")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


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
