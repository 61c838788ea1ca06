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
IAM_PREFIX = {"elbv2": "elasticloadbalancing", "elb": "elasticloadbalancing",
              "resourcegroupstaggingapi": "tag"}
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


DEMO_FLAGS = ("--bill",)
"""The demo scan reads the bill (`auditor scan --demo` does): the policy for the same flags."""


def test_every_operation_the_scan_calls_is_in_the_policy(called: set[str]) -> None:
    assert called - policy_actions(*DEMO_FLAGS) == set()


def test_the_policy_has_no_action_the_scan_never_needs(called: set[str]) -> None:
    assert policy_actions(*DEMO_FLAGS) - called - NOT_REACHED_BY_THE_DEMO == set()


def test_cost_explorer_is_granted_only_to_read_the_bill(called: set[str],
                                                        tmp_path: Path) -> None:
    assert "ce:GetCostAndUsage" in called
    config = tmp_path / "auditor.toml"
    config.write_text("[billing]\nenabled = true\n")
    assert "ce:GetCostAndUsage" in policy_actions("--config", str(config))
    assert "ce:GetCostAndUsage" not in policy_actions()
    assert "ce:GetCostAndUsage" not in policy_actions("--config", str(config), "--no-bill")


def test_shipped_policy_is_current() -> None:
    shipped = json.loads((ROOT / "deploy" / "iam-policy.json").read_text())
    result = CliRunner().invoke(main, ["iam-policy"])
    assert shipped == json.loads(result.output), (
        "regenerate it: auditor iam-policy > deploy/iam-policy.json")


OPTIMIZER_ACTIONS = {"compute-optimizer:GetEnrollmentStatus",
                     "compute-optimizer:GetLambdaFunctionRecommendations",
                     "compute-optimizer:GetECSServiceRecommendations"}


@pytest.fixture(scope="module")
def called_with_optimizer(optimizer_report: Report, demo_report: Report, called: set[str]
                          ) -> set[str]:
    """What `scan --compute-optimizer` calls: the demo scan's calls and Compute Optimizer's
    (whose IAM prefix is its botocore name)."""
    assert optimizer_report.errors == ()
    added = (set(optimizer_report.stats.api_calls_by_operation)
             - set(demo_report.stats.api_calls_by_operation))
    assert added == OPTIMIZER_ACTIONS
    return called | added


def test_with_compute_optimizer_the_policy_covers_its_calls_and_no_more(
        called_with_optimizer: set[str]) -> None:
    flagged = policy_actions(*DEMO_FLAGS, "--compute-optimizer")
    assert called_with_optimizer - flagged == set()
    assert flagged - called_with_optimizer - NOT_REACHED_BY_THE_DEMO == set()


def test_compute_optimizer_actions_come_only_with_the_flag_or_the_config(
        tmp_path: Path) -> None:
    assert policy_actions("--compute-optimizer") - policy_actions() == OPTIMIZER_ACTIONS
    config = tmp_path / "auditor.toml"
    config.write_text("[compute_optimizer]\nenabled = true\n")
    assert policy_actions("--config", str(config)) == policy_actions("--compute-optimizer")
    assert policy_actions("--config", str(config), "--no-compute-optimizer") == policy_actions()
    # Its recommendations sit beside priced workloads: with no check pricing them, none.
    assert not policy_actions("--checks", "iam.*", "--compute-optimizer") & OPTIMIZER_ACTIONS


COMMITMENT_ACTIONS = {"savingsplans:DescribeSavingsPlans", "savingsplans:DescribeSavingsPlanRates",
                      "ce:GetSavingsPlansCoverage", "ec2:DescribeReservedInstances"}
"""What the effective rates rest on: Savings Plans, their coverage, Reserved Instances."""


def test_savings_plans_and_reserved_instances_are_read_only_with_the_bill(
        called: set[str]) -> None:
    assert called >= COMMITMENT_ACTIONS
    assert policy_actions("--bill") >= COMMITMENT_ACTIONS
    assert not policy_actions() & COMMITMENT_ACTIONS
    # They discount priced workloads: with no check pricing them, none.
    assert not policy_actions("--checks", "iam.*", "--bill") & COMMITMENT_ACTIONS
