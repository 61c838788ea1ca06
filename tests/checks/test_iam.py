"""iam.shared_role (runtime roles shared by several workloads; shared execution roles only when
they can read any secret), iam.broad_permissions and ecs.execution_role_missing_permissions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.findings import Finding
from auditor.model import (
    ContainerDefinition,
    IamRole,
    Inventory,
    ManagedPolicy,
    PolicyStatement,
    SecretReference,
)
from checks.iam import BroadPermissions, ExecutionRoleMissingPermissions, SharedRole
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


# --------------------------------------------------------------------------- iam.broad_permissions


def run_broad(role: IamRole, *policies: ManagedPolicy, **params: bool) -> list[Finding]:
    td = f.task_definition("reports", task_role=role.arn)
    check = BroadPermissions(params)
    inventory = Inventory(iam_roles=(role,), managed_policies=policies, task_definitions=(td,),
                          ecs_services=(f.service("reports", td),))
    return list(check.evaluate(inventory, f.context(check)))


ADMIN = f.managed_policy("AdministratorAccess", (f.allow(("*",)),))


@pytest.mark.fires("iam.broad_permissions")
def test_administrator_access_on_a_task_role_fails_once_per_policy() -> None:
    role = f.role("reports-task", attached=(ADMIN.arn,))
    [finding] = run_broad(role, ADMIN)
    assert finding.resource_arn == role.arn
    assert finding.evidence["grants"] == [
        {"policy": ADMIN.arn, "why": "managed policy AdministratorAccess attached",
         "conditional": False}]
    assert finding.evidence["used_by"][0]["as"] == "ECS task role"
    assert "ECS task role of reports" in finding.message


@pytest.mark.parametrize(("statement", "why"), [
    (f.allow(("*:*",)), "`*:*` on `*`"),
    (f.allow(("s3:*", "sqs:SendMessage")), "`s3:*` on `*`"),
    (PolicyStatement("Allow", (), ("iam:*",), ("*",), (), False),
     "Allow with NotAction iam:*: every other action"),
    (f.allow(("iam:PassRole",), ("arn:aws:iam::123456789012:role/*",)),
     "`iam:PassRole` on any role"),
])
def test_each_broad_statement_shape_is_named(statement: PolicyStatement, why: str) -> None:
    [finding] = run_broad(f.role("reports-task", (statement,)))
    assert [g["why"] for g in finding.evidence["grants"]] == [why]


def test_full_access_managed_policies_count_by_name_customer_or_aws() -> None:
    s3 = f.managed_policy("AmazonS3FullAccess", (f.allow(("s3:*",)),))
    own = f.managed_policy("ReportsFullAccess", (), aws_managed=False)
    [finding] = run_broad(f.role("reports-task", attached=(s3.arn, own.arn)), s3, own)
    assert len(finding.evidence["grants"]) == 2


@pytest.mark.quiet("iam.broad_permissions")
def test_scoped_statements_pass() -> None:
    statements = (
        f.allow(("s3:GetObject", "s3:PutObject"), ("arn:aws:s3:::reports/*",)),
        f.allow(("s3:*",), ("arn:aws:s3:::reports", "arn:aws:s3:::reports/*")),
        f.allow(("iam:PassRole",), ("arn:aws:iam::123456789012:role/reports-job",)),
        f.allow(("*",), ("*",), effect="Deny"),
    )
    assert run_broad(f.role("reports-task", statements)) == []


def test_conditional_statements_can_be_left_out() -> None:
    conditional = replace(f.allow(("iam:PassRole",)), has_condition=True)
    role = f.role("reports-task", (conditional,))
    [finding] = run_broad(role)
    assert finding.evidence["grants"][0]["conditional"] is True
    assert run_broad(role, count_conditional=False) == []


def test_only_workload_roles_are_judged() -> None:
    # An execution role is used by the ECS agent, not the workload.
    admin = f.role("exec", attached=(ADMIN.arn,))
    td = f.task_definition("a", execution_role=admin.arn)
    check = BroadPermissions()
    assert list(check.evaluate(Inventory(iam_roles=(admin,), managed_policies=(ADMIN,),
                                         task_definitions=(td,),
                                         ecs_services=(f.service("a", td),)),
                               f.context(check))) == []
    node = f.role("eks-node", (f.allow(("ec2:*",)),))
    fn_role = f.role("fn", (f.allow(("dynamodb:*",)),))
    found = list(check.evaluate(Inventory(
        iam_roles=(node, fn_role), eks_nodegroups=(f.nodegroup(node_role=node.arn),),
        lambda_functions=(f.function("fn", fn_role.arn),)), f.context(check)))
    assert {x.evidence["used_by"][0]["as"] for x in found} == {"EKS node role",
                                                              "Lambda execution role"}


# ----------------------------------------------------------- ecs.execution_role_missing_permissions

REPOSITORY = "arn:aws:ecr:us-east-1:123456789012:repository/orders"
EXEC_ALL = (
    f.allow(("ecr:GetAuthorizationToken",)),
    f.allow(("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"), (REPOSITORY,)),
    f.allow(("logs:CreateLogStream", "logs:PutLogEvents"),
            ("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/orders:*",)),
    f.allow(("secretsmanager:GetSecretValue",),
            ("arn:aws:secretsmanager:us-east-1:123456789012:secret:db",)),
)


def run_exec(statements: tuple[PolicyStatement, ...] | None,
             containers: tuple[ContainerDefinition, ...] = (), launch_type: str = "FARGATE",
             role_listed: bool = True) -> list[Finding]:
    exec_role = f.role("orders-exec", statements or ())
    td = f.task_definition(containers=containers or (f.container(secrets=("db",)),),
                           execution_role=exec_role.arn if statements is not None else None)
    check = ExecutionRoleMissingPermissions()
    inventory = Inventory(iam_roles=(exec_role,) if role_listed else (), task_definitions=(td,),
                          ecs_services=(f.service("orders", td, launch_type=launch_type),))
    return list(check.evaluate(inventory, f.context(check)))


@pytest.mark.quiet("ecs.execution_role_missing_permissions")
def test_execution_role_with_what_the_tasks_need_passes() -> None:
    assert run_exec(EXEC_ALL) == []
    assert run_exec((f.allow(("ecr:*", "logs:*", "secretsmanager:GetSecretValue")),)) == []


@pytest.mark.fires("ecs.execution_role_missing_permissions")
def test_missing_log_and_secret_permissions_are_listed_with_their_reasons() -> None:
    [finding] = run_exec(EXEC_ALL[:2])
    assert finding.resource_type == "ecs-task-definition"
    missing = {(m["action"], m["resource"]) for m in finding.evidence["missing"]}
    assert missing == {
        ("logs:CreateLogStream",
         "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/orders:log-stream:ecs/app/"
         "auditor-probe"),
        ("logs:PutLogEvents",
         "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/orders:log-stream:ecs/app/"
         "auditor-probe"),
        ("secretsmanager:GetSecretValue",
         "arn:aws:secretsmanager:us-east-1:123456789012:secret:db"),
    }
    assert "orders-exec" in finding.message and "3 action(s)" in finding.message


def test_ecr_pull_is_checked_on_the_images_repository() -> None:
    other_repo = f.allow(("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
                         ("arn:aws:ecr:us-east-1:123456789012:repository/payments",))
    [finding] = run_exec((EXEC_ALL[0], other_repo, *EXEC_ALL[2:]))
    assert [m["action"] for m in finding.evidence["missing"]] == [
        "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def test_ssm_parameter_names_are_checked_as_parameter_arns() -> None:
    param = ContainerDefinition("app", "nginx:1.27", True, 0, None, {},
                                (SecretReference("TOKEN", "/orders/token"),), None, False)
    [finding] = run_exec((f.allow(("ssm:GetParameter",)),), containers=(param,))
    assert finding.evidence["missing"] == [{
        "action": "ssm:GetParameters",
        "resource": "arn:aws:ssm:us-east-1:123456789012:parameter/orders/token",
        "why": "container app reads secret TOKEN"}]


def test_no_execution_role_fails_on_fargate_with_ecr_but_not_on_ec2() -> None:
    plain = (f.container(),)
    [finding] = run_exec(None, containers=plain)
    assert finding.evidence["required_because"] == [
        "container app on Fargate pulls from ECR", "container app on Fargate logs with awslogs"]
    assert run_exec(None, containers=plain, launch_type="EC2") == []
    # Secrets need an execution role on every launch type.
    assert run_exec(None, launch_type="EC2")


def test_an_execution_role_missing_from_the_account_fails() -> None:
    [finding] = run_exec(EXEC_ALL, role_listed=False)
    assert finding.evidence["role_exists"] is False
    assert "does not exist" in finding.message


def test_a_secret_reference_with_a_json_key_is_checked_on_the_secret_itself() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
    keyed = ContainerDefinition("app", "nginx:1.27", True, 0, None, {},
                                (SecretReference("DB_PASSWORD", f"{secret}:password::"),),
                                None, False)
    assert run_exec((f.allow(("secretsmanager:GetSecretValue",), (secret,)),),
                    containers=(keyed,)) == []
