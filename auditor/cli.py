"""The `auditor` command: thin click wrappers over the library, and the only place that exits."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from tabulate import tabulate

from auditor import __version__
from auditor import config as config_module
from auditor.config import Config
from auditor.datasets import ACCOUNT_ACTIONS
from auditor.errors import AuditorError
from auditor.findings import SEVERITIES, Severity
from auditor.report.output import RENDERERS, render, write_all
from auditor.report.table import summary_line
from auditor.scan import Environment, registry_for, scan, select_checks

F = TypeVar("F", bound=Callable[..., Any])


def _fails_cleanly(command: F) -> F:
    """Turn every AuditorError into one line on stderr and its exit code; no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditorError as exc:
            click.echo(f"auditor: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _globs(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _load_config(path: Path | None) -> Config:
    return config_module.load(path) if path else Config()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compute-auditor")
def main() -> None:
    """Read-only auditor for AWS ECS, EKS and Lambda: what is broken or wasteful, with
    evidence, and what each workload would cost elsewhere."""


_config_option = click.option("--config", "config_path", type=click.Path(path_type=Path),
                              help="TOML config file (see config.example.toml).")
_checks_option = click.option("--checks", "checks", multiple=True,
                              help="Only these checks: IDs or globs, comma-separated.")
_skip_option = click.option("--skip-checks", "skip_checks", multiple=True,
                            help="Skip these checks: IDs or globs, comma-separated.")
_dir_option = click.option("--checks-dir", "checks_dirs", multiple=True,
                           type=click.Path(path_type=Path),
                           help="Directory of extra check modules (repeatable).")


def _with_selection(config: Config, checks: Sequence[str], skip_checks: Sequence[str],
                    checks_dirs: Sequence[Path]) -> Config:
    return replace(
        config,
        checks=_globs(checks) or config.checks,
        skip_checks=_globs(skip_checks) or config.skip_checks,
        checks_dirs=config.checks_dirs + tuple(checks_dirs),
    )


@main.command("scan")
@_config_option
@click.option("--profile", help="AWS profile to use (default: the standard credential chain).")
@click.option("--region", "regions", multiple=True, help="Region to scan (repeatable).")
@_checks_option
@_skip_option
@_dir_option
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
@_fails_cleanly
def scan_command(config_path: Path | None, profile: str | None, regions: tuple[str, ...],
                 checks: tuple[str, ...], skip_checks: tuple[str, ...],
                 checks_dirs: tuple[Path, ...], lookback_days: int | None,
                 formats: tuple[str, ...], output: Path | None, fail_on: str | None,
                 max_workers: int | None, demo: bool, quiet: bool) -> None:
    """Collect, run the checks, and report."""
    config = _with_selection(_load_config(config_path), checks, skip_checks, checks_dirs)
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


@main.command("checks")
@_config_option
@_checks_option
@_skip_option
@_dir_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@_fails_cleanly
def checks_command(config_path: Path | None, checks: tuple[str, ...],
                   skip_checks: tuple[str, ...], checks_dirs: tuple[Path, ...], fmt: str) -> None:
    """List the checks: id, severity, category, title and the IAM actions each needs."""
    config = _with_selection(_load_config(config_path), checks, skip_checks, checks_dirs)
    registry = registry_for(config)
    selected = registry.select(config.checks, config.skip_checks)
    rows = [
        {"id": c.id, "severity": c.severity.value, "category": c.category.value,
         "title": c.title, "source": c.source, "iam_actions": sorted(c(None).iam_actions),
         "parameters": {name: p.default for name, p in c.parameters.items()},
         "rationale": c.rationale, "remediation": c.remediation}
        for c in selected
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(tabulate(
        [[r["id"], r["severity"], r["category"], r["title"], ", ".join(r["iam_actions"])]
         for r in rows],
        headers=["id", "severity", "category", "title", "IAM actions"],
        maxcolwidths=[None, None, None, 40, 60],
    ))


@main.command("iam-policy")
@_config_option
@_checks_option
@_skip_option
@_dir_option
@_fails_cleanly
def iam_policy_command(config_path: Path | None, checks: tuple[str, ...],
                       skip_checks: tuple[str, ...], checks_dirs: tuple[Path, ...]) -> None:
    """Print the least-privilege, read-only IAM policy the selected checks need."""
    config = _with_selection(_load_config(config_path), checks, skip_checks, checks_dirs)
    actions = set(ACCOUNT_ACTIONS)
    for check in select_checks(config):
        actions |= check.iam_actions
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ComputeAuditorReadOnly", "Effect": "Allow",
                       "Action": sorted(actions), "Resource": "*"}],
    }
    click.echo(json.dumps(policy, indent=2))
