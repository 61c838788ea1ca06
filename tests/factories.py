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
    TaskDefinition,
    VpcEndpoint,
)
from auditor.pricing.book import PriceBook

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ECR_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/orders:1.0"


def subnet(subnet_id: str, vpc_id: str = "vpc-a", az: str = "us-east-1a") -> Subnet:
    return Subnet(f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet_id}", ACCOUNT, REGION,
                  subnet_id, vpc_id, az, "10.0.0.0/24", False)


def route(destination: str, target_type: Any, target_id: str, state: str = "active") -> Route:
    return Route(destination, target_type, target_id, state)


def route_table(table_id: str, routes: list[Route], subnets: list[str], vpc_id: str = "vpc-a",
                main: bool = False) -> RouteTable:
    local = Route("10.0.0.0/16", "local", "local", "active")
    return RouteTable(f"arn:aws:ec2:{REGION}:{ACCOUNT}:route-table/{table_id}", ACCOUNT, REGION,
                      table_id, vpc_id, (local, *routes), tuple(subnets), main)


def nat(nat_id: str, subnet_id: str, state: str = "available", vpc_id: str = "vpc-a",
        connectivity: str = "public") -> NatGateway:
    return NatGateway(f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/{nat_id}", ACCOUNT, REGION,
                      nat_id, vpc_id, subnet_id, state, connectivity)


def endpoint(service: str, vpc_id: str = "vpc-a", kind: str = "Interface",
             route_tables: tuple[str, ...] = (), private_dns: bool = True,
             state: str = "available") -> VpcEndpoint:
    ident = f"vpce-{service.replace('.', '')}"
    return VpcEndpoint(f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/{ident}", ACCOUNT, REGION,
                       ident, vpc_id, f"com.amazonaws.{REGION}.{service}", kind, state, (),
                       route_tables, private_dns)


def container(image: str = ECR_IMAGE, log_driver: str | None = "awslogs",
              secrets: tuple[str, ...] = (), environment: dict[str, str] | None = None,
              health_check: bool = False, name: str = "app", essential: bool = True,
              log_group: str = "/ecs/orders") -> ContainerDefinition:
    return ContainerDefinition(
        name, image, essential, 0, None, environment or {},
        tuple(SecretReference(secret,
                              f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}")
              for secret in secrets),
        log_driver, health_check,
        log_options={"awslogs-group": log_group, "awslogs-stream-prefix": "ecs"}
        if log_driver == "awslogs" else {},
    )


def task_definition(family: str = "orders", cpu: int | None = 1024, memory: int | None = 2048,
                    containers: tuple[ContainerDefinition, ...] | None = None,
                    task_role: str | None = None, execution_role: str | None = None,
                    arch: str = "X86_64") -> TaskDefinition:
    return TaskDefinition(
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1", ACCOUNT, REGION, family, 1,
        cpu, memory, "awsvpc", ("FARGATE",), task_role, execution_role, arch,
        containers if containers is not None else (container(),),
    )


def service(name: str, td: TaskDefinition, subnets: tuple[str, ...] = ("subnet-1",),
            public_ip: bool = False, desired: int = 2, cluster: str = "prod",
            launch_type: str = "FARGATE") -> EcsService:
    return EcsService(
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}", ACCOUNT, REGION, name,
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}", "ACTIVE", td.arn, desired, desired,
        launch_type, (), "REPLICA", subnets, ("sg-1",), public_ip, (), "ECS", False, False, None,
    )


def role(name: str, statements: tuple[PolicyStatement, ...] = (),
         attached: tuple[str, ...] = ()) -> IamRole:
    return IamRole(f"arn:aws:iam::{ACCOUNT}:role/{name}", ACCOUNT, "global", name, "/",
                   ("ecs-tasks.amazonaws.com",), attached,
                   (PolicyDocument("inline", statements),) if statements else ())


def allow(actions: tuple[str, ...], resources: tuple[str, ...] = ("*",),
          effect: str = "Allow") -> PolicyStatement:
    return PolicyStatement(effect, actions, (), resources, (), False)


def function(name: str, role_arn: str, memory: int = 1024, arch: str = "x86_64",
             subnets: tuple[str, ...] = ()) -> LambdaFunction:
    return LambdaFunction(
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}", ACCOUNT, REGION, name,
        "python3.12", (arch,), memory, 30, role_arn, "Zip", 1000, "vpc-a" if subnets else None,
        subnets, ("sg-1",) if subnets else (), {}, f"/aws/lambda/{name}",
        NOW - timedelta(days=365),
    )


def cluster(name: str = "prod", insights: str | None = "enabled") -> EcsCluster:
    return EcsCluster(f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}", ACCOUNT, REGION, name,
                      "ACTIVE", insights)


def scalable_target(svc: EcsService, min_capacity: int = 2, max_capacity: int = 10
                    ) -> ScalableTarget:
    resource_id = f"service/{svc.cluster_name}/{svc.name}"
    return ScalableTarget(
        f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{svc.name}",
        ACCOUNT, REGION, "ecs", resource_id, "ecs:service:DesiredCount", min_capacity,
        max_capacity,
    )


def eks_cluster(name: str = "platform", private_endpoint: bool = True) -> EksCluster:
    return EksCluster(f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}", ACCOUNT, REGION, name,
                      "1.31", "ACTIVE", "vpc-a", ("subnet-1",), ("sg-1",), True,
                      private_endpoint, ("0.0.0.0/0",), (), True,
                      f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", None)


def nodegroup(name: str = "general", subnets: tuple[str, ...] = ("subnet-1",),
              node_role: str = f"arn:aws:iam::{ACCOUNT}:role/eks-node",
              cluster_name: str = "platform") -> EksNodegroup:
    return EksNodegroup(
        f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{cluster_name}/{name}/0a1b", ACCOUNT, REGION,
        name, cluster_name, "ACTIVE", subnets, ("m6i.large",), "ON_DEMAND", 2, 2, 4, node_role,
        "1.31", "AL2_x86_64",
    )


def managed_policy(name: str, statements: tuple[PolicyStatement, ...],
                   aws_managed: bool = True) -> ManagedPolicy:
    arn = (f"arn:aws:iam::aws:policy/{name}" if aws_managed
           else f"arn:aws:iam::{ACCOUNT}:policy/{name}")
    return ManagedPolicy(arn, ACCOUNT, "global", name, aws_managed,
                         PolicyDocument(arn, statements))


def provisioned(fn: LambdaFunction, qualifier: str = "live", allocated: int = 50
                ) -> ProvisionedConcurrency:
    return ProvisionedConcurrency(f"{fn.arn}:{qualifier}", ACCOUNT, REGION, fn.arn, fn.name,
                                  qualifier, allocated, allocated, "READY")


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
