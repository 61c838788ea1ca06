"""What every command shares: clean failure, config loading, the options of the settings table
(`auditor.settings`) and putting a report out."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from auditor import config as config_module
from auditor.config import Config
from auditor.deliver import plan as deliveries
from auditor.errors import AuditorError, ReportError
from auditor.files import write_atomic
from auditor.report import table
from auditor.report.document import Report
from auditor.report.output import deliver, render, write_again
from auditor.session import stop_calls
from auditor.settings import Setting, flagged

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


def load_config(path: Path | None) -> Config:
    return config_module.load(path) if path else Config()


def _in_range(setting: Setting) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """Refuse a number out of the setting's range in the same words as the config file."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        problem = None if value is None else setting.problem(value)
        if problem:
            raise click.BadParameter(problem, ctx, param)
        return value

    return check


def _help(setting: Setting) -> str:
    default = setting.default
    shown = ", ".join(default) if isinstance(default, tuple) else default
    stated = shown is not None and shown is not False and shown != ""
    notes = [note for note in ("repeatable" if setting.repeatable else "",
                               f"default {shown}" if stated else "") if note]
    if not notes:
        return setting.help
    text, stop = (setting.help[:-1], ".") if setting.help.endswith(".") else (setting.help, "")
    return f"{text} ({'; '.join(notes)}){stop}"


def option(name: str, **changes: Any) -> Callable[[F], F]:
    """The click option of a setting of `auditor.settings.SETTINGS`: its flag, type, range
    or choices and help, from the table. Its value is None (or empty) when not given, so
    that the config's value stands (`auditor.config.with_flags`)."""
    setting = flagged(name)
    assert setting.flag is not None
    flag = f"{setting.flag}/--no-{setting.flag[2:]}" if setting.negatable else setting.flag
    kwargs: dict[str, Any] = {"help": _help(setting), "default": None,
                              "multiple": setting.repeatable}
    if setting.choices:
        kwargs["type"] = click.Choice(setting.choices)
    elif setting.kind in ("integer", "number"):
        kwargs["type"] = int if setting.kind == "integer" else float
        kwargs["callback"] = _in_range(setting)
    elif setting.kind == "paths":
        kwargs["type"] = click.Path(path_type=Path)
    elif setting.kind == "boolean" and not setting.negatable:
        kwargs["is_flag"] = True
    if setting.repeatable:
        kwargs["default"] = ()
    kwargs.update(changes)
    return click.option(flag, name, **kwargs)


def options(*names: str) -> Callable[[F], F]:
    """Several settings' options, in the order given."""
    def decorate(command: F) -> F:
        for name in reversed(names):
            command = option(name)(command)
        return command

    return decorate


config_option = click.option("--config", "config_path", type=click.Path(path_type=Path),
                             help="TOML config file (see config.example.toml).")

SELECTION = ("checks", "skip_checks", "checks_dirs")


def selection_options(command: F) -> F:
    """--config, --checks, --skip-checks and --checks-dir, for every command that selects."""
    return config_option(options(*SELECTION)(command))


def emit(report: Report, formats: Sequence[str], output: str | None, profile: str | None,
         quiet: bool = False) -> list[str]:
    """The one way a command puts out a report: to `--output` (a file, a directory or S3),
    else each format on standard output. Returns where each format was written, in the order
    of `formats` (none for standard output)."""
    if output:
        written = deliver(report, formats, output, profile)
        _wrote(written, quiet)
        return written
    for fmt in formats:
        if fmt == "table":
            # Fitted only to a terminal: a pipe or a log keeps a finding to a line, for grep.
            click.echo(table.render(report, table.terminal_width(sys.stdout)), nl=False)
        else:
            click.echo(render(report, fmt), nl=False)
    return []


def send_deliveries(planned: deliveries.Plan, report: Report, formats: Sequence[str],
                    written: Sequence[str], profile: str | None, quiet: bool) -> None:
    """Once the report is written (`written`: where each of `formats` went): each delivery,
    a failed one in one line on stderr, and the JSON written again with what became of each.
    Nothing here raises or changes the exit code."""
    if planned.empty:
        return
    done = deliveries.send(planned, report, written, datetime.now(UTC))
    for delivery in done:
        if delivery.failed:
            click.echo(f"auditor: {delivery.line()}", err=True)
        elif not quiet:
            click.echo(f"{delivery.status} {delivery.target}: {delivery.reason}", err=True)
    # On standard output (nothing written) the JSON is already out: the lines above say it.
    places = dict(zip(formats, written, strict=True)) if written else {}
    if "json" in places:
        try:
            write_again(replace(report, delivery=done), "json", places["json"], profile)
        except ReportError as exc:
            click.echo(f"auditor: {exc}; {places['json']} stands as written before the "
                       "deliveries", err=True)


def emit_text(text: str, output: Path | None, what: str, quiet: bool = False) -> None:
    """The same for a document that is not a report (a diff, a trend): to the file
    `--output`, atomically, else on standard output."""
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text, what)
    _wrote([str(output)], quiet)


def _wrote(places: Sequence[str], quiet: bool) -> None:
    """`wrote PATH` on stderr for each file written, unless quiet."""
    for where in places:
        if not quiet:
            click.echo(f"wrote {where}", err=True)
