"""IAM checks on the roles workloads run as."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from auditor.check import Check, CheckContext
from auditor.findings import Category, Finding, Severity
from auditor.model import GLOBAL_REGION, IamRole, Inventory
from auditor.policy import allows

SECRET_READS = ("secretsmanager:GetSecretValue", "ssm:GetParameters")


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _role(inv: Inventory, arn: str) -> IamRole:
    """The collected role, or a bare record for one IAM did not return (another account's)."""
    found = inv.role(arn)
    if found is not None:
        return found
    return IamRole(arn, _arn_account(arn), GLOBAL_REGION, arn.rsplit("/", 1)[-1], "/", (), (), ())


def _names(arns: set[str], shown: int = 3) -> str:
    """`orders-api, orders-worker and 3 more`: the last part of each ARN."""
    names = sorted(arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for arn in arns)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def reads_any_secret(inv: Inventory, role: IamRole) -> list[str]:
    """Secret-reading actions this role may perform on secrets it was not scoped to."""
    documents = inv.policies_of(role)
    probe = {
        "secretsmanager:GetSecretValue":
            f"arn:aws:secretsmanager:*:{role.account}:secret:auditor-probe-unrelated-AbCdEf",
        "ssm:GetParameters": f"arn:aws:ssm:*:{role.account}:parameter/auditor-probe-unrelated",
    }
    return [action for action, resource in probe.items() if allows(documents, action, resource)]


class SharedRole(Check):
    id = "iam.shared_role"
    title = "IAM role shared by several workloads"
    severity = Severity.HIGH
    category = Category.IAM
    rationale = (
        "A task role or Lambda execution role shared across services grants each one the union "
        "of what all of them need, so one compromised workload gets the others' access. A shared "
        "ECS execution role is normal, unless it can read any secret in the account."
    )
    remediation = (
        "Give each service and function its own role with only the permissions it uses; scope "
        "execution roles' secret reads to the ARNs of the secrets their task definitions name."
    )
    requires = frozenset({"iam.authorization", "ecs.services", "ecs.task_definitions",
                          "lambda.functions"})
    subject_kinds = ("iam-role",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        runtime_users: dict[str, set[str]] = defaultdict(set)
        execution_users: dict[str, set[str]] = defaultdict(set)
        for service in inventory.ecs_services:
            task_definition = inventory.task_definition(service.task_definition_arn)
            if task_definition is None:
                continue
            if task_definition.task_role_arn:
                runtime_users[task_definition.task_role_arn].add(service.arn)
            if task_definition.execution_role_arn:
                execution_users[task_definition.execution_role_arn].add(service.arn)
        for function in inventory.lambda_functions:
            runtime_users[function.role_arn].add(function.arn)

        for role_arn, users in sorted(runtime_users.items()):
            if len(users) > 1:
                role = _role(inventory, role_arn)
                yield self.finding(
                    role,
                    f"Role {role.name} is the runtime role of {len(users)} workloads "
                    f"({_names(users)}); each holds every permission the others need.",
                    {"role": role_arn, "used_by": sorted(users), "threshold": 1,
                     "kind": "task or execution role"},
                )
        for role_arn, users in sorted(execution_users.items()):
            if len(users) < 2:
                continue
            role = _role(inventory, role_arn)
            broad = reads_any_secret(inventory, role)
            if broad:
                yield self.finding(
                    role,
                    f"ECS execution role {role.name} is shared by {len(users)} services "
                    f"({_names(users)}) and can "
                    f"read any secret ({', '.join(broad)} on unrelated resources).",
                    {"role": role_arn, "used_by": sorted(users), "secret_actions": broad},
                    sub_key="execution",
                )
