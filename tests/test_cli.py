"""The command line: help everywhere, one clear line for bad input, listing and policy."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from auditor.cli import main


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "auditor")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text("lookbak_days = 3\n")
    result = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"auditor: error: {config}: unknown key 'lookbak_days'; "
                     "did you mean 'lookback_days'?"]
    assert "Traceback" not in result.output


def test_unknown_check_glob_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(main, ["checks", "--checks", "ecs.task_overprovisiond"])
    assert result.exit_code == 2
    assert "did you mean ecs.task_overprovisioned" in result.stderr


def test_checks_lists_ids_with_actions_as_json() -> None:
    result = CliRunner().invoke(main, ["checks", "--format", "json"])
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert "ecs:DescribeServices" in rows["ecs.task_overprovisioned"]["iam_actions"]
    assert rows["lambda.provisioned_concurrency_waste"]["parameters"]["max_utilization"] == 0.3


def test_iam_policy_is_read_only_and_follows_the_selection() -> None:
    result = CliRunner().invoke(main, ["iam-policy", "--checks", "iam.*"])
    assert result.exit_code == 0
    [statement] = json.loads(result.output)["Statement"]
    actions = statement["Action"]
    assert actions == sorted(actions)
    assert "iam:GetAccountAuthorizationDetails" in actions
    assert "cloudwatch:GetMetricData" not in actions
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in actions)


def test_no_credentials_exits_3_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(main, ["scan", "--region", "us-east-1"])
    assert result.exit_code == 3
    assert "cannot identify the AWS account" in result.stderr
    assert "Traceback" not in result.output
