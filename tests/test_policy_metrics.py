"""The policy evaluator and client-side percentiles, on their own."""

from __future__ import annotations

import pytest

from auditor.metrics import percentile
from auditor.model import PolicyDocument, PolicyStatement
from auditor.policy import allows


def doc(*statements: PolicyStatement) -> list[PolicyDocument]:
    return [PolicyDocument("p", statements)]


def stmt(effect: str = "Allow", actions: tuple[str, ...] = (), not_actions: tuple[str, ...] = (),
         resources: tuple[str, ...] = ("*",), condition: bool = False) -> PolicyStatement:
    return PolicyStatement(effect, actions, not_actions, resources, (), condition)


def test_wildcards_in_actions_are_case_insensitive() -> None:
    assert allows(doc(stmt(actions=("ECR:Get*",))), "ecr:GetAuthorizationToken")
    assert not allows(doc(stmt(actions=("ecr:Get*",))), "ecr:BatchGetImage")


def test_resource_wildcards() -> None:
    policy = doc(stmt(actions=("s3:GetObject",), resources=("arn:aws:s3:::bucket/*",)))
    assert allows(policy, "s3:GetObject", "arn:aws:s3:::bucket/key")
    assert not allows(policy, "s3:GetObject", "arn:aws:s3:::other/key")


def test_explicit_deny_wins_over_allow_across_statements_and_documents() -> None:
    policies = doc(stmt(actions=("*",))) + doc(stmt("Deny", actions=("iam:*",)))
    assert allows(policies, "ec2:DescribeVpcs")
    assert not allows(policies, "iam:PassRole")


def test_not_action_allows_everything_else() -> None:
    policy = doc(stmt(not_actions=("iam:*",)))
    assert allows(policy, "secretsmanager:GetSecretValue")
    assert not allows(policy, "iam:CreateUser")


def test_conditional_deny_is_not_trusted_to_apply() -> None:
    policy = doc(stmt(actions=("*",)), stmt("Deny", actions=("*",), condition=True))
    assert allows(policy, "s3:GetObject")


def test_nothing_is_allowed_by_default() -> None:
    assert not allows([], "s3:GetObject")


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(101)), 99) == 99
    assert percentile([], 95) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)
