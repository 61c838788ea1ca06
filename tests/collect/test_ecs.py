from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from auditor.collect import ecs
from auditor.collect.base import parse_time
from auditor.demo.emulator import enable_execute_command
from auditor.model import Inventory, SecretReference
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, fail_when, network

SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-password"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web:1"


def answer_log_mode(client: Any, mode: str | None = "non-blocking") -> list[dict[str, Any]]:
    """Answer ListAccountSettings as AWS does for an account whose effective
    defaultLogDriverMode is `mode` (moto knows no such setting); returns the calls' params."""
    asked: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "ListAccountSettings":
            asked.append(dict(params))

    def answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name != "ListAccountSettings":
            return None
        settings = [{"name": "defaultLogDriverMode", "value": mode, "type": "aws_managed",
                     "principalArn": f"arn:aws:iam::{ACCOUNT}:root"}] if mode else []
        return AWSResponse("", 200, HTTPHeaders(), None), {
            "settings": settings, "ResponseMetadata": {"HTTPStatusCode": 200}}

    client.meta.events.register("before-parameter-build.*.*", remember)
    client.meta.events.register("before-call.*.*", answer)
    return asked


def _fargate_cluster(services: int) -> tuple[str, str]:
    """A Fargate cluster whose services alternate between two task definitions."""
    client = boto3.client("ecs", region_name=REGION)
    _, subnet, group = network()
    client.create_cluster(clusterName="web", settings=[{"name": "containerInsights",
                                                        "value": "enabled"}],
                          tags=[{"key": "team", "value": "payments"}])
    web = client.register_task_definition(
        family="web", cpu="1024", memory="2048", networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        taskRoleArn=f"arn:aws:iam::{ACCOUNT}:role/web-task",
        executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/web-exec",
        containerDefinitions=[{
            "name": "app", "image": IMAGE, "cpu": 512, "memory": 1024, "essential": True,
            "environment": [{"name": "STAGE", "value": "prod"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET}],
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}},
            "healthCheck": {"command": ["CMD", "true"]},
        }, {
            "name": "sidecar", "image": "public.ecr.aws/nginx/nginx:1", "essential": False,
            "repositoryCredentials": {"credentialsParameter": SECRET},
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    worker = client.register_task_definition(
        family="worker", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        containerDefinitions=[{"name": "worker", "image": "busybox", "memory": 256}],
    )["taskDefinition"]["taskDefinitionArn"]
    for index in range(services):
        client.create_service(
            cluster="web", serviceName=f"svc-{index:02}", desiredCount=2, launchType="FARGATE",
            taskDefinition=web if index % 2 == 0 else worker,
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": [subnet], "securityGroups": [group], "assignPublicIp": "ENABLED"}},
            tags=[{"key": "service", "value": str(index)}],
        )
    client.update_service(cluster="web", service="svc-00", deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    return web, worker


def _ec2_cluster() -> str:
    """A cluster with one EC2 container instance and one EC2-launched service."""
    client = boto3.client("ecs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = str(ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                                     InstanceType="m5.large")["Instances"][0]["InstanceId"])
    client.create_cluster(clusterName="batch")
    client.register_container_instance(cluster="batch", instanceIdentityDocument=json.dumps(
        {"instanceId": instance, "instanceType": "m5.large"}))
    arn = client.register_task_definition(
        family="batch", containerDefinitions=[{"name": "job", "image": "busybox", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    client.create_service(cluster="batch", serviceName="jobs", taskDefinition=arn,
                          desiredCount=1, launchType="EC2")
    return instance


def test_collects_clusters_services_and_task_definitions(scan: Callable[..., Scan]) -> None:
    web, _ = _fargate_cluster(services=2)
    run = scan()
    asked = answer_log_mode(run.ctx.client("ecs"))

    inventory = ecs.collect(run.ctx)

    assert run.errors == []
    assert asked == [{"name": "defaultLogDriverMode", "effectiveSettings": True}]
    (cluster,) = inventory.ecs_clusters
    assert cluster.arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web"
    assert (cluster.account, cluster.region, cluster.name) == (ACCOUNT, REGION, "web")
    assert cluster.container_insights == "enabled"
    assert cluster.tags == {"team": "payments"}

    services = {s.name: s for s in inventory.ecs_services}
    first = services["svc-00"]
    assert first.cluster_arn == cluster.arn and first.cluster_name == "web"
    assert first.task_definition_arn == web
    assert first.launch_type == "FARGATE" and first.on_fargate
    assert first.desired_count == 2
    assert first.assign_public_ip is True
    assert len(first.subnet_ids) == 1 and first.security_group_ids[0].startswith("sg-")
    assert first.circuit_breaker_enabled is True
    assert services["svc-01"].circuit_breaker_enabled is False
    assert first.deployment_controller == "ECS"
    assert first.scheduling_strategy == "REPLICA"
    assert first.enable_execute_command is False
    assert first.tags == {"service": "0"}

    definition = inventory.task_definition(web)
    assert definition is not None
    assert (definition.family, definition.revision) == ("web", 1)
    assert (definition.cpu_units, definition.memory_mib, definition.vcpu) == (1024, 2048, 1.0)
    assert definition.network_mode == "awsvpc"
    assert definition.requires_compatibilities == ("FARGATE",)
    assert definition.task_role_arn == f"arn:aws:iam::{ACCOUNT}:role/web-task"
    assert definition.cpu_architecture == "ARM64"
    app, sidecar = definition.containers
    assert (app.name, app.image, app.cpu, app.memory_mib, app.essential) == (
        "app", IMAGE, 512, 1024, True)
    assert app.environment == {"STAGE": "prod"}
    assert app.secrets == (SecretReference("DB_PASSWORD", SECRET),)
    assert app.log_driver == "awslogs" and app.has_health_check
    assert app.log_options == {"awslogs-group": "/ecs/web"}
    assert app.ecr_repository_arn == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web"
    assert sidecar.ecr_repository_arn is None
    assert not app.has_repository_credentials
    assert (sidecar.cpu, sidecar.memory_mib, sidecar.essential) == (0, None, False)
    assert sidecar.log_driver is None and not sidecar.has_health_check
    assert sidecar.has_repository_credentials
    assert set(definition.needs_endpoints()) == {"ecr.api", "ecr.dkr", "s3", "logs",
                                                 "secretsmanager"}
    assert (definition.os_family, definition.default_log_driver_mode) == ("LINUX",
                                                                          "non-blocking")
    assert (app.log_mode, app.user, app.privileged, app.readonly_root_filesystem) == (
        None, None, False, False)


def test_task_definition_without_sizes_or_platform_uses_defaults(
    scan: Callable[..., Scan],
) -> None:
    _, worker = _fargate_cluster(services=2)
    run = scan()

    definition = ecs.collect(run.ctx).task_definition(worker)

    assert definition is not None
    assert (definition.cpu_units, definition.memory_mib, definition.vcpu) == (None, None, None)
    assert definition.cpu_architecture == "X86_64"
    assert definition.task_role_arn is None
    assert definition.containers[0].environment == {}


def test_sizes_written_in_vcpu_and_gb_are_read_as_units(scan: Callable[..., Scan]) -> None:
    # AWS converts these on registration; emulators hand them back as written.
    client = boto3.client("ecs", region_name=REGION)
    _, subnet, group = network()
    client.create_cluster(clusterName="sized")
    arn = client.register_task_definition(
        family="sized", cpu="0.5 vCPU", memory="1 GB", networkMode="awsvpc",
        containerDefinitions=[{"name": "app", "image": "busybox"}],
    )["taskDefinition"]["taskDefinitionArn"]
    client.create_service(cluster="sized", serviceName="sized", taskDefinition=arn,
                          desiredCount=1, launchType="FARGATE", networkConfiguration={
                              "awsvpcConfiguration": {"subnets": [subnet],
                                                      "securityGroups": [group]}})

    definition = ecs.collect(scan().ctx).task_definition(arn)

    assert definition is not None
    assert (definition.cpu_units, definition.memory_mib) == (512, 1024)


def test_calls_batch_services_and_describe_each_task_definition_once(
    scan: Callable[..., Scan],
) -> None:
    _fargate_cluster(services=23)
    run = scan()

    inventory = ecs.collect(run.ctx)

    assert len(inventory.ecs_services) == 23
    assert len(inventory.task_definitions) == 2
    assert run.calls("ecs:DescribeServices") == 3  # ceil(23 / 10)
    assert run.calls("ecs:DescribeTaskDefinition") == 2
    assert run.calls("ecs:DescribeClusters") == 1
    # Fargate only: no container instances to look for.
    assert run.calls("ecs:ListContainerInstances") == 0


def test_container_instances_only_for_clusters_running_ec2_services(
    scan: Callable[..., Scan],
) -> None:
    _fargate_cluster(services=1)
    instance_id = _ec2_cluster()
    run = scan()

    inventory = ecs.collect(run.ctx)

    (instance,) = inventory.container_instances
    assert instance.cluster_arn == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/batch"
    assert (instance.ec2_instance_id, instance.instance_type, instance.status) == (
        instance_id, "m5.large", "ACTIVE")
    assert run.calls("ecs:ListContainerInstances") == 1
    assert run.calls("ecs:DescribeContainerInstances") == 1


def test_only_wanted_datasets_are_called(scan: Callable[..., Scan]) -> None:
    _fargate_cluster(services=1)
    run = scan(wanted={"ecs.clusters"})

    inventory = ecs.collect(run.ctx)

    assert len(inventory.ecs_clusters) == 1
    assert inventory.ecs_services == ()
    assert set(run.stats.by_operation()) == {"ecs:ListClusters", "ecs:DescribeClusters"}
    assert ecs.collect(scan(wanted={"ec2.network"}).ctx) == Inventory()


def test_denied_describe_services_is_recorded_and_clusters_still_returned(
    scan: Callable[..., Scan],
) -> None:
    _fargate_cluster(services=2)
    run = scan()
    deny(run.ctx.client("ecs"), "DescribeServices")

    inventory = ecs.collect(run.ctx)

    assert len(inventory.ecs_clusters) == 1
    assert inventory.ecs_services == () and inventory.task_definitions == ()
    (error,) = run.errors
    assert (error.account, error.region, error.service, error.operation, error.code) == (
        ACCOUNT, REGION, "ecs", "DescribeServices", "AccessDeniedException")
    # The task definitions and container instances are found through the services.
    assert error.datasets == ("ecs.services", "ecs.task_definitions", "ecs.container_instances")


def test_denied_list_clusters_leaves_every_wanted_dataset_unknown(
    scan: Callable[..., Scan],
) -> None:
    _fargate_cluster(services=1)
    run = scan(wanted={"ecs.clusters", "ecs.services"})
    deny(run.ctx.client("ecs"), "ListClusters")

    inventory = ecs.collect(run.ctx)

    assert inventory.ecs_clusters == () and inventory.ecs_services == ()
    (error,) = run.errors
    assert (error.operation, error.datasets) == ("ListClusters", ("ecs.clusters", "ecs.services"))


def test_parse_time_accepts_datetimes_and_strings() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_time(moment) == moment
    assert parse_time("2024-01-01T00:00:00.000+0000") == moment
    assert parse_time("2024-01-01T00:00:00Z") == moment
    assert parse_time("2024-01-01T00:00:00") == moment
    assert parse_time(None) is None
    assert parse_time("") is None
    assert parse_time("yesterday") is None


def test_a_task_definition_that_cannot_be_described_costs_only_the_services_running_it(
    scan: Callable[..., Scan],
) -> None:
    web, worker = _fargate_cluster(services=4)
    run = scan()
    fail_when(run.ctx.client("ecs"), "DescribeTaskDefinition",
              lambda params: params["taskDefinition"] == worker)
    answer_log_mode(run.ctx.client("ecs"))

    inventory = ecs.collect(run.ctx)

    assert [td.arn for td in inventory.task_definitions] == [web]
    assert len(inventory.ecs_services) == 4
    (error,) = run.errors
    assert (error.operation, error.code, error.datasets) == (
        "DescribeTaskDefinition", "ThrottlingException", ("ecs.task_definitions",))
    on_worker = {s.arn for s in inventory.ecs_services if s.task_definition_arn == worker}
    assert error.unread == (worker,)
    assert set(error.resources) == on_worker and len(on_worker) == 2


def test_a_timeout_is_recorded_under_the_call_that_timed_out(scan: Callable[..., Scan]) -> None:
    _fargate_cluster(services=12)
    run = scan(wanted={"ecs.services"})
    timeout = ReadTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com")
    # The second batch of ten times out; the first is kept.
    fail_when(run.ctx.client("ecs"), "DescribeServices",
              lambda params: "svc-11" in " ".join(params["services"]), error=timeout)

    inventory = ecs.collect(run.ctx)

    assert len(inventory.ecs_services) == 10
    (error,) = run.errors
    # Not "ListServices", the listing it happened in: the call that failed.
    assert (error.operation, error.code) == ("DescribeServices", "ReadTimeoutError")
    # The two services are not read, nor are the task definitions only they would name.
    services, definitions = error.unread[:2], error.unread[2:]
    assert all("service/web/svc-1" in arn for arn in services)
    assert definitions == (f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/*",)


def test_a_service_deleted_since_it_was_listed_is_dropped_without_an_error(
    scan: Callable[..., Scan],
) -> None:
    run = scan(wanted={"ecs.services"})
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/web"
    gone, kept = (f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/web/{name}" for name in ("a", "b"))
    with Stubber(run.ctx.client("ecs")) as stub:
        stub.add_response("list_clusters", {"clusterArns": [cluster]})
        stub.add_response("list_services", {"serviceArns": [gone, kept]})
        stub.add_response("describe_services", {
            "services": [{"serviceArn": kept, "serviceName": "b", "clusterArn": cluster,
                          "status": "ACTIVE", "desiredCount": 1, "runningCount": 1}],
            "failures": [{"arn": gone, "reason": "MISSING"}]})
        inventory = ecs.collect(run.ctx)
    assert [s.arn for s in inventory.ecs_services] == [kept]
    assert run.errors == []


def test_container_security_settings_and_the_platform_are_read(
    scan: Callable[..., Scan],
) -> None:
    client = boto3.client("ecs", region_name=REGION)
    client.create_cluster(clusterName="ops")
    arn = client.register_task_definition(
        family="agent", networkMode="host", requiresCompatibilities=["EC2"],
        runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"},
        containerDefinitions=[{
            "name": "agent", "image": "busybox", "memory": 128, "privileged": True,
            "user": "0:0", "readonlyRootFilesystem": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/agent", "mode": "blocking"}},
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    client.create_service(cluster="ops", serviceName="agent", taskDefinition=arn,
                          desiredCount=1, launchType="FARGATE", platformVersion="1.3.0")
    enable_execute_command(ACCOUNT, REGION, "ops", "agent")
    run = scan()

    inventory = ecs.collect(run.ctx)

    [service] = inventory.ecs_services
    assert (service.platform_version, service.enable_execute_command) == ("1.3.0", True)
    [definition] = inventory.task_definitions
    assert definition.network_mode == "host" and definition.on_windows
    [agent] = definition.containers
    assert (agent.privileged, agent.user, agent.readonly_root_filesystem) == (True, "0:0", True)
    assert agent.log_mode == "blocking"
    # Every awslogs container sets its mode: the account default is not asked for.
    assert run.calls("ecs:ListAccountSettings") == 0 and run.errors == []
    assert definition.default_log_driver_mode is None


def test_the_account_default_is_read_once_per_region_and_its_failure_costs_only_it(
    scan: Callable[..., Scan],
) -> None:
    _fargate_cluster(services=4)
    run = scan()
    answer_log_mode(run.ctx.client("ecs"), "blocking")
    inventory = ecs.collect(run.ctx)
    assert run.calls("ecs:ListAccountSettings") == 1
    assert {td.default_log_driver_mode for td in inventory.task_definitions} == {"blocking"}

    denied = scan()
    deny(denied.ctx.client("ecs"), "ListAccountSettings")
    inventory = ecs.collect(denied.ctx)
    assert len(inventory.task_definitions) == 2 and len(inventory.ecs_services) == 4
    [error] = denied.errors
    assert (error.operation, error.datasets) == ("ListAccountSettings",
                                                 ("ecs.account_settings",))
    assert {td.default_log_driver_mode for td in inventory.task_definitions} == {None}

    unwanted = scan(wanted={"ecs.services", "ecs.task_definitions"})
    ecs.collect(unwanted.ctx)
    assert unwanted.calls("ecs:ListAccountSettings") == 0
    # A region with no task definitions has nothing that could rely on the default.
    elsewhere = scan(region="eu-west-1")
    ecs.collect(elsewhere.ctx)
    assert elsewhere.calls("ecs:ListAccountSettings") == 0 and elsewhere.errors == []
