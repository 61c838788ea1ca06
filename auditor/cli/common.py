"""What every command shares: clean failure, config loading and the check-selection options."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor import config as config_module
from auditor.config import Config
from auditor.errors import AuditorError
from auditor.session import stop_calls

F = TypeVar("F", bound=Callable[..., Any])


def fails_cleanly(command: F) -> F:
    """Turn every AuditorError into one line on stderr and its exit code; no traceback.

    SIGINT and SIGTERM stop the command: no call is made after the signal, nothing is written,
    and the exit code is the shell's 128 + signal (130, 143), whatever the command was doing
    when the signal came (a worker that swallowed the interrupt cannot turn it into a pass)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _stopped_by_signals() as received:
            try:
                result = command(*args, **kwargs)
            except KeyboardInterrupt:
                received.append(signal.SIGINT)
            except AuditorError as exc:
                if not received:
                    click.echo(f"auditor: error: {exc}", err=True)
                    sys.exit(exc.exit_code)
            if received:
                click.echo(f"auditor: interrupted by {signal.Signals(received[0]).name}",
                           err=True)
                sys.exit(128 + received[0])
            return result

    return wrapper  # type: ignore[return-value]


@contextmanager
def _stopped_by_signals() -> Iterator[list[int]]:
    """While the command runs, SIGINT and SIGTERM refuse every further AWS call and unwind the
    main thread once; the signals received are collected in the list yielded."""
    received: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        received.append(signum)
        stop_calls()
        if len(received) == 1:  # a second signal must not interrupt the unwinding of the first
            raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield received  # only the main thread may install handlers (a test's worker thread)
        return
    previous = {wanted: signal.signal(wanted, stop) for wanted in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for wanted, handler in previous.items():
            signal.signal(wanted, handler)


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
