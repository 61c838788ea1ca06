"""What every command shares: clean failure, config loading and the check-selection options."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor import config as config_module
from auditor.config import Config
from auditor.errors import AuditorError

F = TypeVar("F", bound=Callable[..., Any])


def fails_cleanly(command: F) -> F:
    """Turn every AuditorError into one line on stderr and its exit code; no traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditorError as exc:
            click.echo(f"auditor: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def globs(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def load_config(path: Path | None) -> Config:
    return config_module.load(path) if path else Config()


config_option = click.option("--config", "config_path", type=click.Path(path_type=Path),
                             help="TOML config file (see config.example.toml).")
checks_option = click.option("--checks", "checks", multiple=True,
                             help="Only these checks: IDs or globs, comma-separated.")
skip_option = click.option("--skip-checks", "skip_checks", multiple=True,
                           help="Skip these checks: IDs or globs, comma-separated.")
dir_option = click.option("--checks-dir", "checks_dirs", multiple=True,
                          type=click.Path(path_type=Path),
                          help="Directory of extra check modules (repeatable).")


def with_selection(config: Config, checks: Sequence[str], skip_checks: Sequence[str],
                   checks_dirs: Sequence[Path]) -> Config:
    return replace(
        config,
        checks=globs(checks) or config.checks,
        skip_checks=globs(skip_checks) or config.skip_checks,
        checks_dirs=config.checks_dirs + tuple(checks_dirs),
    )


def selection_options(command: F) -> F:
    """--config, --checks, --skip-checks and --checks-dir, for every command that selects."""
    for option in (dir_option, skip_option, checks_option, config_option):
        command = option(command)
    return command
