"""Seed a large account into a running moto server over HTTP (latency off while seeding).

The shape is what the issue asks for, spread evenly over the regions: Lambda functions (a
fraction in a VPC, roles shared by groups of functions), ECS Fargate services in clusters
(each service with its own task definition family and task role, one execution role),
EKS clusters with one managed node group each, one VPC with three subnets and a security group
per region, and 14 days of hourly CloudWatch data for a sample of functions and services.
`seed_org` seeds that shape into every account of an organization.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import boto3
from botocore.config import Config

LAMBDA_METRICS = (("Invocations", "Count"), ("Errors", "Count"), ("Duration", "Milliseconds"))
ECS_METRICS = (("CPUUtilization", "Percent"), ("MemoryUtilization", "Percent"))
FUNCTIONS_PER_ROLE = 50
MAX_DATUMS_PER_CALL = 1000


@dataclass(frozen=True)
class Scale:
    functions: int = 5000
    services: int = 500
    ecs_clusters: int = 10
    eks_clusters: int = 20
    regions: tuple[str, ...] = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2")
    metric_sample: float = 0.05
    vpc_fraction: float = 0.1
    days: int = 14

    @property
    def workloads(self) -> int:
        return self.functions + self.services + self.eks_clusters


@dataclass
class Seeded:
    functions: list[tuple[str, str]]          # (region, name)
    services: list[tuple[str, str, str]]      # (region, cluster, name)
    eks_clusters: list[tuple[str, str]]
    roles: int
    datapoints: int


def _share(total: int, parts: int, index: int) -> int:
    """`total` split as evenly as possible over `parts`; the share of part `index`."""
    return total // parts + (1 if index < total % parts else 0)


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


_TRUST = {
    service: json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    for service in ("lambda", "ecs-tasks", "eks", "ec2")
}


class _Seeder:
    """Clients, roles and a worker pool for one seeding run."""

    def __init__(self, scale: Scale, workers: int, session: boto3.session.Session) -> None:
        self.scale = scale
        self.workers = workers
        self.session = session
        self.config = Config(retries={"mode": "standard", "max_attempts": 3},
                             max_pool_connections=32)
        self.iam = self.client("iam", "us-east-1")
        self.roles: dict[str, str] = {}
        self.seeded = Seeded([], [], [], 0, 0)
        self.code = _code()

    def client(self, service: str, region: str) -> Any:
        # Not thread-safe (boto3 sessions are not): called from the main thread only.
        session: Any = self.session
        return session.client(service, region_name=region, config=self.config)

    def role(self, name: str, trust: str) -> str:
        """Not thread-safe either: roles are made before the work that uses them fans out."""
        if name not in self.roles:
            self.roles[name] = self.iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=_TRUST[trust])["Role"]["Arn"]
        return self.roles[name]

    def parallel(self, work: Iterable[Callable[[], Any]]) -> None:
        with ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(job) for job in work]:
                future.result()

    def network(self, region: str) -> tuple[list[str], str]:
        ec2 = self.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24",
                                     AvailabilityZone=f"{region}{'abc'[n]}")["Subnet"]["SubnetId"]
                   for n in range(3)]
        group = ec2.create_security_group(GroupName="workloads", Description="workloads",
                                          VpcId=vpc)["GroupId"]
        return subnets, group

    def functions(self, region: str, count: int, subnets: list[str], group: str) -> None:
        lam = self.client("lambda", region)
        fraction = self.scale.vpc_fraction
        vpc_every = round(1 / fraction) if fraction > 0 else 0
        names = [f"fn-{region}-{n:05d}" for n in range(count)]
        roles = [self.role(f"fn-role-{region}-{n // FUNCTIONS_PER_ROLE:03d}", "lambda")
                 for n in range(count)]

        def make(n: int) -> None:
            extra: dict[str, Any] = {}
            if vpc_every and n % vpc_every == 0:
                extra["VpcConfig"] = {"SubnetIds": subnets[:2], "SecurityGroupIds": [group]}
            lam.create_function(
                FunctionName=names[n], Runtime="python3.12", Role=roles[n],
                Handler="handler.handler", Code={"ZipFile": self.code}, MemorySize=512,
                Timeout=30, Architectures=["x86_64"], **extra)

        self.parallel([partial(make, n) for n in range(count)])
        self.seeded.functions += [(region, name) for name in names]

    def services(self, region: str, cluster: str, count: int, subnets: list[str],
                 group: str, execution_role: str) -> None:
        ecs = self.client("ecs", region)
        ecs.create_cluster(clusterName=cluster)
        names = [f"svc-{n:03d}" for n in range(count)]
        roles = [self.role(f"task-{region}-{cluster}-{name}", "ecs-tasks") for name in names]

        def make(n: int) -> None:
            family = f"{cluster}-{names[n]}"
            ecs.register_task_definition(
                family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
                cpu="1024", memory="2048", taskRoleArn=roles[n], executionRoleArn=execution_role,
                containerDefinitions=[{
                    "name": "app", "essential": True,
                    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
                    "logConfiguration": {"logDriver": "awslogs", "options": {
                        "awslogs-group": f"/ecs/{family}", "awslogs-region": region,
                        "awslogs-stream-prefix": "app"}}}])
            ecs.create_service(
                cluster=cluster, serviceName=names[n], taskDefinition=family, desiredCount=2,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": subnets[:2], "securityGroups": [group]}})

        self.parallel([partial(make, n) for n in range(count)])
        self.seeded.services += [(region, cluster, name) for name in names]

    def eks(self, region: str, count: int, subnets: list[str], group: str) -> None:
        eks = self.client("eks", region)
        cluster_role = self.role("eks-cluster", "eks")
        node_role = self.role("eks-nodes", "ec2")
        for k in range(count):
            name = f"eks-{region}-{k:02d}"
            eks.create_cluster(name=name, version="1.31", roleArn=cluster_role,
                               resourcesVpcConfig={"subnetIds": subnets,
                                                   "securityGroupIds": [group]})
            eks.create_nodegroup(clusterName=name, nodegroupName="default", nodeRole=node_role,
                                 subnets=subnets,
                                 scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 2})
            self.seeded.eks_clusters.append((region, name))


def seed(scale: Scale, now: datetime, workers: int = 4,
         session: boto3.session.Session | None = None) -> Seeded:
    """`scale` in the account of `session`'s credentials (by default the environment's)."""
    seeder = _Seeder(scale, workers, session or boto3.session.Session())
    execution_role = seeder.role("ecs-execution", "ecs-tasks")
    # A customer managed copy of AmazonECSTaskExecutionRolePolicy: moto loads AWS managed
    # policies only when told to at start-up.
    policy = seeder.iam.create_policy(PolicyName="ecs-execution", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
            "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream",
            "logs:PutLogEvents"]}]}))["Policy"]["Arn"]
    seeder.iam.attach_role_policy(RoleName="ecs-execution", PolicyArn=policy)
    regions = scale.regions
    cluster_number = 0
    for index, region in enumerate(regions):
        subnets, group = seeder.network(region)
        seeder.functions(region, _share(scale.functions, len(regions), index), subnets, group)
        for _ in range(_share(scale.ecs_clusters, len(regions), index)):
            seeder.services(region, f"cluster-{cluster_number:02d}",
                            _share(scale.services, scale.ecs_clusters, cluster_number),
                            subnets, group, execution_role)
            cluster_number += 1
        seeder.eks(region, _share(scale.eks_clusters, len(regions), index), subnets, group)
    seeded = seeder.seeded
    seeded.roles = len(seeder.roles)
    seeded.datapoints = _seed_metrics(scale, seeded, now, seeder)
    return seeded


def seed_org(scale: Scale, accounts: int, now: datetime, role_name: str,
             workers: int = 4) -> dict[str, Seeded]:
    """An organization of `accounts` accounts, each holding `scale`, by account ID: the
    management account (the environment's credentials) and members it creates with
    organizations:CreateAccount. Every account, the management one too, gets the role
    `role_name`, which the management account may assume, as `auditor scan --org` does; each
    member is seeded through credentials sts:AssumeRole gives for it."""
    management = boto3.session.Session()
    organizations = management.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    home = management.client("sts", region_name="us-east-1").get_caller_identity()["Account"]
    sessions = {home: management}
    for n in range(1, accounts):
        status = organizations.create_account(AccountName=f"member-{n:03d}",
                                              Email=f"member-{n:03d}@example.com")
        member = status["CreateAccountStatus"]["AccountId"]
        credentials = management.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
            RoleSessionName="bench-seed")["Credentials"]
        sessions[member] = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{home}:root"},
        "Action": "sts:AssumeRole"}]})
    seeded = {}
    started = time.monotonic()
    for account, session in sessions.items():
        session.client("iam", region_name="us-east-1").create_role(
            RoleName=role_name, AssumeRolePolicyDocument=trust)
        seeded[account] = seed(scale, now, workers, session)
        # Minutes at a 100 accounts: a line per account shows how far it got.
        print(f"  seeded account {len(seeded)}/{accounts} ({account}) at "
              f"{time.monotonic() - started:.0f}s", file=sys.stderr)
    return seeded


def _sample(items: Sequence[Any], fraction: float) -> list[Any]:
    """Every k-th item, so the sample is spread over regions and clusters."""
    if fraction <= 0 or not items:
        return []
    step = max(1, round(1 / fraction))
    return list(items[::step])


def _datum(name: str, unit: str, dims: list[dict[str, str]], at: datetime,
           samples: float, total: float, low: float, high: float) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dims, "Timestamp": at, "Unit": unit,
            "StatisticValues": {"SampleCount": samples, "Sum": round(total, 3),
                                "Minimum": round(low, 3), "Maximum": round(high, 3)}}


def _seed_metrics(scale: Scale, seeded: Seeded, now: datetime, seeder: _Seeder) -> int:
    end = now.replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=h) for h in range(1, scale.days * 24 + 1)]
    batches: list[tuple[str, str, list[dict[str, Any]]]] = []

    def add(region: str, namespace: str, data: list[dict[str, Any]]) -> None:
        for start in range(0, len(data), MAX_DATUMS_PER_CALL):
            batches.append((region, namespace, data[start:start + MAX_DATUMS_PER_CALL]))

    for n, (region, name) in enumerate(_sample(seeded.functions, scale.metric_sample)):
        dims = [{"Name": "FunctionName", "Value": name}]
        data = []
        for h, at in enumerate(hours):
            calls = 50.0 + (h * 7 + n) % 40
            data += [_datum("Invocations", "Count", dims, at, calls, calls, 1, 1),
                     _datum("Errors", "Count", dims, at, calls, calls * 0.02, 0, 1),
                     _datum("Duration", "Milliseconds", dims, at, calls, calls * 120, 20,
                            200 + (h % 24) * 10)]
        add(region, "AWS/Lambda", data)
    for n, (region, cluster, name) in enumerate(_sample(seeded.services, scale.metric_sample)):
        dims = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": name}]
        data = []
        for h, at in enumerate(hours):
            cpu, memory = 10.0 + (h * 3 + n) % 15, 20.0 + (h + n) % 10
            data += [_datum("CPUUtilization", "Percent", dims, at, 60, cpu * 60, cpu / 2, cpu),
                     _datum("MemoryUtilization", "Percent", dims, at, 60, memory * 60,
                            memory - 2, memory)]
        add(region, "AWS/ECS", data)

    # Clients are made here, up front: creating them is not thread-safe, using them is.
    cloudwatch = {region: seeder.client("cloudwatch", region) for region in scale.regions}

    def put(batch: tuple[str, str, list[dict[str, Any]]]) -> None:
        region, namespace, data = batch
        cloudwatch[region].put_metric_data(Namespace=namespace, MetricData=data)

    seeder.parallel([partial(put, b) for b in batches])
    return sum(len(b[2]) for b in batches)
