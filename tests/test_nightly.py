"""A nightly job, two nights in one emulated account, through the real command line:

night 1 scans and saves the JSON; during the day someone fixes one problem, causes another
and tags a role `auditor:ignore` (plain boto3 writes into the emulator); night 2, a day later,
scans with
`--baseline night1.json`. Night 2 reports only what is new (and a finding whose suppression
expired overnight), says how many it baselined, exits 1 on the new high finding, and
`auditor diff` shows exactly one new and one resolved finding.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from auditor.demo import Demo
from auditor.scan import Environment, scan
from tests.deliver.conftest import serve
from tests.shared_demo import SharedDemo
from tests.test_demo_scan import CORE_CHECKS


class Nights:
    """Runs `auditor scan` against the live demo account, at the demo's time plus `days`."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.days = 0

    def scan(self, config: Any, env: Environment | None = None,
             now: datetime | None = None) -> Any:
        env = env or Environment()
        return scan(config, Environment(hooks=(*self.demo.extra_hooks, *env.hooks), demo=True),
                    self.demo.account.now + timedelta(days=self.days))


@pytest.fixture
def nights(shared_demo: SharedDemo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Nights]:
    # The day's changes are this test's own: a copy of the demo account as it was seeded.
    with shared_demo.copy().active() as demo:
        runner = Nights(demo)
        # The command's own scan, pointed at the emulator with the demo's missing-API answers.
        monkeypatch.setattr("auditor.cli.scan.scan", runner.scan)
        yield runner


def auditor(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def fix_one_problem_and_cause_another(demo: Demo) -> tuple[str, str]:
    """notify-sms gets its own role (notify-role is no longer shared); a new function reuses
    edge-auth-role (now shared). Returns (resolved role ARN, newly shared role ARN)."""
    iam = boto3.client("iam")
    trust = iam.get_role(RoleName="notify-role")["Role"]["AssumeRolePolicyDocument"]
    own = iam.create_role(RoleName="notify-sms-role", AssumeRolePolicyDocument=json.dumps(trust))
    lam = boto3.client("lambda", region_name="us-east-1")
    lam.update_function_configuration(FunctionName="notify-sms", Role=own["Role"]["Arn"])
    # And the team accepts the other shared role, on the role itself.
    iam.tag_role(RoleName="orders-task-role",
                 Tags=[{"Key": "auditor:ignore", "Value": "iam.shared_role"}])
    edge_role = demo.account.arns["iam.role.edge-auth-role"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("index.py", "def handler(event, context):\n    return None\n")
    lam.create_function(FunctionName="edge-audit", Runtime="python3.13", Role=edge_role,
                        Handler="index.handler", Code={"ZipFile": archive.getvalue()},
                        Architectures=["arm64"])
    return demo.account.arns["iam.role.notify-role"], edge_role


def test_two_nights_with_a_baseline_a_diff_and_an_expired_suppression(
        nights: Nights, tmp_path: Path) -> None:
    demo = nights.demo
    reporting = demo.account.arns["ecs.service.reporting"]
    today = demo.account.now.date()
    config = tmp_path / "auditor.toml"
    config.write_text(
        f'checks = {json.dumps(list(CORE_CHECKS))}\n'
        f'regions = {json.dumps(list(demo.account.regions))}\n'
        '[[suppressions]]\nchecks = ["ecs.task_overprovisioned"]\n'
        f'resources = ["{reporting}"]\nreason = "sized for the quarter-end batch"\n'
        f"expires = {today.isoformat()}\n")
    night1, night2 = tmp_path / "night1.json", tmp_path / "night2.json"

    first = auditor("scan", "--config", str(config), "--format", "json", "--output", str(night1))
    assert first.exit_code == 0, first.output
    before = json.loads(night1.read_text())
    [held] = [f for f in before["findings"] if f["resource_arn"] == reporting]
    assert held["suppressed"] and held["suppression_reason"] == (
        f"sized for the quarter-end batch (until {today.isoformat()})")

    resolved_role, shared_role = fix_one_problem_and_cause_another(demo)
    nights.days = 1
    second = auditor("scan", "--config", str(config), "--baseline", str(night1),
                     "--format", "json", "--output", str(night2), "--fail-on", "high")
    assert second.exit_code == 1, second.output  # the new shared role is high
    after = json.loads(night2.read_text())
    reported = [f for f in after["findings"] if not f["suppressed"] and not f.get("baselined")]
    assert {(f["check_id"], f["resource_arn"]) for f in reported} == {
        ("iam.shared_role", shared_role), ("ecs.task_overprovisioned", reporting)}
    [back] = [f for f in reported if f["resource_arn"] == reporting]
    assert back["suppression_reason"] == (f"suppression expired on {today.isoformat()}: "
                                          "sized for the quarter-end batch")
    [tagged] = [f for f in after["findings"]
                if f["resource_arn"] == demo.account.arns["iam.role.orders-task-role"]]
    assert tagged["suppressed"] and tagged["suppression_reason"] == "resource tag auditor:ignore"
    assert tagged["resource_tags"]["auditor:ignore"] == "iam.shared_role"
    baselined = after["summary"]["baselined"]
    # All of night 1's but the resolved one, the one suppressed then and the one tagged now.
    assert baselined == len(before["findings"]) - 3
    assert f", {baselined} baselined," in second.stderr
    assert after["summary"]["findings_by_severity"]["high"] == 1

    diff = auditor("diff", str(night1), str(night2), "--format", "json")
    assert diff.exit_code == 0, diff.output
    changes = json.loads(diff.stdout)
    assert [(f["check_id"], f["resource_arn"]) for f in changes["new"]] == [
        ("iam.shared_role", shared_role)]
    assert [(f["check_id"], f["resource_arn"]) for f in changes["resolved"]] == [
        ("iam.shared_role", resolved_role)]
    assert changes["unchanged"] == len(before["findings"]) - 1
    # The emulated metrics stop where the account was seeded, a day before night 2: its
    # priced usage drops with that day, and the diff reports exactly the reports' difference.
    assert changes["current_monthly_usd_change"] == pytest.approx(
        after["summary"]["total_current_monthly_usd"]
        - before["summary"]["total_current_monthly_usd"], abs=0.005)
    assert changes["monthly_savings_usd_change"] == pytest.approx(
        after["summary"]["total_monthly_savings_usd"]
        - before["summary"]["total_monthly_savings_usd"], abs=0.005)
    table = auditor("diff", str(night1), str(night2))
    assert "NEW (1)" in table.stdout and "RESOLVED (1)" in table.stdout


def _hub_states() -> dict[str, str]:
    hub = boto3.client("securityhub", region_name="us-east-1")
    return {record["Id"]: record["RecordState"]
            for page in hub.get_paginator("get_findings").paginate()
            for record in page["Findings"]}


def test_the_second_night_notifies_exactly_what_changed_and_security_hub_follows(
        nights: Nights, tmp_path: Path) -> None:
    """Night 2 runs with `--baseline`, `--notify` (a real local HTTP receiver) and
    `--security-hub` (the emulator's): the message names the one new and the one resolved
    finding, and Security Hub holds the new one ACTIVE and the resolved one ARCHIVED."""
    demo = nights.demo
    boto3.client("securityhub", region_name="us-east-1").enable_security_hub()
    config = tmp_path / "auditor.toml"
    config.write_text(f'checks = {json.dumps(list(CORE_CHECKS))}\n'
                      f'regions = {json.dumps(list(demo.account.regions))}\n')
    night1, night2 = tmp_path / "night1.json", tmp_path / "night2.json"
    first = auditor("scan", "--config", str(config), "--format", "json", "--output",
                    str(night1), "--security-hub")
    assert first.exit_code == 0, first.output
    imported = json.loads(night1.read_text())["delivery"]
    assert [(d["target"], d["status"]) for d in imported] == [
        ("securityhub:us-east-1", "sent")], imported

    resolved_role, shared_role = fix_one_problem_and_cause_another(demo)
    nights.days = 1
    with serve() as receiver:
        second = auditor("scan", "--config", str(config), "--baseline", str(night1),
                         "--format", "json", "--output", str(night2), "--fail-on", "high",
                         "--notify", f"webhook+{receiver.url}", "--security-hub")
    assert second.exit_code == 1, second.output  # the new shared role is high, as without
    [message] = receiver.accepted
    assert [(f["check_id"], f["resource_arn"]) for f in message["new"]] == [
        ("iam.shared_role", shared_role)]
    assert [(f["check_id"], f["resource_arn"]) for f in message["resolved"]] == [
        ("iam.shared_role", resolved_role)]
    assert message["baseline_generated_at"] == json.loads(night1.read_text())["generated_at"]

    after = json.loads(night2.read_text())
    assert [(d["target"], d["status"]) for d in after["delivery"]] == [
        ("webhook+http://127.0.0.1/…/****", "sent"), ("securityhub:us-east-1", "sent")]
    assert receiver.url not in second.stderr and "XXXXSECRET" not in night2.read_text()
    before = {(f["check_id"], f["resource_arn"]): f["fingerprint"]
              for f in json.loads(night1.read_text())["findings"]}
    now = {(f["check_id"], f["resource_arn"]): f["fingerprint"] for f in after["findings"]}
    states = _hub_states()
    assert states[now[("iam.shared_role", shared_role)]] == "ACTIVE"
    assert states[before[("iam.shared_role", resolved_role)]] == "ARCHIVED"
