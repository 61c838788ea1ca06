"""Progress on stderr: live counts per account, region and service on a terminal, and only
there (the command line's log and --quiet cases are in test_exit_codes)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import boto3
import pytest

from auditor.config import Config
from auditor.progress import Progress
from auditor.scan import Environment, scan


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_not_when_quiet() -> None:
    assert Progress.for_stream(io.StringIO()) is None
    assert Progress.for_stream(Terminal(), quiet=True) is None
    assert isinstance(Progress.for_stream(Terminal()), Progress)


@pytest.mark.usefixtures("aws")
def test_a_scan_shows_calls_per_region_and_service_then_clears_the_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    boto3.client("ecs").create_cluster(clusterName="prod")
    terminal = Terminal()
    progress = Progress(terminal, interval=0.0)
    scan(Config(regions=("us-east-1",), checks=("ecs.single_task_service",)),
         Environment(hooks=progress.hooks))
    progress.finish()
    frames = terminal.getvalue().split("\r")
    last = frames[-2]
    total = sum(progress.calls.values())
    assert last.startswith(f"scanning 123456789012 · {total} API calls · us-east-1: ")
    assert "ecs 2 " in last and "sts 1" in last
    assert last.endswith("\x1b[K")
    monkeypatch.setenv("COLUMNS", "40")
    cut = progress.line()
    assert len(cut) == 39 and cut.endswith("…")
    assert cut.startswith(f"scanning 123456789012 · {total} API calls"), "the total stays"
    assert frames[-1] == "\x1b[K", "the line is cleared for the summary"


def test_failed_calls_are_counted_and_redraws_are_throttled() -> None:
    clock = iter([0.0, 0.01, 0.5])
    terminal = Terminal()
    progress = Progress(terminal, interval=0.1, clock=lambda: next(clock))
    model = SimpleNamespace(name="DescribeServices",
                            service_model=SimpleNamespace(service_name="ecs"))
    context = {"client_region": "us-east-1"}
    progress.after_call(model=model, parsed={}, context=context)
    progress.after_call(model=model, parsed={"Error": {"Code": "AccessDenied"}}, context=context)
    progress.after_error(model=model, context=context)
    assert terminal.getvalue().count("\r") == 2, "the second call came too soon to redraw"
    assert progress.line() == "scanning · 3 API calls, 2 failed · us-east-1: ecs 3"
