"""Ctrl-C and SIGTERM stop a scan for real: no call after the signal, no report file, the
shell's exit code, and a demo whose clients cannot reach AWS once the emulator is gone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import BotoCoreError

from auditor.config import Config
from auditor.demo import emulated_aws, refuse_to_send
from auditor.session import (
    CallStats,
    Cancelled,
    ClientFactory,
    resume_calls,
    stop_calls,
    worker_pool,
)
from tests.shared_demo import SCAN_DEMO_FROM_SNAPSHOT

ROOT = Path(__file__).resolve().parent.parent


def interrupted_scan(tmp_path: Path, snapshot: Path, sent: signal.Signals
                     ) -> tuple[int, str, str, Path]:
    """Start the demo scan in a process of its own (the demo account restored from the run's
    snapshot rather than seeded again), send `sent` once the scan is calling AWS; return its
    exit code, its stderr before and after the signal, and the path of the report it was to
    write."""
    output = tmp_path / "report.json"
    scan = subprocess.Popen(
        [sys.executable, "-c", SCAN_DEMO_FROM_SNAPSHOT, str(snapshot), "scan", "--demo",
         "--verbose", "--format", "json", "--output", str(output)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert scan.stderr is not None
    before = []
    for line in scan.stderr:
        before.append(line)
        if " call lambda:" in line:  # past seeding: the scan's own calls have started
            break
    scan.send_signal(sent)
    after = scan.stderr.read()
    code = scan.wait(timeout=120)
    return code, "".join(before), after, output


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_scan_with_the_shells_code_and_writes_nothing(
        tmp_path: Path, demo_snapshot: Path, sent: signal.Signals, code: int) -> None:
    exit_code, before, after, output = interrupted_scan(tmp_path, demo_snapshot, sent)
    stderr = before + after

    assert exit_code == code, stderr[-2000:]
    assert after.strip().endswith(f"auditor: interrupted by {sent.name}")
    assert "Traceback" not in stderr and "Aborted!" not in stderr
    # At most the calls already on their way when the signal came, one per worker; the scan
    # used to make 50-60 more.
    assert after.count(" call ") <= Config().max_workers, after
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []  # no temp file left behind either
    assert "amazonaws.com" not in stderr  # no call went looking for a real endpoint


def test_no_call_is_made_once_calls_are_stopped() -> None:
    with emulated_aws():
        factory = ClientFactory(boto3.Session(region_name="us-east-1"), CallStats())
        sts = factory.client("sts", "us-east-1")
        sts.get_caller_identity()
        stop_calls()
        try:
            with pytest.raises(Cancelled, match="interrupted"):
                sts.get_caller_identity()
        finally:
            resume_calls()
        assert sts.get_caller_identity()["Account"]


def test_an_interrupted_pool_cancels_the_work_it_has_not_started() -> None:
    started: list[int] = []

    def work(number: int) -> None:
        started.append(number)
        raise KeyboardInterrupt if number == 0 else None

    try:
        with pytest.raises(KeyboardInterrupt), worker_pool(1) as pool:
            futures = [pool.submit(work, number) for number in range(50)]
            futures[0].result()
        assert len(started) < 50
    finally:
        resume_calls()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    attempts: list[object] = []

    def refuse(address: object, *_: object, **__: object) -> socket.socket:
        attempts.append(address)
        raise AssertionError(f"a connection to {address} was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts


def test_a_demo_client_outliving_the_emulator_cannot_reach_aws(
        no_network: list[object]) -> None:
    with emulated_aws():
        sts = boto3.client("sts", region_name="us-east-1")
        sts.meta.events.register("before-send", refuse_to_send)
        assert sts.get_caller_identity()["Account"]

    with pytest.raises(BotoCoreError, match=r"does not call AWS.*sts\.us-east-1\.amazonaws\.com"):
        sts.get_caller_identity()
    assert no_network == []
