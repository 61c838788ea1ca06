"""End to end on the demo account: the real collectors, checks and reports, with each check
firing on its planted problem and staying quiet on its clean twin, and failures injected.

Scans read the account seeded once per test run (`shared_demo`); the command-line test
also runs `auditor scan --demo` as the README's first command does, seeding its own. How long
that takes is a figure bench/demo.py prints, not a pass/fail test here."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.config import Config
from auditor.demo import DemoAccount
from auditor.engine import Registry
from auditor.report.document import Report, to_dict
from auditor.report.json_ import schema
from auditor.scan import Environment, scan
from tests.faults import Throttle, deny
from tests.shared_demo import SharedDemo

CORE_CHECKS = ("network.private_subnet_no_egress", "iam.shared_role",
               "ecs.task_overprovisioned", "lambda.provisioned_concurrency_waste")
REGISTRY = Registry.build(include_entry_points=False)
METRIC_CHECKS = tuple(c.id for c in REGISTRY.checks if "cloudwatch.metrics" in c.requires)
Hook = tuple[str, Callable[..., Any]]


def demo_scan(shared: SharedDemo, *hooks: Hook, config: Config | None = None
              ) -> tuple[Report, DemoAccount]:
    with shared.active() as demo:
        env = Environment(hooks=(*demo.extra_hooks, *hooks), demo=True)
        base = config or Config()
        report = scan(Config(**{**base.__dict__, "regions": demo.account.regions}), env,
                      demo.account.now)
        return report, demo.account


@pytest.fixture(scope="module")
def clean(shared_demo: SharedDemo, demo_report: Report) -> tuple[Report, DemoAccount]:
    return demo_report, shared_demo.account


def by_check(report: Report, status: str = "fail") -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        if finding.status == status:
            found.setdefault(finding.check_id, set()).add(finding.resource_arn)
    return found


@pytest.mark.parametrize("check_id", REGISTRY.ids)
def test_each_check_fires_on_its_planted_problem_and_not_its_clean_twin(
        clean: tuple[Report, DemoAccount], check_id: str) -> None:
    report, account = clean
    if check_id not in account.planted:
        pytest.skip(f"the demo account plants no problem for {check_id}")
    flagged = by_check(report).get(check_id, set())
    assert set(account.planted[check_id]) <= flagged
    assert not set(account.clean[check_id]) & flagged
    assert flagged == set(account.planted[check_id])


def test_clean_demo_has_no_errors_and_no_unknowns(clean: tuple[Report, DemoAccount]) -> None:
    report, _ = clean
    assert report.errors == ()
    assert by_check(report, "unknown") == {}


def test_json_report_validates_against_the_shipped_schema(
        clean: tuple[Report, DemoAccount]) -> None:
    document = to_dict(clean[0])
    jsonschema.Draft202012Validator(schema()).validate(document)
    severities = [f["severity"] for f in document["findings"]]
    assert document["summary"]["findings_by_severity"]["high"] == severities.count("high") > 0
    every_saving = [f["monthly_savings_usd"] for f in document["findings"]
                    if f["check_id"] in ("ecs.task_overprovisioned", "ecs.idle_service",
                                         "lambda.provisioned_concurrency_waste")]
    assert all(saving and saving > 0 for saving in every_saving)


def fingerprints(report: Report, checks: tuple[str, ...], status: str | None = None
                 ) -> set[tuple[str, str, float | None]]:
    """What must not change between runs (the emulator's subnet IDs do, so messages may)."""
    return {(f.fingerprint, f.status, f.monthly_savings_usd) for f in report.findings
            if f.check_id in checks and status in (None, f.status)}


def test_access_denied_on_lambda_is_recorded_and_leaves_other_findings_intact(
        clean: tuple[Report, DemoAccount], shared_demo: SharedDemo) -> None:
    report, account = demo_scan(shared_demo, deny("lambda"))
    denied = [e for e in report.errors if e.service == "lambda"]
    assert denied and all(e.code == "AccessDeniedException" for e in denied)
    assert {e.operation for e in denied} >= {"ListFunctions"}
    assert all("lambda.provisioned_concurrency_waste" in e.checks_affected
               for e in denied if e.operation == "ListFunctions")
    unknown = by_check(report, "unknown")
    # Shared-role verdicts rest on what was seen; roles no longer provable unshared go unknown.
    assert "lambda.provisioned_concurrency_waste" in unknown
    assert "iam.shared_role" in unknown
    assert account.planted["iam.shared_role"][0] in by_check(report)["iam.shared_role"]
    untouched = ("network.private_subnet_no_egress", "ecs.task_overprovisioned")
    assert fingerprints(report, untouched, "fail") == fingerprints(clean[0], untouched, "fail")
    # The network check could not judge functions; its ECS and EKS verdicts stand.
    assert {f.resource_type for f in report.findings if f.status == "unknown"
            and f.check_id == "network.private_subnet_no_egress"} == {"lambda-function"}


def test_throttled_cloudwatch_is_recorded_and_only_metric_checks_go_unknown(
        clean: tuple[Report, DemoAccount], shared_demo: SharedDemo) -> None:
    throttle = Throttle("cloudwatch", "GetMetricData")
    report, _ = demo_scan(shared_demo, throttle.hook, config=Config(max_attempts=2))
    errors = [e for e in report.errors if e.operation == "GetMetricData"]  # one per region
    assert errors and all(e.code == "Throttling" for e in errors)
    # Each region's error names the checks that read series there; together, all of them.
    assert all(set(e.checks_affected) <= set(METRIC_CHECKS) for e in errors)
    assert set().union(*(e.checks_affected for e in errors)) == set(METRIC_CHECKS)
    assert all(e.resources for e in errors), "a metrics failure names the subjects it blocks"
    assert throttle.sent >= 2, "the client retried before giving up"
    unknown = by_check(report, "unknown")
    assert set(unknown) == set(METRIC_CHECKS)
    assert not set(METRIC_CHECKS) & set(by_check(report))
    untouched = ("network.private_subnet_no_egress", "iam.shared_role")
    assert fingerprints(report, untouched) == fingerprints(clean[0], untouched)


def test_a_throttling_burst_is_retried_and_the_scan_completes(
        clean: tuple[Report, DemoAccount], shared_demo: SharedDemo) -> None:
    throttle = Throttle("cloudwatch", "GetMetricData", times=2)
    report, _ = demo_scan(shared_demo, throttle.hook)
    assert report.errors == ()
    assert fingerprints(report, CORE_CHECKS) == fingerprints(clean[0], CORE_CHECKS)


def test_cli_demo_json_to_file_is_private_and_valid_and_fail_on_sets_the_exit_code(
        tmp_path: Path, shared_demo: SharedDemo, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["scan", "--demo", "--format", "json", "--output",
                                       str(out), "--fail-on", "high"])
    assert result.exit_code == 1, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert result.stderr.strip().splitlines()[-1].startswith(
        f"compute-auditor: {len(document['findings'])} findings")
    # The first run seeded its own account; this one needs no fresh seeding.
    monkeypatch.setattr("auditor.demo.demo_environment", shared_demo.environment)
    quiet = CliRunner().invoke(main, ["scan", "--demo", "--fail-on", "critical",
                                      "--checks", "iam.*"])
    assert quiet.exit_code == 0, quiet.output
    assert "role/orders-task-role" in quiet.output
