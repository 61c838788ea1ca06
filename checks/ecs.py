"""ECS checks: sizing and idleness from hourly CloudWatch metrics, and the configuration of
services, task definitions and clusters (the security settings of task definitions are in
`checks.ecs_security`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from auditor.check import Check, CheckContext, Param, listing, series_or_none
from auditor.cost.model import Option
from auditor.cost.workloads import WorkloadEstimate
from auditor.data import fargate_platforms, version_key
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery, ecs_query
from auditor.model import EcsService, Inventory, Resource, TaskDefinition
from auditor.params import HOURS_OF_DATA, PERCENT, SOME_PERCENT, at_least
from auditor.secrets import find_secrets


class TaskOverprovisioned(Check):
    id = "ecs.task_overprovisioned"
    title = "Fargate tasks sized well above their peak use"
    severity = Severity.MEDIUM
    category = Category.COST
    rationale = (
        "Fargate bills the vCPU and memory a task asks for, used or not. A service whose busiest "
        "hours stay far below its size pays for idle capacity every hour of the month. The "
        "recommended size and the saving are the cost model's right-sizing step (the cheapest "
        "valid Fargate size keeping the peaks under `[cost] target_peak_percent`); a service "
        "the model finds idle is reported by ecs.idle_service instead."
    )
    remediation = (
        "Register a task definition revision with the recommended CPU and memory, deploy it, "
        "and watch CPUUtilization and MemoryUtilization for a week."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions", "cloudwatch.metrics"})
    subject_kinds = ("ecs-service",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "cpu_percentile": Param(99.0, "percentile of hourly Maximum CPUUtilization compared",
                                PERCENT),
        "cpu_max_percent": Param(40.0, "flag when that CPU percentile is below this",
                                 SOME_PERCENT),
        "memory_max_percent": Param(50.0, "flag when the Maximum MemoryUtilization is below this",
                                    SOME_PERCENT),
        "min_hours_of_data": Param(72, "hourly datapoints needed before judging", HOURS_OF_DATA),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        for service in inventory.ecs_services:
            if service.on_fargate:
                yield ecs_query(service, "CPUUtilization")
                yield ecs_query(service, "MemoryUtilization")

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            estimate = ctx.costs.of(service.arn)
            if estimate is None or not service.on_fargate or service.desired_count == 0:
                continue
            finding = self._judge(service, estimate, ctx)
            if finding is not None:
                yield finding

    def _judge(self, service: EcsService, estimate: WorkloadEstimate, ctx: CheckContext
               ) -> Finding | None:
        cpu = series_or_none(ctx, ecs_query(service, "CPUUtilization"))
        memory = series_or_none(ctx, ecs_query(service, "MemoryUtilization"))
        min_hours = ctx.number("min_hours_of_data")
        if cpu is None or memory is None or min(len(cpu), len(memory)) < min_hours:
            return None
        pct = ctx.number("cpu_percentile")
        cpu_peak = cpu.percentile(pct) or 0.0
        memory_peak = memory.maximum() or 0.0
        if cpu_peak >= ctx.number("cpu_max_percent") or (
                memory_peak >= ctx.number("memory_max_percent")):
            return None
        right_sized = estimate.step("right_size")
        if right_sized is None:
            return None  # no cheaper valid size, or idle (the whole cost, claimed once)
        saving = estimate.savings["right_size"]
        current, shape = estimate.current, right_sized.shape
        tasks = shape["tasks"]
        recommended = f"{shape['vcpu']:g} vCPU / {shape['memory_gb']:g} GB"
        return self.finding(
            service,
            f"ECS service {service.name} runs {tasks} task(s) of "
            f"{current.shape['vcpu']:g} vCPU / {current.shape['memory_gb']:g} GB; over "
            f"{ctx.lookback_days} days the p{pct:g} of hourly peak CPU was {cpu_peak:.1f}% "
            f"(threshold {ctx.number('cpu_max_percent'):g}%) and peak memory "
            f"{memory_peak:.1f}% (threshold {ctx.number('memory_max_percent'):g}%); "
            f"{recommended} would keep the peaks under the model's target and save "
            f"${saving:,.2f}/month.",
            {
                "cluster": service.cluster_name,
                "task_definition": service.task_definition_arn,
                "current_size": {"cpu_units": round(current.shape["vcpu"] * 1024),
                                 "memory_mib": round(current.shape["memory_gb"] * 1024)},
                "recommended_size": {"cpu_units": round(shape["vcpu"] * 1024),
                                     "memory_mib": round(shape["memory_gb"] * 1024)},
                "sizing": shape.get("sizing"),
                "cpu_percentile": pct,
                "cpu_peak_percent": round(cpu_peak, 2),
                "memory_peak_percent": round(memory_peak, 2),
                "thresholds": {k: ctx.params[k] for k in self.parameters},
                "hourly_datapoints": {"cpu": len(cpu), "memory": len(memory)},
                "tasks": tasks,
                "architecture": shape.get("arch"),
                "monthly_usd": {"current": current.monthly_usd,
                                "right_sized": right_sized.monthly_usd},
                "arithmetic": {"current": _arithmetic(current),
                               "right_sized": _arithmetic(right_sized),
                               "saving": f"${current.monthly_usd:,.2f} - "
                                         f"${right_sized.monthly_usd:,.2f} = ${saving:,.2f}"},
            },
            monthly_savings_usd=saving,
            savings_kind="right_size",
        )


def _arithmetic(option: Option) -> dict[str, str]:
    return {line.name: line.formula for line in option.lines}


class IdleService(Check):
    id = "ecs.idle_service"
    title = "ECS service that does no work"
    severity = Severity.MEDIUM
    category = Category.COST
    rationale = (
        "A service whose busiest minute stayed under 5% CPU (`[cost] idle_cpu_max_percent`) in "
        "every hour of the lookback does no work: a forgotten test, a replaced version, the "
        "consumer of a retired queue. Every task is billed all month all the same. The cost "
        "model decides it, and the saving is the service's whole monthly cost, claimed once "
        "(no right-sizing or migration is counted beside it); none is given for EC2-backed "
        "services, whose instances may run other work."
    )
    remediation = (
        "Confirm nothing uses it (load balancer requests, queue depth, logs), then scale it to "
        "zero or delete it; if it must stay, run one task of the smallest size."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions", "cloudwatch.metrics"})
    subject_kinds = ("ecs-service",)
    reads_costs = True

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            estimate = ctx.costs.of(service.arn)
            if estimate is None or not estimate.usage.get("idle"):
                continue
            usage = estimate.usage
            utilization = usage["utilization"]
            saving = estimate.savings.get("idle")
            cost = (f"; it costs ${saving:,.2f}/month" if saving is not None
                    else " (EC2-backed: no saving counted)")
            yield self.finding(
                service,
                f"ECS service {service.name} runs {usage['tasks']} task(s) whose hourly peak "
                f"CPU stayed below the idle threshold in all {utilization['hourly_datapoints']} "
                f"hours (highest {utilization['cpu_max_percent']:.1f}%){cost}.",
                {
                    "cluster": service.cluster_name,
                    "tasks": usage["tasks"],
                    "cpu_max_percent": utilization["cpu_max_percent"],
                    "hourly_datapoints": utilization["hourly_datapoints"],
                    "rule": usage["idle_rule"],
                    "lookback_days": ctx.lookback_days,
                    "monthly_usd": estimate.current.monthly_usd,
                    "arithmetic": _arithmetic(estimate.current),
                },
                monthly_savings_usd=saving,
                savings_kind="idle",
            )


class SingleTaskService(Check):
    id = "ecs.single_task_service"
    title = "Long-running ECS service with a single task"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "With one task, every deployment, host retirement, Fargate maintenance event or crash "
        "is an outage until a replacement starts, and the task sits in one Availability Zone. "
        "Only REPLICA services are judged (DAEMON services run one task per instance by "
        "design), and a service scaled to zero is taken to be stopped on purpose."
    )
    remediation = (
        "Run at least two tasks (desiredCount, or an Application Auto Scaling minimum of 2) in "
        "subnets of different Availability Zones."
    )
    requires = frozenset({"ecs.services"})
    subject_kinds = ("ecs-service",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_tasks": Param(2, "flag a REPLICA service whose desiredCount is below this",
                           at_least(1)),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        min_tasks = ctx.number("min_tasks")
        for service in inventory.ecs_services:
            if (service.scheduling_strategy != "REPLICA" or service.desired_count == 0
                    or service.desired_count >= min_tasks):
                continue
            yield self.finding(
                service,
                f"ECS service {service.name} runs {service.desired_count} task(s), fewer than "
                f"{min_tasks:g}: any deployment, crash or host retirement takes it down.",
                {"cluster": service.cluster_name, "desired_count": service.desired_count,
                 "threshold_min_tasks": min_tasks},
            )


class NoCircuitBreaker(Check):
    id = "ecs.no_circuit_breaker"
    title = "Rolling deployments without the circuit breaker"
    severity = Severity.LOW
    category = Category.RELIABILITY
    rationale = (
        "Without the deployment circuit breaker, a revision whose tasks cannot start or fail "
        "their health checks is retried indefinitely: the deployment never finishes and never "
        "rolls back, and keeps launching failing tasks. Only the ECS rolling-update controller "
        "has the breaker; CODE_DEPLOY and EXTERNAL deployments are not judged."
    )
    remediation = (
        "Enable the breaker with rollback: aws ecs update-service --deployment-configuration "
        "'deploymentCircuitBreaker={enable=true,rollback=true}' (or the same in IaC)."
    )
    requires = frozenset({"ecs.services"})
    subject_kinds = ("ecs-service",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            if service.deployment_controller == "ECS" and not service.circuit_breaker_enabled:
                yield self.finding(
                    service,
                    f"ECS service {service.name} deploys with the rolling-update controller "
                    "and the deployment circuit breaker off: a failing revision is retried, "
                    "never rolled back.",
                    {"cluster": service.cluster_name, "deployment_controller": "ECS",
                     "circuit_breaker_enabled": False},
                )


def _scalable(service: EcsService) -> bool:
    """Services auto scaling applies to: REPLICA services that run (DAEMON ones cannot scale,
    one scaled to zero is stopped on purpose)."""
    return service.scheduling_strategy == "REPLICA" and service.desired_count > 0


class NoAutoscaling(Check):
    id = "ecs.no_autoscaling"
    title = "ECS service without auto scaling"
    severity = Severity.LOW
    category = Category.RELIABILITY
    rationale = (
        "A service with no Application Auto Scaling target runs the same number of tasks at "
        "night and at peak: too few when traffic spikes, paid for when it does not. A target "
        "whose maximum equals its minimum cannot scale either. DAEMON services and services "
        "scaled to zero are not judged."
    )
    remediation = (
        "Register a scalable target for ecs:service:DesiredCount (minimum at least 2, maximum "
        "what the downstreams can take) with a target-tracking policy, e.g. 60% average CPU."
    )
    requires = frozenset({"ecs.services", "autoscaling.targets"})
    subject_kinds = ("ecs-service",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            if not _scalable(service):
                continue
            target = inventory.scalable_target_for(service)
            if target is None:
                yield self.finding(
                    service,
                    f"ECS service {service.name} has no Application Auto Scaling target: it "
                    f"runs {service.desired_count} task(s) whatever the load.",
                    {"cluster": service.cluster_name, "desired_count": service.desired_count,
                     "scalable_target": None},
                )
            elif target.max_capacity <= target.min_capacity:
                yield self.finding(
                    service,
                    f"ECS service {service.name}'s scaling target is pinned at "
                    f"{target.min_capacity} task(s) (minimum {target.min_capacity}, maximum "
                    f"{target.max_capacity}): it cannot scale.",
                    {"cluster": service.cluster_name, "scalable_target": target.arn,
                     "min_capacity": target.min_capacity, "max_capacity": target.max_capacity},
                )


class UnboundedAutoscaling(Check):
    id = "ecs.unbounded_autoscaling"
    title = "ECS auto scaling maximum that can overwhelm downstreams"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "Auto scaling adds tasks when load rises, whatever the load is: a retry storm, a bot or "
        "a bug can scale a service to its maximum. Each task opens its own database connections "
        "and API calls, so a maximum far above normal use turns a spike into an overwhelmed "
        "database, a rate-limited dependency and a bill."
    )
    remediation = (
        "Set the scalable target's maximum to what the downstreams can serve (database "
        "connections per task x tasks, third-party rate limits), a few times the usual peak; "
        "put RDS Proxy or a connection pool in front of the database."
    )
    requires = frozenset({"ecs.services", "autoscaling.targets"})
    subject_kinds = ("ecs-service",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_capacity": Param(50, "flag when the scalable target's maximum task count is "
                                  "above this", at_least(1)),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        limit = ctx.number("max_capacity")
        for service in inventory.ecs_services:
            target = inventory.scalable_target_for(service)
            if target is None or target.max_capacity <= limit:
                continue
            yield self.finding(
                service,
                f"ECS service {service.name} may scale to {target.max_capacity} tasks "
                f"(threshold {limit:g}), {target.max_capacity / max(1, service.desired_count):.0f}"
                f"x the {service.desired_count} it runs now.",
                {"cluster": service.cluster_name, "scalable_target": target.arn,
                 "min_capacity": target.min_capacity, "max_capacity": target.max_capacity,
                 "desired_count": service.desired_count, "threshold_max_capacity": limit},
            )


class SecretsInEnvironment(Check):
    id = "ecs.secrets_in_environment"
    title = "Plaintext secrets in an ECS task definition's environment"
    severity = Severity.HIGH
    category = Category.SECURITY
    rationale = (
        "Environment values in a task definition are plain text to anyone allowed "
        "ecs:DescribeTaskDefinition, kept in every revision for good, and copied into consoles, "
        "CI logs and infrastructure code. Variables are judged by name (PASSWORD, SECRET, "
        "TOKEN, API_KEY...) and by value shape (AWS access keys, private keys, tokens, "
        "passwords in URLs); a finding names the variable and a masked hint, never the value."
    )
    remediation = (
        "Move the value to Secrets Manager or SSM Parameter Store (SecureString), reference it "
        "from the container's `secrets` (valueFrom), let the execution role read that ARN, "
        "rotate the exposed value and deregister the revisions that hold it."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            found = [
                {"container": container.name, "variable": hint.name, "reason": hint.reason,
                 "masked": hint.masked}
                for container in td.containers for hint in find_secrets(container.environment)
            ]
            if not found:
                continue
            named = listing([f"{f['container']}/{f['variable']}" for f in found])
            yield self.finding(
                td,
                f"Task definition {td.family}:{td.revision} holds {len(found)} plaintext "
                f"secret(s) in its environment: {named}.",
                {"variables": found},
            )


class MissingHealthCheck(Check):
    id = "ecs.missing_health_check"
    title = "ECS service whose tasks nothing health-checks"
    severity = Severity.LOW
    category = Category.RELIABILITY
    rationale = (
        "ECS replaces a task when an essential container exits, fails its container health "
        "check, or is reported unhealthy by the load balancer's target group. Behind a load "
        "balancer the target group's health check covers the service (ELB cannot turn it off "
        "for instance and IP targets). Without one, only container health checks do: an "
        "essential container without one that hangs or loses its connections keeps running, "
        "and the service looks healthy while it does nothing."
    )
    remediation = (
        "Add a healthCheck to each essential container, a command that proves the process "
        "works (e.g. CMD-SHELL curl -f http://localhost:8080/health || exit 1), or register "
        "the service with a load balancer target group."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-service",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            td = inventory.task_definition(service.task_definition_arn)
            if service.target_group_arns or td is None:
                continue
            unchecked = [c.name for c in td.containers if c.essential and not c.has_health_check]
            if not unchecked:
                continue
            yield self.finding(
                service,
                f"ECS service {service.name} is behind no load balancer and its essential "
                f"container(s) {', '.join(unchecked)} have no health check: a hung task is "
                "never replaced.",
                {"cluster": service.cluster_name, "task_definition": td.arn,
                 "target_groups": [], "containers_without_health_check": unchecked},
            )


class ContainerInsightsDisabled(Check):
    id = "ecs.container_insights_disabled"
    title = "ECS cluster without Container Insights"
    severity = Severity.LOW
    category = Category.OPERATIONS
    rationale = (
        "Without Container Insights ECS publishes service-level CPU and memory only: no "
        "per-task metrics, no network, storage or restart counts, nothing to find the one "
        "failing task with or to size tasks from. A cluster with the setting unset follows "
        "the account default at creation and is judged disabled."
    )
    remediation = (
        "aws ecs update-cluster-settings --cluster NAME --settings "
        "name=containerInsights,value=enhanced (or enabled), and make it the account default "
        "with aws ecs put-account-setting-default --name containerInsights --value enhanced."
    )
    requires = frozenset({"ecs.clusters"})
    subject_kinds = ("ecs-cluster",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for cluster in inventory.ecs_clusters:
            setting = (cluster.container_insights or "unset").lower()
            if cluster.status == "INACTIVE" or setting in ("enabled", "enhanced"):
                continue
            yield self.finding(
                cluster,
                f"ECS cluster {cluster.name} has Container Insights {setting}: no per-task "
                "metrics to diagnose or size its services with.",
                {"container_insights": cluster.container_insights,
                 "expected": ["enabled", "enhanced"]},
            )


def _relies_on_default_log_mode(td: TaskDefinition) -> bool:
    """Whether the verdict on awslogs blocking mode turns on the account's default: some
    awslogs container sets no mode, and none sets `blocking` (which fails it anyway)."""
    modes = [c.log_mode for c in td.containers if c.log_driver == "awslogs"]
    return None in modes and not any((m or "").lower() == "blocking" for m in modes)


class AwslogsBlockingMode(Check):
    id = "ecs.awslogs_blocking_mode"
    title = "awslogs delivering in blocking mode"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "In blocking mode a container's writes to stdout and stderr wait until the awslogs "
        "driver has handed the line on: when CloudWatch Logs throttles, is slow or cannot be "
        "reached (an endpoint or route gone), the application stalls on its next log line "
        "and its health checks fail with it. A container that sets no `mode` gets the "
        "account's `defaultLogDriverMode` (ListAccountSettings, read once per region; "
        "non-blocking unless the account changed it), and is judged by it."
    )
    remediation = (
        "Set `mode: non-blocking` and a `max-buffer-size` (e.g. 25m) in the container's "
        "logConfiguration options, and make it the account default: aws ecs "
        "put-account-setting-default --name defaultLogDriverMode --value non-blocking. Keep "
        "blocking only where a lost line is worse than a stalled task (audit logs), and "
        "suppress the finding with that reason."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions", "ecs.account_settings"})
    subject_kinds = ("ecs-task-definition",)
    subject_requires: ClassVar[Mapping[str, frozenset[str]]] = {
        "ecs-task-definition": frozenset({"ecs.services", "ecs.task_definitions"}),
    }

    def requires_for_subject(self, subject: Resource) -> frozenset[str]:
        # Only a task definition left to the account's default rests on the account setting.
        if isinstance(subject, TaskDefinition) and _relies_on_default_log_mode(subject):
            return self.requires
        return self.requires_for(subject.kind)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            blocking = [
                {"container": c.name, "mode": mode,
                 "set_by": "container" if c.log_mode else "account defaultLogDriverMode"}
                for c in td.containers if c.log_driver == "awslogs"
                and (mode := c.log_mode or td.default_log_driver_mode or "").lower()
                == "blocking"
            ]
            if blocking:
                named = listing([f"{b['container']} (set by {b['set_by']})" for b in blocking])
                yield self.finding(
                    td,
                    f"Task definition {td.family}:{td.revision} delivers awslogs logs in "
                    f"blocking mode from {named}: a CloudWatch Logs outage stalls the "
                    "application.",
                    {"containers": blocking, "account_default": td.default_log_driver_mode,
                     "flag_when": "mode is blocking"},
                )
            elif _relies_on_default_log_mode(td) and td.default_log_driver_mode is None:
                yield self.unknown(td, "ecs:ListAccountSettings reported no "
                                       "defaultLogDriverMode, which its awslogs containers "
                                       "rely on")


class NoLogging(Check):
    id = "ecs.no_logging"
    title = "Essential ECS container that sends its logs nowhere"
    severity = Severity.MEDIUM
    category = Category.OPERATIONS
    rationale = (
        "An essential container with no logConfiguration (or the `none` driver) keeps no "
        "logs a team can read: on Fargate they are discarded, on EC2 they stay in the Docker "
        "daemon's files on an instance that may be gone by the time anyone looks. The crash "
        "that stopped the task leaves no trace."
    )
    remediation = (
        "Add a logConfiguration to each essential container: awslogs with awslogs-group, "
        "awslogs-region, awslogs-stream-prefix and mode non-blocking, or awsfirelens to route "
        "through Fluent Bit; give the execution role logs:CreateLogStream and "
        "logs:PutLogEvents on the group."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            silent = [{"container": c.name, "log_driver": c.log_driver}
                      for c in td.containers
                      if c.essential and (c.log_driver or "none").lower() == "none"]
            if silent:
                yield self.finding(
                    td,
                    f"Task definition {td.family}:{td.revision} has essential container(s) "
                    f"{listing([str(s['container']) for s in silent])} with no log "
                    "configuration: their output is kept nowhere.",
                    {"containers": silent, "flag_when": "no logConfiguration, or driver none"},
                )


class FargatePlatformOutdated(Check):
    id = "ecs.fargate_platform_outdated"
    title = "Fargate service pinned to an old platform version"
    severity = Severity.LOW
    category = Category.OPERATIONS
    rationale = (
        "A Fargate service that names a platform version older than the current one runs "
        "without the runtime, kernel and features of the newer one (1.4.0 brought ephemeral "
        "storage, EFS volumes and task ENI networking for image pulls and secrets), and AWS "
        "retires old versions task by task. LATEST always runs the current version. The "
        "current versions (Linux 1.4.0, Windows 1.0.0) come from the table shipped in "
        "`auditor/data/fargate_platforms.json`, whose source and date each finding names; a "
        "version newer than the table's is not flagged."
    )
    remediation = (
        "Update the service to platformVersion LATEST and redeploy (aws ecs update-service "
        "--platform-version LATEST --force-new-deployment); from 1.3.0, check first that the "
        "task's subnets can reach ECR and Secrets Manager, which 1.4.0 reaches through the "
        "task's own ENI."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-service",)
    # The task definition is read only for the OS family of a service DescribeServices
    # gives none for; the check says so itself when it cannot tell.
    subject_requires: ClassVar[Mapping[str, frozenset[str]]] = {
        "ecs-service": frozenset({"ecs.services"}),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            pinned = service.platform_version
            if service.on_fargate and pinned is not None and pinned.upper() != "LATEST":
                finding = self._judge(service, pinned, inventory)
                if finding is not None:
                    yield finding

    def _judge(self, service: EcsService, pinned: str, inventory: Inventory) -> Finding | None:
        td = inventory.task_definition(service.task_definition_arn)
        family = service.platform_family or (td.os_family if td else None)
        if family is None:
            return self.unknown(service, "DescribeServices gave no platform family and the "
                                         "task definition was not read",
                                {"platform_version": pinned})
        if not version_key(pinned):
            return self.unknown(service, f"platform version {pinned!r} has no version number",
                                {"platform_version": pinned})
        table = fargate_platforms()
        current = table.current_for(family)
        if version_key(pinned) >= version_key(current):
            return None
        return self.finding(
            service,
            f"ECS service {service.name} is pinned to Fargate platform version {pinned}; the "
            f"current {family} version is {current} (as of {table.as_of}).",
            {"cluster": service.cluster_name, "platform_version": pinned,
             "platform_family": family, "current_version": current,
             "table": table.describe()},
        )


def _names(text: str) -> frozenset[str]:
    """A comma-separated parameter as lower-case names."""
    return frozenset(part.strip().lower() for part in text.split(",") if part.strip())


class ExecEnabled(Check):
    id = "ecs.exec_enabled"
    title = "ECS Exec enabled on a production service"
    severity = Severity.LOW
    category = Category.SECURITY
    rationale = (
        "ECS Exec opens an interactive shell in a running container to anyone allowed "
        "ecs:ExecuteCommand on it: in production that is a way around deployments and code "
        "review, to the data and credentials the task holds. Production is told by the "
        "service's tags: a tag key in `production_tag_keys` with a value in "
        "`production_tag_values` (both comma-separated, case-insensitive); other services "
        "are not judged."
    )
    remediation = (
        "Turn it off (aws ecs update-service --disable-execute-command --force-new-deployment) "
        "and turn it on only for an incident, or keep it with ecs:ExecuteCommand limited to a "
        "break-glass role and session logging to S3 or CloudWatch Logs."
    )
    requires = frozenset({"ecs.services"})
    subject_kinds = ("ecs-service",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "production_tag_keys": Param("env,environment",
                                     "tag keys naming a service's environment, comma-separated"),
        "production_tag_values": Param("prod,production",
                                       "values of those tags that mean production, "
                                       "comma-separated"),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        keys = _names(str(ctx.params["production_tag_keys"]))
        values = _names(str(ctx.params["production_tag_values"]))
        for service in inventory.ecs_services:
            production = {k: v for k, v in service.tags.items()
                          if k.lower() in keys and v.strip().lower() in values}
            if service.enable_execute_command and production:
                yield self.finding(
                    service,
                    f"ECS service {service.name} is tagged production "
                    f"({', '.join(f'{k}={v}' for k, v in production.items())}) and has ECS "
                    "Exec enabled: a shell in its containers is one API call away.",
                    {"cluster": service.cluster_name, "enable_execute_command": True,
                     "production_tags": production,
                     "thresholds": {k: ctx.params[k] for k in self.parameters}},
                )
