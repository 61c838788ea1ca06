"""An endpoint that does not answer is named, quickly (issue 16): a mistyped `AWS_ENDPOINT_URL`
is not a credentials problem, and a black hole is not waited on in silence for minutes."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from auditor.session import (
    UNREACHABLE,
    CallStats,
    ClientFactory,
    RetryPolicy,
    endpoint_source,
)


def _scan(tmp_path: Path, config: str = "") -> Result:
    path = tmp_path / "auditor.toml"
    path.write_text(config)
    return CliRunner().invoke(main, ["scan", "--region", "us-east-1", "--config", str(path),
                                     "--checks", "lambda.deprecated_runtime"])


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials that would do: only the endpoint is wrong."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _silent_server() -> Iterator[int]:
    """Accepts connections and never answers: every call waits for its read timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


@contextmanager
def _black_hole() -> Iterator[int]:
    """A port whose connections are never established: its accept queue is full, so the
    kernel drops new handshakes, as a firewall that drops packets does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    filling = []
    for _ in range(4):
        client = socket.socket()
        client.setblocking(False)
        with suppress(BlockingIOError):
            client.connect(("127.0.0.1", port))
        filling.append(client)
    time.sleep(0.2)
    try:
        yield port
    finally:
        for client in filling:
            client.close()
        server.close()


@pytest.mark.usefixtures("credentials")
def test_a_bogus_endpoint_is_named_not_blamed_on_credentials(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    port = _closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    result = _scan(tmp_path)
    assert result.exit_code == 3, result.output
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"auditor: error: cannot reach the AWS endpoint "
                            f"http://127.0.0.1:{port} (from AWS_ENDPOINT_URL): "
                            "EndpointConnectionError"), error
    assert "check AWS_ENDPOINT_URL" in error
    assert "credentials" not in error


@pytest.mark.usefixtures("credentials")
def test_an_endpoint_that_never_answers_is_reported_while_waited_for_and_given_up_on_soon(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="auditor")
    with _silent_server() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        # The scan's own timeouts: 8 attempts of 1 s, which its first call does not wait out.
        result = _scan(tmp_path, "read_timeout = 1\nmax_attempts = 8\n")
        waited = time.monotonic() - started
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().splitlines()[-1].startswith(
        f"auditor: error: cannot reach the AWS endpoint http://127.0.0.1:{port} (from "
        "AWS_ENDPOINT_URL): ReadTimeoutError: Read timeout on endpoint URL")
    # Two attempts of 1 s and a short back-off, not 8 attempts: the one "waiting" message below
    # counts them. The time is a hang guard only, 20x the expected 3 s: a busy machine adds
    # to it, and must not fail the test.
    assert waited < 60, waited
    [waiting] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert waiting.startswith(f"waiting for http://127.0.0.1:{port}/ (sts:GetCallerIdentity): "
                              "attempt 1 of 2 got no answer (Read timeout")
    assert waiting.endswith("trying again (5 s to connect, 1 s to answer)")


def test_a_connection_that_is_never_established_times_out_and_is_reported(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="auditor")
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="y",
                                    region_name="us-east-1")
    factory = ClientFactory(session, CallStats(),
                            RetryPolicy(max_attempts=3, connect_timeout=0.3, read_timeout=5))
    with _black_hole() as port:
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        started = time.monotonic()
        with pytest.raises(UNREACHABLE, match="Connect timeout"):
            factory.client("sts", "us-east-1").get_caller_identity()
        waited = time.monotonic() - started
    # 3 attempts of 0.3 s and adaptive back-off; the read timeout never starts (the error and
    # the messages below say so). The time is a hang guard only, 10x the expected 2 s.
    assert waited < 20, waited
    messages = [r.getMessage() for r in caplog.records]
    assert [m.split(" got ")[0] for m in messages] == [
        f"waiting for http://127.0.0.1:{port}/ (sts:GetCallerIdentity): attempt {n} of 3"
        for n in (1, 2)]
    assert all(m.endswith("(0.3 s to connect, 5 s to answer)") for m in messages)


def test_the_first_call_waits_less_than_the_scan_and_keeps_adaptive_retries() -> None:
    scan = RetryPolicy()
    first = scan.first_contact()
    assert (first.max_attempts, first.connect_timeout, first.read_timeout) == (2, 5.0, 10.0)
    worst = first.max_attempts * (first.connect_timeout + first.read_timeout)
    assert worst <= 30 < scan.max_attempts * scan.read_timeout
    for policy in (scan, first):
        config = policy.botocore_config()
        assert config.retries == {"mode": "adaptive", "max_attempts": policy.max_attempts}
        assert (config.connect_timeout, config.read_timeout) == (
            policy.connect_timeout, policy.read_timeout)
    # Never more patient than the scan was told to be.
    assert RetryPolicy(max_attempts=1, read_timeout=2).first_contact() == RetryPolicy(
        max_attempts=1, connect_timeout=5.0, read_timeout=2)


def test_the_endpoint_is_traced_to_the_variable_that_set_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS", raising=False)
    monkeypatch.delenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", raising=False)
    assert endpoint_source("sts") == ""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
    assert endpoint_source("sts") == "AWS_ENDPOINT_URL"
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://localhost:4567")
    assert endpoint_source("sts") == "AWS_ENDPOINT_URL_STS"
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    assert endpoint_source("sts") == ""
