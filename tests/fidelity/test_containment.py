"""One failure costs only what depends on it: the demo scan, recorded once per test run,
replayed with one failure per case and judged against the clean replay (`containment.py` has
the oracle; `python -m tests.fidelity.containment` prints the table)."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.report.document import Report
from tests.fidelity.containment import Case, cases, changes, run, workload_changes
from tests.fidelity.recording import Recording, Replay, record_demo
from tests.shared_demo import SharedDemo, run_once


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    # Every replay fails calls on purpose; their warnings would bury the oracle's findings.
    caplog.set_level(logging.ERROR, logger="auditor")
    yield


# All cases replay one recording and judge against one clean replay, each made by the first
# test process of the run that needs it and loaded by the others (the cases spread over
# every xdist worker).
@pytest.fixture(scope="session")
def recording(shared_demo: SharedDemo, run_directory: Path) -> Recording:
    return run_once(run_directory, "recording.pickle", lambda: record_demo(shared_demo),
                    pickle.dumps, pickle.loads)


@pytest.fixture(scope="session")
def clean(recording: Recording, run_directory: Path) -> Report:
    return run_once(run_directory, "clean-replay.pickle", Replay(recording).scan, pickle.dumps,
                    pickle.loads)


def test_the_clean_replay_is_the_recorded_scan(recording: Recording, clean: Report) -> None:
    replay = Replay(recording)
    again = replay.scan()
    assert replay.misses == []
    assert clean.errors == () == recording.report.errors
    assert changes(recording.report, again) == []
    assert workload_changes(recording.report, again) == []
    assert not [f for f in clean.findings if f.status == "unknown"]


@pytest.mark.parametrize("case", cases(), ids=str)
def test_one_failure_costs_only_what_depends_on_it(recording: Recording, clean: Report,
                                                   case: Case) -> None:
    outcome = run(case, recording, clean)
    if outcome.skipped:
        pytest.skip(f"{case.operation}: {outcome.skipped}")
    assert not outcome.violations, outcome.explain()
