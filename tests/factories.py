"""Inventory records with sensible defaults, so each test states only what it is about."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.check import Check, CheckContext
from auditor.cost.model import Assumptions
from auditor.cost.workloads import Costs, estimate_workloads
from auditor.metrics import MetricQuery, MetricStore, Series
from auditor.model import (
    ContainerDefinition,
    EcsCluster,
    EcsService,
    EksCluster,
    EksNodegroup,
    IamRole,
    Inventory,
    LambdaFunction,
    LoadBalancer,
    ManagedPolicy,
    NatGateway,
    PolicyDocument,
    PolicyStatement,
    ProvisionedConcurrency,
    Route,
    RouteTable,
    ScalableTarget,
    SecretReference,
    Subnet,
    TargetGroup,
    TaskDefinition,
    VpcEndpoint,
)
from auditor.pricing.book import PriceBook

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders:1.0"


def subnet(subnet_id: str, vpc_id: str = "vpc-a", az: str = "us-east-1a") -> Subnet:
    return Subnet(arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet_id}", account=ACCOUNT,
                  region=REGION, subnet_id=subnet_id, vpc_id=vpc_id, availability_zone=az,
                  cidr="10.0.0.0/24", map_public_ip_on_launch=False)


def route(destination: str, target_type: Any, target_id: str, state: str = "active") -> Route:
    return Route(destination=destination, target_type=target_type, target_id=target_id,
                 state=state)


def route_table(table_id: str, routes: list[Route], subnets: list[str], vpc_id: str = "vpc-a",
                main: bool = False) -> RouteTable:
    local = route("10.0.0.0/16", "local", "local")
    return RouteTable(arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:route-table/{table_id}",
                      account=ACCOUNT, region=REGION, route_table_id=table_id, vpc_id=vpc_id,
                      routes=(local, *routes), subnet_ids=tuple(subnets), is_main=main)


def nat(nat_id: str, subnet_id: str, state: str = "available", vpc_id: str = "vpc-a",
        connectivity: str = "public") -> NatGateway:
    return NatGateway(arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/{nat_id}",
                      account=ACCOUNT, region=REGION, nat_gateway_id=nat_id, vpc_id=vpc_id,
                      subnet_id=subnet_id, state=state, connectivity_type=connectivity)


def load_balancer(name: str = "web", lb_type: str = "application",
                  created: datetime | None = None) -> LoadBalancer:
    short = "net" if lb_type == "network" else "app"
    return LoadBalancer(
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/{short}/{name}/"
        "50dc6c495c0c9188", ACCOUNT, REGION, name, lb_type, "internet-facing", "vpc-a",
        created)


def target_group(name: str, lb: LoadBalancer, target_type: str = "ip",
                 lambda_targets: tuple[str, ...] = ()) -> TargetGroup:
    return TargetGroup(f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/"
                       "73e2d6bc24d8a067", ACCOUNT, REGION, name, "HTTP", target_type,
                       (lb.arn,), lambda_targets)


def endpoint(service: str, vpc_id: str = "vpc-a", kind: str = "Interface",
             route_tables: tuple[str, ...] = (), private_dns: bool = True,
             state: str = "available") -> VpcEndpoint:
    ident = f"vpce-{service.replace('.', '')}"
    return VpcEndpoint(arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/{ident}",
                       account=ACCOUNT, region=REGION, endpoint_id=ident, vpc_id=vpc_id,
                       service_name=f"com.amazonaws.{REGION}.{service}", endpoint_type=kind,
                       state=state, subnet_ids=(), route_table_ids=route_tables,
                       private_dns_enabled=private_dns)


def container(image: str = ECR_IMAGE, log_driver: str | None = "awslogs",
              secrets: tuple[str, ...] = (), environment: dict[str, str] | None = None,
              health_check: bool = False, name: str = "app", essential: bool = True,
              log_group: str = "/ecs/orders") -> ContainerDefinition:
    return ContainerDefinition(
        name=name, image=image, essential=essential, cpu=0, memory_mib=None,
        environment=environment or {},
        secrets=tuple(SecretReference(
            name=secret, value_from=f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}")
            for secret in secrets),
        log_driver=log_driver, has_health_check=health_check,
        log_options={"awslogs-group": log_group, "awslogs-stream-prefix": "ecs"}
        if log_driver == "awslogs" else {},
    )


def task_definition(family: str = "orders", cpu: int | None = 1024, memory: int | None = 2048,
                    containers: tuple[ContainerDefinition, ...] | None = None,
                    task_role: str | None = None, execution_role: str | None = None,
                    arch: str = "X86_64") -> TaskDefinition:
    return TaskDefinition(
        arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1", account=ACCOUNT,
        region=REGION, family=family, revision=1, cpu_units=cpu, memory_mib=memory,
        network_mode="awsvpc", requires_compatibilities=("FARGATE",), task_role_arn=task_role,
        execution_role_arn=execution_role, cpu_architecture=arch,
        containers=containers if containers is not None else (container(),),
    )


def service(name: str, td: TaskDefinition, subnets: tuple[str, ...] = ("subnet-1",),
            public_ip: bool = False, desired: int = 2, cluster: str = "prod",
            launch_type: str = "FARGATE") -> EcsService:
    return EcsService(
        arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}", account=ACCOUNT,
        region=REGION, name=name, cluster_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
        status="ACTIVE", task_definition_arn=td.arn, desired_count=desired,
        running_count=desired, launch_type=launch_type, capacity_providers=(),
        scheduling_strategy="REPLICA", subnet_ids=subnets, security_group_ids=("sg-1",),
        assign_public_ip=public_ip, target_group_arns=(), deployment_controller="ECS",
        circuit_breaker_enabled=False, enable_execute_command=False, created_at=None,
    )


def role(name: str, statements: tuple[PolicyStatement, ...] = (),
         attached: tuple[str, ...] = ()) -> IamRole:
    return IamRole(arn=f"arn:aws:iam::{ACCOUNT}:role/{name}", account=ACCOUNT,
                   region="global", name=name, path="/",
                   trusted_services=("ecs-tasks.amazonaws.com",), attached_policy_arns=attached,
                   inline_policies=(PolicyDocument(name="inline", statements=statements),)
                   if statements else ())


def allow(actions: tuple[str, ...], resources: tuple[str, ...] = ("*",),
          effect: str = "Allow") -> PolicyStatement:
    return PolicyStatement(effect=effect, actions=actions, not_actions=(), resources=resources,
                           not_resources=(), has_condition=False)


def function(name: str, role_arn: str, memory: int = 1024, arch: str = "x86_64",
             subnets: tuple[str, ...] = ()) -> LambdaFunction:
    return LambdaFunction(
        arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}", account=ACCOUNT,
        region=REGION, name=name, runtime="python3.12", architectures=(arch,),
        memory_mb=memory, timeout_s=30, role_arn=role_arn, package_type="Zip",
        code_size_bytes=1000, vpc_id="vpc-a" if subnets else None, subnet_ids=subnets,
        security_group_ids=("sg-1",) if subnets else (), environment={},
        log_group_name=f"/aws/lambda/{name}", last_modified=NOW - timedelta(days=365),
    )


def cluster(name: str = "prod", insights: str | None = "enabled") -> EcsCluster:
    return EcsCluster(arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}", account=ACCOUNT,
                      region=REGION, name=name, status="ACTIVE", container_insights=insights)


def scalable_target(svc: EcsService, min_capacity: int = 2, max_capacity: int = 10
                    ) -> ScalableTarget:
    resource_id = f"service/{svc.cluster_name}/{svc.name}"
    return ScalableTarget(
        arn=f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{svc.name}",
        account=ACCOUNT, region=REGION, service_namespace="ecs", resource_id=resource_id,
        scalable_dimension="ecs:service:DesiredCount", min_capacity=min_capacity,
        max_capacity=max_capacity,
    )


def eks_cluster(name: str = "platform", private_endpoint: bool = True) -> EksCluster:
    return EksCluster(arn=f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}", account=ACCOUNT,
                      region=REGION, name=name, version="1.31", status="ACTIVE",
                      vpc_id="vpc-a", subnet_ids=("subnet-1",), security_group_ids=("sg-1",),
                      endpoint_public_access=True, endpoint_private_access=private_endpoint,
                      public_access_cidrs=("0.0.0.0/0",), logging_enabled=(),
                      secrets_encrypted=True,
                      role_arn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", created_at=None)


def nodegroup(name: str = "general", subnets: tuple[str, ...] = ("subnet-1",),
              node_role: str = f"arn:aws:iam::{ACCOUNT}:role/eks-node",
              cluster_name: str = "platform") -> EksNodegroup:
    return EksNodegroup(
        arn=f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{cluster_name}/{name}/0a1b",
        account=ACCOUNT, region=REGION, name=name, cluster_name=cluster_name, status="ACTIVE",
        subnet_ids=subnets, instance_types=("m6i.large",), capacity_type="ON_DEMAND",
        desired_size=2, min_size=2, max_size=4, node_role_arn=node_role, version="1.31",
        ami_type="AL2_x86_64",
    )


def managed_policy(name: str, statements: tuple[PolicyStatement, ...],
                   aws_managed: bool = True) -> ManagedPolicy:
    arn = (f"arn:aws:iam::aws:policy/{name}" if aws_managed
           else f"arn:aws:iam::{ACCOUNT}:policy/{name}")
    return ManagedPolicy(arn=arn, account=ACCOUNT, region="global", name=name,
                         aws_managed=aws_managed,
                         document=PolicyDocument(name=arn, statements=statements))


def provisioned(fn: LambdaFunction, qualifier: str = "live", allocated: int = 50
                ) -> ProvisionedConcurrency:
    return ProvisionedConcurrency(arn=f"{fn.arn}:{qualifier}", account=ACCOUNT, region=REGION,
                                  function_arn=fn.arn, function_name=fn.name,
                                  qualifier=qualifier, allocated=allocated,
                                  requested=allocated, status="READY")


def hourly(values: list[float], end: datetime = NOW) -> Series:
    start = end - timedelta(hours=len(values))
    return Series(tuple(start + timedelta(hours=i) for i in range(len(values))), tuple(values))


def context(check: Check, series: dict[MetricQuery, Series] | None = None,
            lookback_days: int = 14, inventory: Inventory | None = None,
            assumptions: Assumptions | None = None) -> CheckContext:
    """What the engine hands a check; for a check that reads costs, the workloads of
    `inventory` priced by the cost model on the same series, as a scan does."""
    metrics = MetricStore(series or {}, NOW - timedelta(days=lookback_days), NOW)
    costs = Costs()
    if check.reads_costs and inventory is not None:
        costs = Costs(estimate_workloads(inventory, metrics, PriceBook(),
                                         assumptions or Assumptions(), lookback_days, NOW))
    return CheckContext(NOW, lookback_days, check.params, metrics, PriceBook(), costs)


def lambda_zip() -> bytes:
    """The smallest deployment package `CreateFunction` accepts (handler `handler.handler`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()
