"""The least-privilege policy is exact: every operation a full demo scan calls is in it, and it
holds no action the scan never needs. deploy/iam-policy.json is the same policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.datasets import DATASETS
from auditor.report.document import Report

ROOT = Path(__file__).resolve().parent.parent
# botocore's service name where IAM's action prefix differs.
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing"}
# Declared actions a run on the demo account cannot reach, each with why.
NOT_REACHED_BY_THE_DEMO = {
    # Container instances exist only behind EC2-launched services; the demo is all Fargate.
    "ecs:ListContainerInstances", "ecs:DescribeContainerInstances",
}


def policy_actions(*args: str) -> set[str]:
    result = CliRunner().invoke(main, ["iam-policy", *args])
    assert result.exit_code == 0, result.output
    [statement] = json.loads(result.output)["Statement"]
    return set(statement["Action"])


# The IAM action of a call IAM names otherwise (API Gateway reads are all `apigateway:GET`).
AUTHORISED_AS = {call: action for dataset in DATASETS.values() if dataset.operations
                 for call in dataset.operations for action in dataset.iam_actions}


@pytest.fixture(scope="module")
def called(demo_report: Report) -> set[str]:
    assert demo_report.errors == ()
    actions = set()
    for key in demo_report.stats.api_calls_by_operation:
        service, operation = key.split(":")
        actions.add(AUTHORISED_AS.get(key, f"{IAM_PREFIX.get(service, service)}:{operation}"))
    return actions


def test_every_operation_the_scan_calls_is_in_the_policy(called: set[str]) -> None:
    assert called - policy_actions() == set()


def test_the_policy_has_no_action_the_scan_never_needs(called: set[str]) -> None:
    assert policy_actions() - called - NOT_REACHED_BY_THE_DEMO == set()


def test_shipped_policy_is_current() -> None:
    shipped = json.loads((ROOT / "deploy" / "iam-policy.json").read_text())
    result = CliRunner().invoke(main, ["iam-policy"])
    assert shipped == json.loads(result.output), (
        "regenerate it: auditor iam-policy > deploy/iam-policy.json")
