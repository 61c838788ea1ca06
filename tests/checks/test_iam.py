"""iam.shared_role: runtime roles shared by several workloads; shared execution roles only when
they can read any secret."""

from __future__ import annotations

import pytest

from auditor.model import Inventory
from checks.iam import SharedRole
from tests import factories as f


def run(inventory: Inventory) -> list:  # type: ignore[type-arg]
    check = SharedRole()
    return list(check.evaluate(inventory, f.context(check)))


@pytest.mark.fires("iam.shared_role")
def test_task_role_used_by_two_services_fails_naming_both() -> None:
    shared = f.role("orders-task")
    a = f.task_definition("a", task_role=shared.arn)
    b = f.task_definition("b", task_role=shared.arn)
    services = (f.service("a", a), f.service("b", b))
    [finding] = run(Inventory(iam_roles=(shared,), task_definitions=(a, b),
                              ecs_services=services))
    assert finding.resource_arn == shared.arn
    assert finding.resource_type == "iam-role"
    assert finding.evidence["used_by"] == sorted(s.arn for s in services)
    assert "2 workloads (a, b)" in finding.message


@pytest.mark.quiet("iam.shared_role")
def test_own_role_per_service_passes() -> None:
    a = f.task_definition("a", task_role=f.role("a").arn)
    b = f.task_definition("b", task_role=f.role("b").arn)
    assert run(Inventory(task_definitions=(a, b),
                         ecs_services=(f.service("a", a), f.service("b", b)))) == []


def test_lambda_execution_role_shared_by_two_functions_fails() -> None:
    shared = f.role("lambda-shared")
    functions = (f.function("one", shared.arn), f.function("two", shared.arn))
    [finding] = run(Inventory(iam_roles=(shared,), lambda_functions=functions))
    assert len(finding.evidence["used_by"]) == 2


@pytest.mark.quiet("iam.shared_role")
def test_shared_execution_role_is_normal_when_secrets_are_scoped() -> None:
    scoped = f.role("exec", (f.allow(("secretsmanager:GetSecretValue",),
                                     ("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-*",)),
                             f.allow(("ecr:*", "logs:*"))))
    a = f.task_definition("a", execution_role=scoped.arn)
    b = f.task_definition("b", execution_role=scoped.arn)
    assert run(Inventory(iam_roles=(scoped,), task_definitions=(a, b),
                         ecs_services=(f.service("a", a), f.service("b", b)))) == []


@pytest.mark.fires("iam.shared_role")
def test_shared_execution_role_that_reads_any_secret_fails() -> None:
    broad = f.role("exec", (f.allow(("secretsmanager:Get*",)),))
    a = f.task_definition("a", execution_role=broad.arn)
    b = f.task_definition("b", execution_role=broad.arn)
    [finding] = run(Inventory(iam_roles=(broad,), task_definitions=(a, b),
                              ecs_services=(f.service("a", a), f.service("b", b))))
    assert finding.evidence["secret_actions"] == ["secretsmanager:GetSecretValue"]
    assert finding.sub_key == "execution"
