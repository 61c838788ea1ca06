"""ECS clusters, services, the task definitions those services run, the container
instances of EC2-backed clusters, and the account's default log driver mode.

Everything is reached from the clusters, so a failed `ListClusters` leaves every wanted ECS
dataset unknown; a failed service listing does the same to the task definitions and container
instances, which are only found through the services. A failed describe of one batch of
services or of one task definition costs only those resources their verdicts. A failed
`ListAccountSettings` costs only the task definitions whose containers rely on the account's
default log driver mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from auditor.collect.base import (
    ScopeCollector,
    chunks,
    identifiers,
    paginate,
    parse_time,
    tag_map,
)
from auditor.model import (
    CollectionError,
    ContainerDefinition,
    ContainerInstance,
    EcsCluster,
    EcsService,
    Inventory,
    SecretReference,
    TaskDefinition,
)

_DATASETS = ("ecs.clusters", "ecs.services", "ecs.task_definitions", "ecs.container_instances")
_LOG_MODE_SETTING = "defaultLogDriverMode"
_NEED_SERVICES = ("ecs.services", "ecs.task_definitions", "ecs.container_instances")
_PAGE = {"PaginationConfig": {"PageSize": 100}}
"""ListClusters, ListServices and ListContainerInstances return 10 or 100 by default."""


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(*_DATASETS):
        return Inventory()
    ecs = ctx.client("ecs")
    cluster_arns: list[str] = []
    clusters: list[EcsCluster] = []
    services: list[EcsService] = []
    task_definitions: list[TaskDefinition] = []
    instances: list[ContainerInstance] = []

    with ctx.loading(ctx.wanted_among(_DATASETS), "ecs", "ListClusters"):
        cluster_arns = identifiers(paginate(ecs, "list_clusters", "clusterArns", **_PAGE))
    if ctx.wants("ecs.clusters"):
        clusters = _clusters(ctx, ecs, cluster_arns)
    if ctx.wants(*_NEED_SERVICES):
        services = _services(ctx, ecs, cluster_arns)
    if ctx.wants("ecs.task_definitions"):
        task_definitions = _task_definitions(ctx, ecs, services)
    if ctx.wants("ecs.container_instances"):
        instances = _container_instances(ctx, ecs, services)
    if ctx.wants("ecs.account_settings"):
        task_definitions = _with_default_log_mode(ctx, ecs, task_definitions)
    return Inventory(ecs_clusters=tuple(clusters), ecs_services=tuple(services),
                     task_definitions=tuple(task_definitions),
                     container_instances=tuple(instances))


def _clusters(ctx: ScopeCollector, ecs: Any, cluster_arns: list[str]) -> list[EcsCluster]:
    """The clusters described a hundred at a time (the API's limit), with their settings and
    tags."""
    clusters: list[EcsCluster] = []
    for batch in chunks(cluster_arns, 100):
        with ctx.describing("ecs.clusters", "ecs", "DescribeClusters", unread=batch):
            response = ecs.describe_clusters(clusters=batch, include=["SETTINGS", "TAGS"])
            _record_failures(ctx, response, "ecs.clusters", "DescribeClusters")
            clusters += ctx.parse_each(response.get("clusters", []),
                                       lambda raw: _cluster(raw, ctx), ("ecs.clusters",),
                                       "ecs", "DescribeClusters")
    return clusters


def _services(ctx: ScopeCollector, ecs: Any, cluster_arns: list[str]) -> list[EcsService]:
    """Each cluster listed on its own, and its services described ten at a time (the API's
    limit): a failed batch costs those ten services their verdicts, not the region's."""
    wanted = ctx.wanted_among(_NEED_SERVICES)
    services: list[EcsService] = []
    for cluster_arn in cluster_arns:
        arns: list[str] = []
        with ctx.loading(wanted, "ecs", "ListServices"):
            arns = identifiers(paginate(ecs, "list_services", "serviceArns",
                                        cluster=cluster_arn, **_PAGE))
        # The task definitions of services not described are not found either.
        unfound = f"arn:aws:ecs:{ctx.scope.region}:{ctx.scope.account}:task-definition/*"
        for batch in chunks(arns, 10):
            with ctx.describing(wanted, "ecs", "DescribeServices", unread=(*batch, unfound)):
                response = ecs.describe_services(cluster=cluster_arn, services=batch,
                                                 include=["TAGS"])
                _record_failures(ctx, response, wanted, "DescribeServices")
                services += ctx.parse_each(response.get("services", []),
                                           lambda raw: _service(raw, ctx), wanted, "ecs",
                                           "DescribeServices")
    return services


def _task_definitions(ctx: ScopeCollector, ecs: Any, services: list[EcsService]
                      ) -> list[TaskDefinition]:
    """Each distinct revision the services run, once. One that cannot be described leaves
    the services running it unknown for the checks that read it, and nothing else."""
    users: dict[str, list[str]] = {}
    for service in services:
        if service.task_definition_arn:
            users.setdefault(service.task_definition_arn, []).append(service.arn)
    found: list[TaskDefinition] = []
    for arn, service_arns in users.items():
        # Not `describing`: a task definition a live service runs cannot be gone, so a
        # NotFound here is a failure like any other, and the services rest on it.
        with ctx.recorder.loading(ctx.scope, "ecs.task_definitions", "ecs",
                                  "DescribeTaskDefinition", tuple(service_arns), (arn,)):
            response = ecs.describe_task_definition(taskDefinition=arn)
            found.append(_task_definition(response["taskDefinition"], arn, ctx))
    return found


def _container_instances(ctx: ScopeCollector, ecs: Any, services: list[EcsService]
                         ) -> list[ContainerInstance]:
    """The container instances of each cluster that runs a service on EC2, listed and
    described a hundred at a time; a failure costs the dataset for the whole region."""
    instances: list[ContainerInstance] = []
    for cluster_arn in dict.fromkeys(s.cluster_arn for s in services if _on_ec2(s)):
        with ctx.loading("ecs.container_instances", "ecs", "ListContainerInstances"):
            arns = identifiers(paginate(ecs, "list_container_instances",
                                        "containerInstanceArns", cluster=cluster_arn,
                                        **_PAGE))
            for batch in chunks(arns, 100):
                response = ecs.describe_container_instances(cluster=cluster_arn,
                                                            containerInstances=batch)
                instances.extend(_instance(i, cluster_arn, ctx)
                                 for i in response.get("containerInstances", []))
    return instances


def _with_default_log_mode(ctx: ScopeCollector, ecs: Any,
                           task_definitions: list[TaskDefinition]) -> list[TaskDefinition]:
    """The region's effective `defaultLogDriverMode`, read once and only when a container
    logs with awslogs and sets no `mode` of its own (it is what that container gets). Its
    failure costs the dataset for the region; the check asks for it only from the task
    definitions that rely on the default."""
    if not any(c.log_driver == "awslogs" and c.log_mode is None
               for td in task_definitions for c in td.containers):
        return task_definitions
    mode: str | None = None
    with ctx.loading("ecs.account_settings", "ecs", "ListAccountSettings"):
        settings = list(paginate(ecs, "list_account_settings", "settings",
                                 name=_LOG_MODE_SETTING, effectiveSettings=True))
        mode = next((str(s["value"]) for s in settings
                     if s.get("name") == _LOG_MODE_SETTING and s.get("value")), None)
    return [replace(td, default_log_driver_mode=mode) for td in task_definitions]


def _record_failures(ctx: ScopeCollector, response: Mapping[str, Any],
                     datasets: str | tuple[str, ...], operation: str) -> None:
    """The `failures` a batch describe returns beside its results: `MISSING` is a resource
    deleted since it was listed (dropped); any other reason costs that resource its verdicts.
    """
    names = (datasets,) if isinstance(datasets, str) else datasets
    for failure in response.get("failures", []):
        arn, reason = str(failure.get("arn", "")), str(failure.get("reason", ""))
        if reason.upper() == "MISSING" or not arn:
            continue
        ctx.recorder.add(CollectionError(
            ctx.scope.account, ctx.scope.region, "ecs", operation, reason or "UNKNOWN",
            str(failure.get("detail") or f"{arn}: {reason or 'no reason given'}"), names,
            unread=(arn,)))


def _on_ec2(service: EcsService) -> bool:
    """EC2 launch type, or a capacity provider backed by an Auto Scaling group."""
    return service.launch_type == "EC2" or any(
        not provider.startswith("FARGATE") for provider in service.capacity_providers
    )


def _units(value: Any) -> int | None:
    """Task-level cpu and memory are strings. AWS turns "1 vCPU" / "2 GB" into units when the
    task definition is registered; emulators hand them back as written."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().lower()
    for suffix in ("vcpu", "gb"):
        if text.endswith(suffix):
            return int(float(text.removesuffix(suffix)) * 1024)
    return int(float(text))


def _cluster(raw: dict[str, Any], ctx: ScopeCollector) -> EcsCluster:
    settings = {s.get("name"): s.get("value") for s in raw.get("settings", [])}
    return EcsCluster(
        raw["clusterArn"], ctx.scope.account, ctx.scope.region, raw.get("clusterName", ""),
        raw.get("status", "UNKNOWN"), settings.get("containerInsights"), tag_map(raw.get("tags")),
    )


def _service(raw: dict[str, Any], ctx: ScopeCollector) -> EcsService:
    network = raw.get("networkConfiguration", {}).get("awsvpcConfiguration", {})
    deployment = raw.get("deploymentConfiguration", {})
    return EcsService(
        raw["serviceArn"], ctx.scope.account, ctx.scope.region,
        name=raw.get("serviceName", ""),
        cluster_arn=raw.get("clusterArn", ""),
        status=raw.get("status", "UNKNOWN"),
        task_definition_arn=raw.get("taskDefinition", ""),
        desired_count=int(raw.get("desiredCount", 0)),
        running_count=int(raw.get("runningCount", 0)),
        launch_type=raw.get("launchType"),
        capacity_providers=tuple(p["capacityProvider"]
                                 for p in raw.get("capacityProviderStrategy", [])
                                 if "capacityProvider" in p),
        scheduling_strategy=raw.get("schedulingStrategy", "REPLICA"),
        subnet_ids=tuple(network.get("subnets", [])),
        security_group_ids=tuple(network.get("securityGroups", [])),
        assign_public_ip=network.get("assignPublicIp") == "ENABLED",
        target_group_arns=tuple(lb["targetGroupArn"] for lb in raw.get("loadBalancers", [])
                                if "targetGroupArn" in lb),
        deployment_controller=raw.get("deploymentController", {}).get("type", "ECS"),
        circuit_breaker_enabled=bool(deployment.get("deploymentCircuitBreaker", {})
                                     .get("enable")),
        enable_execute_command=bool(raw.get("enableExecuteCommand")),
        created_at=parse_time(raw.get("createdAt")),
        tags=tag_map(raw.get("tags")),
        platform_version=raw.get("platformVersion") or None,
        platform_family=raw.get("platformFamily") or None,
    )


def _task_definition(raw: dict[str, Any], asked: str, ctx: ScopeCollector) -> TaskDefinition:
    return TaskDefinition(
        raw.get("taskDefinitionArn", asked), ctx.scope.account, ctx.scope.region,
        family=raw.get("family", ""),
        revision=int(raw.get("revision", 0)),
        cpu_units=_units(raw.get("cpu")),
        memory_mib=_units(raw.get("memory")),
        network_mode=raw.get("networkMode"),
        requires_compatibilities=tuple(raw.get("requiresCompatibilities", [])),
        task_role_arn=raw.get("taskRoleArn"),
        execution_role_arn=raw.get("executionRoleArn"),
        cpu_architecture=raw.get("runtimePlatform", {}).get("cpuArchitecture", "X86_64"),
        containers=tuple(_container(c) for c in raw.get("containerDefinitions", [])),
        os_family=raw.get("runtimePlatform", {}).get("operatingSystemFamily") or "LINUX",
    )


def _container(raw: dict[str, Any]) -> ContainerDefinition:
    return ContainerDefinition(
        name=raw.get("name", ""),
        image=raw.get("image", ""),
        essential=bool(raw.get("essential", True)),
        cpu=int(raw.get("cpu", 0)),
        memory_mib=raw.get("memory"),
        environment={str(e["name"]): str(e.get("value", ""))
                     for e in raw.get("environment", []) if "name" in e},
        secrets=tuple(SecretReference(s.get("name", ""), s.get("valueFrom", ""))
                      for s in raw.get("secrets", [])),
        log_driver=raw.get("logConfiguration", {}).get("logDriver"),
        has_health_check=bool(raw.get("healthCheck")),
        has_repository_credentials=bool(raw.get("repositoryCredentials")),
        log_options={str(k): str(v) for k, v in
                     raw.get("logConfiguration", {}).get("options", {}).items()},
        privileged=bool(raw.get("privileged")),
        user=raw.get("user") or None,
        readonly_root_filesystem=bool(raw.get("readonlyRootFilesystem")),
    )


def _instance(raw: dict[str, Any], cluster_arn: str, ctx: ScopeCollector) -> ContainerInstance:
    attributes = {a.get("name"): a.get("value") for a in raw.get("attributes", [])}
    return ContainerInstance(
        raw["containerInstanceArn"], ctx.scope.account, ctx.scope.region, cluster_arn,
        raw.get("ec2InstanceId", ""), attributes.get("ecs.instance-type"),
        raw.get("status", "UNKNOWN"),
    )
