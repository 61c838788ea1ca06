"""IAM checks on the roles workloads run as, and on what ECS execution roles must be able to do."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param, listing
from auditor.findings import Category, Finding, Severity
from auditor.model import (
    GLOBAL_REGION,
    EcsService,
    IamRole,
    Inventory,
    PolicyStatement,
    TaskDefinition,
)
from auditor.policy import allows, statement_applies

SECRET_READS = ("secretsmanager:GetSecretValue", "ssm:GetParameters")

TASK_ROLE = "ECS task role"
EXECUTION_ROLE = "ECS execution role"
LAMBDA_ROLE = "Lambda execution role"
NODE_ROLE = "EKS node role"


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _role(inv: Inventory, arn: str) -> IamRole:
    """The collected role, or a bare record for one IAM did not return (another account's)."""
    found = inv.role(arn)
    if found is not None:
        return found
    return IamRole(arn, _arn_account(arn), GLOBAL_REGION, arn.rsplit("/", 1)[-1], "/", (), (), ())


def _names(arns: Iterable[str]) -> str:
    """`orders-api, orders-worker and 3 more`: the last part of each ARN."""
    return listing(sorted({arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for arn in arns}))


def role_uses(inv: Inventory) -> dict[str, set[tuple[str, str]]]:
    """Role ARN -> (workload ARN, how it uses the role) for every workload seen."""
    uses: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for service in inv.ecs_services:
        task_definition = inv.task_definition(service.task_definition_arn)
        if task_definition is None:
            continue
        if task_definition.task_role_arn:
            uses[task_definition.task_role_arn].add((service.arn, TASK_ROLE))
        if task_definition.execution_role_arn:
            uses[task_definition.execution_role_arn].add((service.arn, EXECUTION_ROLE))
    for function in inv.lambda_functions:
        uses[function.role_arn].add((function.arn, LAMBDA_ROLE))
    for group in inv.eks_nodegroups:
        if group.node_role_arn:
            uses[group.node_role_arn].add((group.arn, NODE_ROLE))
    return uses


def _users(uses: set[tuple[str, str]], *kinds: str) -> set[str]:
    return {workload for workload, kind in uses if kind in kinds}


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
        uses = sorted(role_uses(inventory).items())
        for role_arn, role_use in uses:
            users = _users(role_use, TASK_ROLE, LAMBDA_ROLE)
            if len(users) > 1:
                role = _role(inventory, role_arn)
                yield self.finding(
                    role,
                    f"Role {role.name} is the runtime role of {len(users)} workloads "
                    f"({_names(users)}); each holds every permission the others need.",
                    {"role": role_arn, "used_by": sorted(users), "threshold": 1,
                     "kind": "task or execution role"},
                )
        for role_arn, role_use in uses:
            users = _users(role_use, EXECUTION_ROLE)
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


# --------------------------------------------------------------------------- broad permissions

_SERVICE_WILDCARD = re.compile(r"[a-z0-9-]+:\*", re.IGNORECASE)


def statement_breadth(statement: PolicyStatement, account: str) -> str | None:
    """Why an Allow statement grants too much, or None. The first reason that applies wins:
    all actions, NotAction, a whole service on every resource, PassRole on any role."""
    if statement.effect != "Allow":
        return None
    if statement.not_actions:
        return f"Allow with NotAction {', '.join(statement.not_actions)}: every other action"
    if "*" in statement.resources:
        if any(action in ("*", "*:*") for action in statement.actions):
            return "`*:*` on `*`"
        services = sorted(a for a in statement.actions if _SERVICE_WILDCARD.fullmatch(a))
        if services:
            return f"{', '.join(f'`{a}`' for a in services)} on `*`"
    # `role/*` passes every role as surely as `*` does: probe with a role nothing names.
    if statement_applies(statement, "iam:PassRole",
                         f"arn:aws:iam::{account}:role/auditor-probe-unrelated"):
        return "`iam:PassRole` on any role"
    return None


def broad_grants(inv: Inventory, role: IamRole, count_conditional: bool = True
                 ) -> list[dict[str, Any]]:
    """The role's over-broad grants: AdministratorAccess or a *FullAccess managed policy
    attached, and broad Allow statements in its other policies, inline or managed."""
    grants: list[dict[str, Any]] = []
    named = set()
    for arn in role.attached_policy_arns:
        name = arn.rsplit("/", 1)[-1]
        if name == "AdministratorAccess" or name.endswith("FullAccess"):
            named.add(arn)
            grants.append({"policy": arn, "why": f"managed policy {name} attached",
                           "conditional": False})
    for document in inv.policies_of(role):
        if document.name in named:
            continue
        for statement in document.statements:
            if statement.has_condition and not count_conditional:
                continue
            why = statement_breadth(statement, role.account)
            if why is not None:
                grants.append({"policy": document.name, "why": why,
                               "actions": list(statement.actions or statement.not_actions),
                               "resources": list(statement.resources),
                               "conditional": statement.has_condition})
    return grants


class BroadPermissions(Check):
    id = "iam.broad_permissions"
    title = "Workload role with broad permissions"
    severity = Severity.HIGH
    category = Category.IAM
    rationale = (
        "Whatever runs in a task, function or node can do all its role allows. All actions "
        "(`*:*`, AdministratorAccess), a whole service on every resource (`s3:*` on `*`, a "
        "*FullAccess managed policy), NotAction (everything but a list) or iam:PassRole on any "
        "role turn one compromised dependency into control of the account. Workload roles are "
        "ECS task roles, Lambda execution roles and EKS node roles; ECS execution roles are used "
        "by the ECS agent, not the workload, and are checked by "
        "ecs.execution_role_missing_permissions."
    )
    remediation = (
        "Replace the broad grant with the actions and resource ARNs the workload uses (IAM "
        "Access Analyzer can generate a policy from its CloudTrail activity); limit "
        "iam:PassRole to the role ARNs it must pass, with an iam:PassedToService condition."
    )
    requires = frozenset({"iam.authorization", "ecs.services", "ecs.task_definitions",
                          "lambda.functions", "eks.nodegroups"})
    subject_kinds = ("iam-role",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "count_conditional": Param(True, "count Allow statements that carry a Condition "
                                         "(conditions cannot be evaluated offline)"),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        count_conditional = bool(ctx.params["count_conditional"])
        for role_arn, role_use in sorted(role_uses(inventory).items()):
            runtime = sorted((workload, use) for workload, use in role_use
                             if use in (TASK_ROLE, LAMBDA_ROLE, NODE_ROLE))
            role = inventory.role(role_arn)
            if not runtime or role is None:
                continue
            grants = broad_grants(inventory, role, count_conditional)
            if not grants:
                continue
            by_use: dict[str, list[str]] = defaultdict(list)
            for workload, use in runtime:
                by_use[use].append(workload)
            used_as = "; ".join(f"{use} of {_names(arns)}" for use, arns in by_use.items())
            yield self.finding(
                role,
                f"Role {role.name} ({used_as}) has {len(grants)} broad grant(s): "
                f"{listing([g['why'] for g in grants], sep='; ')}.",
                {"role": role_arn,
                 "used_by": [{"workload": w, "as": use} for w, use in runtime],
                 "grants": grants,
                 "threshold": "no *:*, AdministratorAccess, *FullAccess, service:* on *, "
                              "NotAction Allow or iam:PassRole on any role"},
            )


# --------------------------------------------------------------------------- execution roles


@dataclass(frozen=True)
class Need:
    """An action the ECS agent performs with the execution role when a task starts."""

    action: str
    resources: tuple[str, ...]
    """Allowed on any one of these is enough (IAM names some resources two ways)."""
    why: str


def execution_needs(td: TaskDefinition) -> list[Need]:
    """What the execution role must allow for this task definition's tasks to start."""
    needs: dict[tuple[str, str], Need] = {}

    def need(action: str, resources: tuple[str, ...], why: str) -> None:
        needs.setdefault((action, resources[0]), Need(action, resources, why))

    for container in td.containers:
        repository = container.ecr_repository_arn
        if repository is not None:
            why = f"container {container.name} pulls {container.image} from ECR"
            need("ecr:GetAuthorizationToken", ("*",), why)
            need("ecr:BatchGetImage", (repository,), why)
            need("ecr:GetDownloadUrlForLayer", (repository,), why)
        if container.log_driver == "awslogs":
            options = container.log_options
            group = options.get("awslogs-group", "")
            region = options.get("awslogs-region", td.region)
            group_arn = f"arn:aws:logs:{region}:{td.account}:log-group:{group}"
            # Streams are PREFIX/CONTAINER/TASK-ID; a probe ID stands for any task's.
            prefix = options.get("awslogs-stream-prefix")
            stream = f"{prefix}/{container.name}/auditor-probe" if prefix else "auditor-probe"
            stream_arn = f"{group_arn}:log-stream:{stream}"
            why = f"container {container.name} logs to {group} with awslogs"
            need("logs:CreateLogStream", (stream_arn, group_arn), why)
            need("logs:PutLogEvents", (stream_arn,), why)
            if options.get("awslogs-create-group") == "true":
                need("logs:CreateLogGroup", (group_arn,), why)
        for secret in container.secrets:
            action = SECRET_READS[0] if secret.service == "secretsmanager" else SECRET_READS[1]
            need(action, (secret.arn(td.account, td.region),),
                 f"container {container.name} reads secret {secret.name}")
    return list(needs.values())


def execution_role_required(td: TaskDefinition, services: Iterable[EcsService]) -> list[str]:
    """Why this task definition's tasks cannot start without an execution role (empty: they
    can). On EC2 the container instance's role pulls images and writes logs; secrets and
    private registry credentials need an execution role on any launch type."""
    reasons = [f"container {c.name} reads secrets" for c in td.containers if c.secrets]
    reasons += [f"container {c.name} authenticates to a private registry"
                for c in td.containers if c.has_repository_credentials]
    if any(service.on_fargate for service in services):
        reasons += [f"container {c.name} on Fargate pulls from ECR"
                    for c in td.containers if c.pulls_from_ecr]
        reasons += [f"container {c.name} on Fargate logs with awslogs"
                    for c in td.containers if c.log_driver == "awslogs"]
    return reasons


class ExecutionRoleMissingPermissions(Check):
    id = "ecs.execution_role_missing_permissions"
    title = "ECS execution role cannot do what its tasks need at start-up"
    severity = Severity.HIGH
    category = Category.IAM
    rationale = (
        "Before a task's containers start, the ECS agent uses the task definition's execution "
        "role to pull images from ECR (ecr:GetAuthorizationToken, ecr:BatchGetImage, "
        "ecr:GetDownloadUrlForLayer on the repository), create the awslogs stream and write to "
        "it (logs:CreateLogStream, logs:PutLogEvents on the log group) and read the secrets it "
        "injects (secretsmanager:GetSecretValue, ssm:GetParameters on each referenced ARN). A "
        "missing permission, a missing role, or none where one is required (Fargate with ECR "
        "or awslogs; secrets or private registry credentials anywhere) stops every task with "
        "CannotPullContainerError or ResourceInitializationError. Policies are evaluated as IAM "
        "would for the role alone: conditional Allows count, conditional Denies do not, and "
        "permission boundaries, SCPs and KMS key policies are not seen."
    )
    remediation = (
        "Grant the execution role the listed actions on the listed resources (the AWS managed "
        "AmazonECSTaskExecutionRolePolicy covers ECR and logs; add secret reads scoped to the "
        "referenced ARNs), or set an execution role on the task definition and register a new "
        "revision."
    )
    requires = frozenset({"iam.authorization", "ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        services: dict[str, list[EcsService]] = defaultdict(list)
        for service in inventory.ecs_services:
            services[service.task_definition_arn].append(service)
        for td in inventory.task_definitions:
            users = services.get(td.arn, [])
            finding = self._judge(inventory, td, users)
            if finding is not None:
                yield finding

    def _judge(self, inv: Inventory, td: TaskDefinition, users: list[EcsService]
               ) -> Finding | None:
        name = f"{td.family}:{td.revision}"
        used_by = sorted(s.arn for s in users)
        where = f"task definition {name} (used by {_names(used_by) or 'no service'})"
        subject = where[0].upper() + where[1:]
        role_arn = td.execution_role_arn
        if not role_arn:
            reasons = execution_role_required(td, users)
            if not reasons:
                return None
            return self.finding(
                td,
                f"{subject} has no execution role, but {listing(reasons, shown=1)}: its tasks "
                "cannot start.",
                {"execution_role": None, "used_by": used_by, "required_because": reasons},
            )
        role = inv.role(role_arn)
        if role is None:
            if _arn_account(role_arn) != td.account:
                return None  # another account's role: its policies cannot be seen
            return self.finding(
                td,
                f"{subject} names execution role {role_arn.rsplit('/', 1)[-1]}, "
                "which does not exist in the account: its tasks cannot start.",
                {"execution_role": role_arn, "used_by": used_by, "role_exists": False},
            )
        documents = inv.policies_of(role)
        missing = [n for n in execution_needs(td)
                   if not any(allows(documents, n.action, r) for r in n.resources)]
        if not missing:
            return None
        listed = listing([f"{n.action} on {n.resources[0]}" for n in missing], sep="; ")
        return self.finding(
            td,
            f"Execution role {role.name} of {where} is not allowed {len(missing)} action(s) its "
            f"tasks need at start-up: {listed}.",
            {"execution_role": role_arn, "used_by": used_by,
             "missing": [{"action": n.action, "resource": n.resources[0], "why": n.why}
                         for n in missing]},
        )
