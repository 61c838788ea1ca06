"""Exit codes (SPEC §2), each through the real command line against an emulated account:
0 nothing at or above --fail-on, 1 something is, 2 usage or config error, 3 nothing collected,
4 nothing failed at or above --fail-on but some of it could not be checked.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from auditor.findings import Category, Finding, Severity, Status
from auditor.report.document import Report, Stats
from tests.conftest import isolated_ecs_service

NETWORK = ("--region", "us-east-1", "--checks", "network.private_subnet_no_egress")


@pytest.fixture
def isolated_service(aws: None) -> str:
    """One ECS service in a subnet with no way out: a high finding."""
    return isolated_ecs_service()


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["scan", *args])


@pytest.mark.usefixtures("isolated_service")
def test_0_when_nothing_is_at_or_above_fail_on() -> None:
    result = run(*NETWORK, "--fail-on", "critical", "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"severity": "high"' in result.stdout
    # stderr is a log here, not a terminal: the summary line only, no progress.
    assert result.stderr.startswith("compute-auditor: 1 findings (critical=0 high=1")
    assert "\r" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.usefixtures("isolated_service")
def test_1_when_a_finding_is_at_or_above_fail_on() -> None:
    result = run(*NETWORK, "--fail-on", "high", "--format", "json", "--quiet")
    assert result.exit_code == 1, result.output
    assert "service/prod/api" in result.stdout
    assert result.stderr == "", "--quiet: no progress, no summary"


def test_0_when_the_only_finding_at_fail_on_is_suppressed(tmp_path: Path,
                                                          isolated_service: str) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text(f'fail_on = "high"\n[[suppressions]]\nresources = ["{isolated_service}"]\n'
                      'reason = "a batch job that needs no network"\n')
    result = run(*NETWORK, "--config", str(config), "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"suppression_reason": "a batch job that needs no network"' in result.stdout
    assert "0 findings (critical=0 high=0" in result.stderr and "1 suppressed" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--fail-on", "severe"), "Invalid value for '--fail-on'"),
    (("--format", "pdf"), "Invalid value for '--format'"),
    (("--baseline", "missing.json"), "missing.json: no such report file"),
    (("--config", "missing.toml"), "missing.toml: no such config file"),
    (("--lookback-days", "0"), "'--lookback-days': must be between 1 and 455"),
    (("--format", "json", "--format", "csv", "--output", "out.json"),
     "--output out.json looks like one file, but 2 formats were asked for"),
])
def test_2_on_a_usage_or_config_error(args: tuple[str, ...], message: str) -> None:
    result = run(*NETWORK, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_2_on_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    foreign = tmp_path / "other.json"
    foreign.write_text('{"version": "2.1.0", "runs": []}')
    result = run(*NETWORK, "--baseline", str(foreign))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"auditor: error: {foreign}: not a compute-auditor report "
        "(no tool.name 'compute-auditor' and schema_version)"]


def test_3_when_nothing_can_be_collected(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    """Every call fails (here the endpoint refuses connections): exit 3, one line."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    config = tmp_path / "auditor.toml"
    config.write_text("max_attempts = 1\n")
    result = run(*NETWORK, "--config", str(config))
    assert result.exit_code == 3, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("auditor: error: cannot identify the AWS account")


@pytest.mark.usefixtures("demo_cli")
def test_4_when_verdicts_at_fail_on_could_not_be_checked_and_0_only_when_allowed() -> None:
    # A region that answers nothing (not enabled for the account): every verdict there is
    # unknown. To a scheduler, 0 is a pass: this run must not exit 0.
    args = ("--demo", "--region", "mars-north-9", "--fail-on", "high", "--format", "json")
    unchecked = run(*args)
    assert unchecked.exit_code == 4, unchecked.output
    assert '"status": "fail"' not in unchecked.stdout
    assert '"status": "unknown"' in unchecked.stdout
    allowed = run(*args, "--allow-unknown")
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.count('"status": "unknown"') == unchecked.stdout.count(
        '"status": "unknown"')


def verdict(status: Status, severity: Severity) -> Finding:
    return Finding("x.check", "t", severity, Category.RELIABILITY, status,
                   f"arn:aws:lambda:us-east-1:1:function:{status}{severity.value}",
                   "lambda-function", "1", "us-east-1", "m", {}, "r")


@pytest.mark.parametrize(("verdicts", "fail_on", "allow", "code"), [
    ((("fail", Severity.HIGH), ("unknown", Severity.HIGH)), Severity.HIGH, False, 1),
    ((("unknown", Severity.CRITICAL),), Severity.HIGH, False, 4),
    ((("unknown", Severity.CRITICAL),), Severity.HIGH, True, 0),
    ((("unknown", Severity.MEDIUM), ("fail", Severity.LOW)), Severity.HIGH, False, 0),
    ((("unknown", Severity.CRITICAL),), None, False, 0),
])
def test_exit_code_from_the_verdicts(verdicts: tuple[tuple[Status, Severity], ...],
                                     fail_on: Severity | None, allow: bool, code: int) -> None:
    report = Report(datetime(2026, 11, 29, tzinfo=UTC), ("1",), ("us-east-1",), 14,
                    tuple(verdict(status, severity) for status, severity in verdicts), (),
                    Stats(0, {}, 0.0, 0, 0), (), {})
    assert report.exit_code(fail_on, allow) == code
