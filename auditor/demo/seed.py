"""Seed the demo account into moto: a small, realistic account with planted problems.

Every planted problem has a clean twin built the same way except for the one property the
check looks at, so the demo (and the tests over it) show both what is flagged and what is not.
`DemoAccount` lists both, by check ID, as the resource ARNs the auditor reports.

Seeding writes, so it uses plain boto3 clients, never the auditor's read-only factory. It must
run inside an active `mock_aws()` with fake credentials in the environment.

The account is the same every run: the IDs moto makes up (VPCs, subnets, security groups, the
event source mappings' UUIDs, which their ARNs carry) come from moto's random generator seeded
with the demo's seed while it seeds, so a finding's fingerprint is the same from run to run
and the demo against its own baseline reports nothing new.
"""

from __future__ import annotations

import io
import json
import math
import random
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.elbv2.models import elbv2_backends
from moto.moto_api._internal import mock_random

from auditor.data import eks_calendar, version_key
from auditor.demo.emulator import (
    DEFAULT_ACCOUNT,
    MissingApiResponder,
    SeededRate,
    enable_execute_command,
)
from auditor.pricing.book import PriceBook

REGION = "us-east-1"
SECOND_REGION = "eu-west-1"
ACCOUNT = DEFAULT_ACCOUNT
LOOKBACK = timedelta(days=14)
DEFAULT_SEED = 20261123

ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DEMO_AMI = "ami-12c6146b"
"""An Amazon Linux image moto knows, for the Karpenter node."""
ORDERS_IMAGE = f"{ECR}/orders:1.4.2"


@dataclass(frozen=True)
class DemoAccount:
    """What was seeded: planted problems and their clean twins, by check ID.

    `planted[check]` must be reported by that check; `clean[check]` must not be. ARNs are the
    ones the auditor reports: ECS cluster, service and task definition ARNs, Lambda function
    ARNs (qualified `fn:alias` for provisioned concurrency), Lambda event source mapping ARNs,
    IAM role ARNs, EKS cluster and add-on ARNs, node group ARNs.
    `arns` names every other seeded resource worth finding (`ecs.service.orders-api`...).
    """

    account_id: str
    regions: tuple[str, ...]
    now: datetime
    planted: dict[str, tuple[str, ...]]
    clean: dict[str, tuple[str, ...]]
    arns: dict[str, str]
    seed_seconds: float = 0.0


# --------------------------------------------------------------------------- the account plan


@dataclass(frozen=True)
class _Service:
    name: str
    cluster: str
    tier: str
    """Which subnets: `nat` (VPC A, routed to a NAT), `isolated` (VPC A, local route only),
    `public` (VPC A, routed to the internet gateway) or `endpoints` (VPC B, no NAT but the VPC
    endpoints it needs)."""
    cpu: int
    memory: int
    desired: int
    task_role: str
    image: str
    cpu_max: tuple[float, float]
    """Range of the hourly Maximum CPUUtilization, percent."""
    mem_max: tuple[float, float]
    secret: str | None = None
    parameter: str | None = None
    """An SSM parameter the task reads at start-up (the execution role is not granted it)."""
    zones: int = 2
    """How many of the tier's subnets (one per Availability Zone) the service uses."""
    public_ip: bool = False
    health_check: bool = True
    circuit_breaker: bool = True
    max_tasks: int | None = 10
    """The auto scaling maximum; None: no scalable target."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables beyond SERVICE_NAME and LOG_LEVEL."""
    alb_traffic: tuple[float, float] | None = None
    """Behind an ALB of its own: (requests an hour, average response ms), flat. Its ECS
    metrics are flat too (the top of each range), so its costs can be worked out by hand."""
    user: str | None = "1000:1000"
    """The container's `user`; None leaves it unset (the image's USER: root for nginx)."""
    read_only: bool = True
    """The container's `readonlyRootFilesystem`."""
    logs: bool = True
    """False: the container has no logConfiguration."""
    log_mode: str | None = None
    """The awslogs `mode` option; None leaves it to the account default (non-blocking)."""
    platform_version: str | None = None
    """The Fargate platform version asked for; None: LATEST."""
    exec_enabled: bool = False
    environment: str | None = None
    """The service's `env` tag."""


SERVICES = (
    # Planted: awslogs in blocking mode (set in the container, against the account default).
    _Service("orders-api", "prod", "nat", 1024, 2048, 3, "orders-task-role", ORDERS_IMAGE,
             (45, 65), (55, 70), secret="orders/db-credentials", log_mode="blocking",
             environment="production"),
    # Planted: no route out and no endpoints, yet it pulls from ECR, logs and reads a secret;
    # no container health check and no load balancer; no auto scaling.
    _Service("orders-worker", "prod", "isolated", 512, 1024, 2, "orders-task-role", ORDERS_IMAGE,
             (50, 70), (60, 75), secret="orders/db-credentials", health_check=False,
             max_tasks=None, platform_version="1.4.0", log_mode="non-blocking",
             environment="production"),
    # Planted: may scale to 200 tasks.
    _Service("payments-api", "prod", "endpoints", 512, 1024, 2, "payments-task-role",
             f"{ECR}/payments:2.0.1", (50, 70), (60, 75), secret="payments/stripe-key",
             max_tasks=200, environment="production"),
    # Planted: 2 vCPU / 4 GiB that never peaks above 15% CPU or 30% memory; a plaintext
    # password in its environment; no deployment circuit breaker; its role may do s3:* on *;
    # pinned to Fargate platform 1.3.0.
    _Service("reporting", "analytics", "nat", 2048, 4096, 2, "reporting-task-role",
             f"{ECR}/reporting:3.2.0", (8, 15), (20, 30), circuit_breaker=False,
             env={"WAREHOUSE_PASSWORD": "demo-warehouse-pass"}, platform_version="1.3.0"),
    # Planted: one Availability Zone; reads an SSM parameter its execution role cannot read;
    # its container logs nowhere.
    _Service("ingest", "analytics", "nat", 512, 1024, 2, "ingest-task-role",
             f"{ECR}/ingest:1.0.7", (55, 75), (60, 80), parameter="/ingest/api-token", zones=1,
             logs=False),
    # Planted: one task, with a public IP in the public subnets, idle (peak CPU under 5%);
    # nginx as the image's root user. ECS Exec is on, but it is no production service.
    _Service("admin-console", "analytics", "public", 256, 512, 1, "admin-console-task-role",
             "public.ecr.aws/nginx/nginx:1.27", (1, 4), (45, 65), public_ip=True, max_tasks=2,
             user=None, exec_enabled=True, environment="internal"),
    # Planted (cost.migration_opportunity): two always-on tasks behind an ALB for 720 requests
    # an hour, 80 ms each: on Lambda behind the same ALB it would cost a third. Planted too:
    # ECS Exec on in production, and a writable root filesystem.
    _Service("partner-webhooks", "prod", "nat", 512, 1024, 2, "partner-webhooks-task-role",
             f"{ECR}/partner-webhooks:1.3.0", (50, 60), (55, 65), alb_traffic=(720.0, 80.0),
             exec_enabled=True, environment="production", read_only=False),
)


@dataclass(frozen=True)
class _Function:
    name: str
    runtime: str
    arch: str
    memory: int
    timeout: int
    role: str
    rate_per_s: float
    duration_ms: float
    diurnal: float
    """Amplitude of the daily traffic wave (0 = flat)."""
    error_rate: float
    region: str = REGION
    env: Mapping[str, str] = field(default_factory=dict)
    vpc_sg: str | None = None
    """Security group name when the function runs in VPC A's NAT subnets."""
    reserved: int | None = None
    provisioned: int | None = None
    pc_util_max: tuple[float, float] = (0.0, 0.0)
    log_retention: int | None = 30
    url_auth: str | None = None
    url_cors: tuple[str, ...] = ()
    """The function URL's CORS AllowOrigins."""
    stall_share: float = 0.0
    """Share of hours whose slowest call stalls close to the timeout (a slow downstream)."""
    bad_day_error_rate: float = 0.0
    """Error rate on one day of the lookback (a bad deploy), on top of `error_rate`."""
    steady: bool = False
    """Exactly `rate_per_s` and `duration_ms` every hour, peak concurrency twice the mean: no
    noise, so its costs can be worked out by hand."""
    alb: bool = False
    """Invoked through an ALB of its own (a Lambda target group)."""


FUNCTIONS = (
    # Planted: 50 provisioned environments, at most 10% of them ever busy.
    _Function("checkout-api", "python3.12", "arm64", 1024, 15, "checkout-api-role", 15.0, 180.0,
              0.4, 0.002, provisioned=50, pc_util_max=(0.02, 0.10), alb=True),
    _Function("search-api", "nodejs22.x", "arm64", 512, 10, "search-api-role", 50.0, 130.0,
              0.3, 0.001, provisioned=10, pc_util_max=(0.6, 0.95), url_auth="AWS_IAM"),
    _Function("events-ingest", "python3.12", "x86_64", 256, 30, "events-ingest-role", 200.0,
              120.0, 0.05, 0.0005, env={"LOG_LEVEL": "info", "STREAM_NAME": "events"}),
    _Function("legacy-report", "python3.9", "x86_64", 1024, 300, "legacy-report-role",
              4 / 3600, 40_000.0, 0.0, 0.0, reserved=1, log_retention=None),
    # Planted: 2.5 s calls around the clock keep 2.5 environments busy (a container's job).
    _Function("user-sync", "python3.12", "x86_64", 512, 60, "user-sync-role", 1.0, 2500.0, 0.2,
              0.004, env={"DB_HOST": "orders-db.internal", "DB_USER": "sync",
                          "DB_PASSWORD": "hunter2-demo-secret"}),
    # Planted: reaches the database's security group, no proxy, no reserved concurrency,
    # and fed by an SQS mapping with no maximum concurrency.
    _Function("orders-db-writer", "python3.12", "x86_64", 512, 30, "orders-db-writer-role", 8.0,
              60.0, 0.4, 0.001, vpc_sg="orders-db-writer"),
    _Function("notify-email", "python3.13", "arm64", 256, 30, "notify-role", 2.0, 300.0, 0.4,
              0.003, vpc_sg="notify"),
    # Planted: the SMS provider stalls, and some hours' slowest call nears the 30 s timeout.
    _Function("notify-sms", "python3.13", "arm64", 256, 30, "notify-role", 0.5, 250.0, 0.4,
              0.003, stall_share=0.1),
    # Planted: one day in the lookback a bad deploy failed 30% of the calls.
    _Function("edge-auth", "python3.12", "arm64", 256, 5, "edge-auth-role", 5.0, 25.0, 0.3,
              0.0005, region=SECOND_REGION, bad_day_error_rate=0.3),
    # Planted (cost.migration_opportunity): 150 requests a second around the clock behind a
    # function URL; two Fargate tasks and an ALB would cost less than a third.
    _Function("clickstream-collector", "python3.12", "arm64", 512, 10, "clickstream-role",
              150.0, 100.0, 0.0, 0.0, url_auth="AWS_IAM", steady=True),
    # Planted (lambda.function_url_public): a status endpoint behind a URL anyone may call,
    # from any web site (CORS `*`); clickstream-collector's URL, IAM-authenticated, is its twin.
    _Function("status-page", "python3.12", "arm64", 128, 10, "status-page-role", 0.2, 50.0,
              0.0, 0.0, url_auth="NONE", url_cors=("*",), steady=True),
)

CLUSTER_NAME = "platform"
CLUSTER_VERSION = "1.29"
STALE_AL2_RELEASE = "1.29.0-20240202"
RECOMMENDED_AL2_RELEASE = "1.29.15-20250403"
RECOMMENDED_AL2023_ARM_RELEASE = "1.29.15-20250403"
SMALL_CLUSTER_NAME = "tools"
ADDONS = (
    # (name, installed, default for the cluster version)
    ("vpc-cni", "v1.16.0-eksbuild.1", "v1.18.3-eksbuild.2"),  # planted: behind the default
    ("coredns", "v1.11.1-eksbuild.9", "v1.11.1-eksbuild.9"),
    ("kube-proxy", "v1.29.3-eksbuild.5", "v1.29.3-eksbuild.5"),
)

_TRUST = {
    service: json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": f"{service}.amazonaws.com"},
                       "Action": "sts:AssumeRole"}],
    })
    for service in ("ecs-tasks", "lambda", "eks", "ec2")
}


# --------------------------------------------------------------------------- seeding


def seed_demo_account(
    now: datetime, responder: MissingApiResponder, seed: int = DEFAULT_SEED
) -> DemoAccount:
    """Create the demo account in the active moto mock; see the module docstring."""
    started = time.perf_counter()
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    seeder = _Seeder(now, responder, random.Random(seed))
    with _moto_ids_from(seed):
        seeder.run()
    return DemoAccount(
        account_id=ACCOUNT,
        regions=(REGION, SECOND_REGION),
        now=now,
        planted={k: tuple(v) for k, v in sorted(seeder.planted.items())},
        clean={k: tuple(v) for k, v in sorted(seeder.clean.items())},
        arns=dict(sorted(seeder.arns.items())),
        seed_seconds=time.perf_counter() - started,
    )


@contextmanager
def _moto_ids_from(seed: int) -> Iterator[None]:
    """moto's IDs made from `seed` for the block: the same account every run. Its generator
    is process-wide, so it is given back as it was (a test's own account, made after the
    demo's, gets the IDs it would have)."""
    state = mock_random.getstate()
    mock_random.seed(seed)
    try:
        yield
    finally:
        mock_random.setstate(state)


class _Seeder:
    def __init__(self, now: datetime, responder: MissingApiResponder, rng: random.Random) -> None:
        self.now = now
        self.responder = responder
        self.rng = rng
        self.planted: dict[str, list[str]] = {}
        self.clean: dict[str, list[str]] = {}
        self.arns: dict[str, str] = {}
        self._session = boto3.session.Session()
        self._clients: dict[tuple[str, str], Any] = {}
        self.subnets: dict[str, list[str]] = {}
        self.sgs: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.hours = _hours(now)

    def client(self, service: str, region: str = REGION) -> Any:
        key = (service, region)
        if key not in self._clients:
            # Any: the service name is a variable, which the stubs' literal overloads reject.
            make: Callable[..., Any] = self._session.client
            self._clients[key] = make(service, region_name=region)
        return self._clients[key]

    def plant(self, check: str, arn: str) -> None:
        self.planted.setdefault(check, []).append(arn)

    def twin(self, check: str, arn: str) -> None:
        self.clean.setdefault(check, []).append(arn)

    def run(self) -> None:
        self.network()
        self.iam()
        self.secrets_and_logs()
        self.database()
        self.ecs()
        self.lambdas()
        self.api_gateways()
        self.eks()
        self.metrics()
        self.cost_plants()
        self.commitments()
        self.compute_optimizer()
        self.network_costs()
        self.node_agent()

    def commitments(self) -> None:
        """What `--bill` reads besides the bill: an EC2 Instance Savings Plan for the m5
        family in us-east-1 (28% off), which covers the CI runners outside any node group (82%
        of the EC2 spend), and a Reserved Instance for one of them. No workload the model
        prices runs on m5, so its figures stay at list (and match the demo's bill); tests
        that need a plan discounting workloads seed their own."""
        book = PriceBook()
        rates = [SeededRate("EC2", REGION, f"BoxUsage:{instance_type}",
                            round((book.instance_hour(instance_type) or 0.0) * 0.72, 6),
                            instance_type)
                 for instance_type in ("m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge")]
        self.responder.seed_savings_plan("3f7c9e1a-5b2d-4c8e-9a6f-0d1e2b3c4d5e",
                                         plan_type="EC2Instance", commitment=0.80, rates=rates,
                                         region=REGION, instance_family="m5", years=1)
        self.responder.seed_savings_plans_coverage("Amazon Elastic Compute Cloud - Compute",
                                                   387.10, 472.64)
        self.responder.seed_reserved_instance(REGION, "a1b2c3d4-ri-0001-runner", "m5.2xlarge",
                                              1, hourly_price=0.24, offering_type="No Upfront")

    def cost_plants(self) -> None:
        """cost.migration_opportunity: steady volume on Lambda that Fargate serves for less (one
        priced by hand, clickstream-collector), a trickle on always-on tasks that Lambda serves
        for less (partner-webhooks), and a one-node cluster whose control plane dominates.
        Its twins stay put: a trickle already on Lambda, services busy enough for their tasks,
        provisioned concurrency whose waste is its own check's, and a cluster whose move would
        save mostly what upgrading it out of extended support does."""
        arn = self.arns
        for name in ("lambda.function.clickstream-collector", "lambda.function.events-ingest",
                     "lambda.function.search-api", "ecs.service.partner-webhooks",
                     f"eks.cluster.{SMALL_CLUSTER_NAME}"):
            self.plant("cost.migration_opportunity", arn[name])
        for name in ("lambda.function.notify-email", "lambda.function.user-sync",
                     "lambda.function.checkout-api", "ecs.service.orders-api",
                     "ecs.service.reporting", f"eks.cluster.{CLUSTER_NAME}"):
            self.twin("cost.migration_opportunity", arn[name])

    def compute_optimizer(self) -> None:
        """What Compute Optimizer answers with `--compute-optimizer`: the account is enrolled,
        and it would shrink one function and one service, finds one of each optimized, would
        grow one function for speed, and cannot judge one; for the rest it has nothing."""
        responder = self.responder
        responder.seed_optimizer_enrollment("Active")
        functions = {fn.name: fn for fn in FUNCTIONS}
        for name, finding, recommended, saving, reasons in (
            ("checkout-api", "NotOptimized", 512, (41.6, 7.9), ("MemoryOverprovisioned",)),
            ("events-ingest", "Optimized", None, (0.0, 0.0), ()),
            ("user-sync", "NotOptimized", 1024, (0.0, 0.0), ("MemoryUnderprovisioned",)),
            ("edge-auth", "Unavailable", None, (0.0, 0.0), ("Inconclusive",)),
        ):
            fn = functions[name]
            responder.seed_lambda_recommendation(
                fn.region, name, finding=finding, memory_mb=fn.memory, recommended_mb=recommended,
                saving_usd=saving[0], saving_percent=saving[1], reasons=reasons,
                invocations=round(fn.rate_per_s * LOOKBACK.total_seconds()))
        services = {service.name: service for service in SERVICES}
        reporting, orders = services["reporting"], services["orders-api"]
        # Half the size, half the price: 2 tasks x 730 h x (1 vCPU + 2 GB) at Fargate's rates.
        responder.seed_ecs_recommendation(
            REGION, self.arns["ecs.service.reporting"], finding="Overprovisioned",
            size=(reporting.cpu, reporting.memory), recommended=(1024, 2048), saving_usd=72.08,
            saving_percent=50.0, reasons=("CPUOverprovisioned", "MemoryOverprovisioned"))
        responder.seed_ecs_recommendation(
            REGION, self.arns["ecs.service.orders-api"], finding="Optimized",
            size=(orders.cpu, orders.memory))

    # ---- network

    def network(self) -> None:
        ec2 = self.client("ec2")
        # VPC A: public subnets with an IGW and a NAT, private subnets routed to the NAT, and
        # isolated subnets whose route table has the local route only and no endpoints.
        vpc_a = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=_tags("vpc", "shop"))
        vpc_a_id = vpc_a["Vpc"]["VpcId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_a_id)
        public = self._subnets(ec2, vpc_a_id, "shop-public", ("10.0.0.0/24", "10.0.1.0/24"))
        ec2.modify_subnet_attribute(SubnetId=public[0], MapPublicIpOnLaunch={"Value": True})
        public_rt = self._route_table(ec2, vpc_a_id, "shop-public", public)
        ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(
            SubnetId=public[0], AllocationId=allocation, ConnectivityType="public",
            TagSpecifications=_tags("natgateway", "shop-nat"),
        )["NatGateway"]["NatGatewayId"]
        private = self._subnets(ec2, vpc_a_id, "shop-private", ("10.0.10.0/24", "10.0.11.0/24"))
        private_rt = self._route_table(ec2, vpc_a_id, "shop-private", private)
        ec2.create_route(
            RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat
        )
        isolated = self._subnets(ec2, vpc_a_id, "shop-isolated", ("10.0.20.0/24", "10.0.21.0/24"))
        self._route_table(ec2, vpc_a_id, "shop-isolated", isolated)
        self.subnets.update(public=public, nat=private, isolated=isolated)

        # VPC B: private subnets only, no NAT and no IGW; interface endpoints for what its
        # tasks need and the S3 gateway endpoint (ECR layers) on their route table.
        vpc_b_id = ec2.create_vpc(
            CidrBlock="10.1.0.0/16", TagSpecifications=_tags("vpc", "payments")
        )["Vpc"]["VpcId"]
        vpc_b = self._subnets(ec2, vpc_b_id, "payments-private", ("10.1.10.0/24", "10.1.11.0/24"))
        vpc_b_rt = self._route_table(ec2, vpc_b_id, "payments-private", vpc_b)
        self.subnets["endpoints"] = vpc_b

        for name, vpc_id, ingress_from in (
            ("shop-app", vpc_a_id, None),
            ("orders-db-writer", vpc_a_id, None),
            ("notify", vpc_a_id, None),
            ("eks-nodes", vpc_a_id, None),
            ("orders-db", vpc_a_id, ("orders-db-writer", 5432)),
            ("orders-proxy", vpc_a_id, None),
            ("payments-app", vpc_b_id, None),
            ("payments-endpoints", vpc_b_id, None),
        ):
            group = ec2.create_security_group(
                GroupName=name, Description=f"demo {name}", VpcId=vpc_id
            )["GroupId"]
            self.sgs[name] = group
            if ingress_from:
                source, port = ingress_from
                ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
                    "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                    "UserIdGroupPairs": [{"GroupId": self.sgs[source]}],
                }])
        ec2.authorize_security_group_ingress(
            GroupId=self.sgs["payments-endpoints"],
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                            "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}],
        )
        for short in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
            ec2.create_vpc_endpoint(
                VpcId=vpc_b_id, ServiceName=f"com.amazonaws.{REGION}.{short}",
                VpcEndpointType="Interface", SubnetIds=vpc_b,
                SecurityGroupIds=[self.sgs["payments-endpoints"]], PrivateDnsEnabled=True,
            )
        ec2.create_vpc_endpoint(
            VpcId=vpc_b_id, ServiceName=f"com.amazonaws.{REGION}.s3",
            VpcEndpointType="Gateway", RouteTableIds=[vpc_b_rt],
        )
        self.arns.update({
            "ec2.vpc.shop": vpc_a_id, "ec2.vpc.payments": vpc_b_id, "ec2.nat.shop": nat,
            "ec2.route_table.shop-private": private_rt,
            "ec2.route_table.payments-private": vpc_b_rt,
        })

    def network_costs(self) -> None:
        """The network's own costs, seeded last so that the IDs moto makes up for everything
        before stay as they were.

        network.idle_nat_gateway: a second NAT gateway in the shop VPC's first zone that no
        route uses and that sends nothing, hour after hour (NAT gateways report every minute);
        the shop NAT, busy, is its twin. network.cross_az_nat: the shop's private subnets
        share one route table to the NAT in the first zone, so the second zone's subnet
        (where orders-api, reporting, the VPC's functions and the node groups also run)
        crosses zones; the first zone's is its twin. elb.unused_load_balancer: an ALB left
        with an empty target group and no requests; the ALBs in front of partner-webhooks and
        checkout-api, which serve requests, are its twins."""
        self._unused_load_balancer()
        first, second = self.subnets["nat"]
        self.plant("network.cross_az_nat", _subnet_arn(second))
        self.twin("network.cross_az_nat", _subnet_arn(first))
        ec2 = self.client("ec2")
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        spare = ec2.create_nat_gateway(
            SubnetId=self.subnets["public"][0], AllocationId=allocation,
            ConnectivityType="public", TagSpecifications=_tags("natgateway", "shop-nat-spare"),
        )["NatGateway"]["NatGatewayId"]
        shop = self.arns["ec2.nat.shop"]
        self.arns["ec2.nat.shop-spare"] = spare
        self.plant("network.idle_nat_gateway", _nat_arn(spare))
        self.twin("network.idle_nat_gateway", _nat_arn(shop))
        # Bytes an hour through the shop NAT: 3 GB from its subnets out to the internet, and
        # 12 GB of answers back to them.
        traffic = {shop: {"BytesOutToDestination": 3e9, "BytesInFromSource": 3e9,
                          "BytesOutToSource": 12e9},
                   spare: {"BytesOutToDestination": 0.0}}
        datums = [_datum(metric, [{"Name": "NatGatewayId", "Value": nat}], hour, "Bytes", 60,
                      per_hour, 0, per_hour / 30)
                  for nat, metrics in traffic.items() for metric, per_hour in metrics.items()
                  for hour in self.hours]
        self._put_metrics(REGION, "AWS/NATGateway", datums)

    def _unused_load_balancer(self) -> None:
        self._alb("legacy-admin", "ip")
        self.plant("elb.unused_load_balancer", self.arns["elbv2.load_balancer.legacy-admin"])
        # Requests an hour through the whole ALB, as CloudWatch reports them beside each
        # target group's.
        requests = {**{s.name: s.alb_traffic[0] for s in SERVICES if s.alb_traffic},
                    **{f.name: f.rate_per_s * 3600 for f in FUNCTIONS if f.alb}}
        datums: list[dict[str, Any]] = []
        for name, per_hour in requests.items():
            arn = self.arns[f"elbv2.load_balancer.{name}"]
            self.twin("elb.unused_load_balancer", arn)
            dims = [{"Name": "LoadBalancer", "Value": arn.split(":loadbalancer/", 1)[1]}]
            datums.extend(_datum("RequestCount", dims, hour, "Count", per_hour, per_hour, 1, 1)
                          for hour in self.hours)
        self._put_metrics(REGION, "AWS/ApplicationELB", datums)
        # moto stamps CreatedTime with the clock at seeding: the demo's load balancers are as
        # old as its metrics, or none would be old enough to judge.
        created = iso_8601_datetime_with_milliseconds(self.now - LOOKBACK - timedelta(days=1))
        for balancer in elbv2_backends[ACCOUNT][REGION].load_balancers.values():
            balancer.created_time = created

    def _put_metrics(self, region: str, namespace: str, datums: Sequence[dict[str, Any]]
                     ) -> None:
        # Into moto's store as PutMetricData leaves them (naive UTC timestamps): sent through
        # the API, ~17,000 datums were serialised by botocore and parsed back by moto, a
        # quarter of the seed.
        cloudwatch_backends[ACCOUNT][region].put_metric_data(namespace, [
            {**datum, "Timestamp": datum["Timestamp"].astimezone(UTC).replace(tzinfo=None)}
            for datum in datums])

    def _subnets(self, ec2: Any, vpc_id: str, name: str, cidrs: Sequence[str]) -> list[str]:
        return [
            ec2.create_subnet(
                VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}{zone}",
                TagSpecifications=_tags("subnet", f"{name}-{zone}"),
            )["Subnet"]["SubnetId"]
            for cidr, zone in zip(cidrs, "ab", strict=False)
        ]

    def _route_table(self, ec2: Any, vpc_id: str, name: str, subnets: Iterable[str]) -> str:
        table = ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=_tags("route-table", name)
        )["RouteTable"]["RouteTableId"]
        for subnet in subnets:
            ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        return str(table)

    # ---- IAM

    def iam(self) -> None:
        iam = self.client("iam")
        task_roles = {s.task_role for s in SERVICES}
        lambda_roles = {f.role for f in FUNCTIONS}
        for role in sorted(task_roles | {"ecsTaskExecutionRole"}):
            self._role(iam, role, "ecs-tasks")
        for role in sorted(lambda_roles):
            self._role(iam, role, "lambda")
        self._role(iam, "eks-cluster-role", "eks")
        self._role(iam, "eks-node-role", "ec2")

        # Planted: one task role for two services, one execution role for two functions.
        self.plant("iam.shared_role", self.roles["orders-task-role"])
        self.plant("iam.shared_role", self.roles["notify-role"])
        for role in sorted((task_roles | lambda_roles) - {"orders-task-role", "notify-role"}):
            self.twin("iam.shared_role", self.roles[role])
        # Every task definition shares the execution role, which is normal: it reads only the
        # two secrets the tasks use, not secrets broadly.
        self.twin("iam.shared_role", self.roles["ecsTaskExecutionRole"])

    def _role(self, iam: Any, name: str, trusted: str) -> None:
        arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=_TRUST[trusted],
            Description=f"demo role trusted by {trusted}",
        )["Role"]["Arn"]
        self.roles[name] = arn
        self.arns[f"iam.role.{name}"] = arn

    def _policy(self, role: str, statements: list[dict[str, Any]]) -> None:
        self.client("iam").put_role_policy(
            RoleName=role, PolicyName=f"{role}-policy",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )

    # ---- secrets, log groups

    def secrets_and_logs(self) -> None:
        secrets = self.client("secretsmanager")
        for name in sorted({s.secret for s in SERVICES if s.secret}):
            arn = secrets.create_secret(Name=name, SecretString='{"demo": true}')["ARN"]
            self.secrets[name] = arn
            self.arns[f"secretsmanager.secret.{name}"] = arn
        # Parameters are only referenced: the scan never reads SSM, and loading the emulator's
        # SSM backend would cost a tenth of the seed's time budget.
        for name in sorted({s.parameter for s in SERVICES if s.parameter}):
            self.arns[f"ssm.parameter.{name}"] = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"
        # Shared by every service; it reads the Secrets Manager secrets, not the parameters.
        self._policy("ecsTaskExecutionRole", [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Allow",
             "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchCheckLayerAvailability"],
             "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*"},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/*"},
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": sorted(self.secrets.values())},
        ])
        for service in SERVICES:
            self._log_group(REGION, f"/ecs/{service.name}", 30)

    def _log_group(self, region: str, name: str, retention: int | None) -> None:
        logs = self.client("logs", region)
        logs.create_log_group(logGroupName=name)
        if retention:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        self.arns[f"logs.group.{name}"] = (
            f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"
        )

    # ---- RDS

    def database(self) -> None:
        rds = self.client("rds")
        rds.create_db_subnet_group(
            DBSubnetGroupName="shop-isolated", DBSubnetGroupDescription="demo database subnets",
            SubnetIds=self.subnets["isolated"],
        )
        # A custom parameter group, so the connection budget comes from max_connections as set.
        rds.create_db_parameter_group(
            DBParameterGroupName="orders-db-params", DBParameterGroupFamily="postgres16",
            Description="demo: explicit connection limit",
        )
        rds.modify_db_parameter_group(
            DBParameterGroupName="orders-db-params",
            Parameters=[{"ParameterName": "max_connections", "ParameterValue": "200",
                         "ApplyMethod": "pending-reboot"}],
        )
        db = rds.create_db_instance(
            DBInstanceIdentifier="orders-db", Engine="postgres", EngineVersion="16.4",
            DBInstanceClass="db.t4g.medium", AllocatedStorage=50, MasterUsername="orders",
            MasterUserPassword="not-a-real-password", Port=5432,
            VpcSecurityGroupIds=[self.sgs["orders-db"]], DBSubnetGroupName="shop-isolated",
            DBParameterGroupName="orders-db-params",
        )["DBInstance"]
        self.arns["rds.instance.orders-db"] = db["DBInstanceArn"]
        # A proxy in front of the database that the planted writer does not use: its security
        # group admits nobody, so it is not "in the path" and the storm stays planted.
        proxy = rds.create_db_proxy(
            DBProxyName="orders-proxy", EngineFamily="POSTGRESQL",
            Auth=[{"AuthScheme": "SECRETS", "SecretArn": sorted(self.secrets.values())[0],
                   "IAMAuth": "DISABLED"}],
            RoleArn=self.roles["eks-node-role"], VpcSubnetIds=self.subnets["isolated"],
            VpcSecurityGroupIds=[self.sgs["orders-proxy"]],
        )["DBProxy"]
        rds.register_db_proxy_targets(DBProxyName="orders-proxy",
                                      DBInstanceIdentifiers=["orders-db"])
        self.arns["rds.proxy.orders-proxy"] = proxy["DBProxyArn"]

    # ---- ECS

    def ecs(self) -> None:
        ecs = self.client("ecs")
        for cluster, insights in (("prod", "enabled"), ("analytics", "disabled")):
            arn = ecs.create_cluster(
                clusterName=cluster, settings=[{"name": "containerInsights", "value": insights}]
            )["cluster"]["clusterArn"]
            self.arns[f"ecs.cluster.{cluster}"] = arn
        self.plant("ecs.container_insights_disabled", self.arns["ecs.cluster.analytics"])
        self.twin("ecs.container_insights_disabled", self.arns["ecs.cluster.prod"])
        for role in sorted({s.task_role for s in SERVICES}):
            self._policy(role, [{
                "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"arn:aws:s3:::demo-{role.removesuffix('-task-role')}/*",
            }])
        # Planted: the reporting exports once needed "any bucket", so its role may do s3:* on *.
        self.client("iam").put_role_policy(
            RoleName="reporting-task-role", PolicyName="reporting-exports",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
        )

        arns: dict[str, str] = {}
        for service in SERVICES:
            arns[service.name] = arn = self._service(ecs, service)
            self.arns[f"ecs.service.{service.name}"] = arn
        self._ecs_plants(arns)

        self.plant("network.private_subnet_no_egress", arns["orders-worker"])
        for name in ("orders-api", "payments-api", "reporting", "ingest", "admin-console"):
            self.twin("network.private_subnet_no_egress", arns[name])
        self.plant("ecs.task_overprovisioned", arns["reporting"])
        for name in ("ingest", "orders-api", "orders-worker", "payments-api", "admin-console"):
            self.twin("ecs.task_overprovisioned", arns[name])
        self.plant("ecs.single_task_service", arns["admin-console"])
        for name in ("orders-api", "orders-worker", "payments-api", "reporting", "ingest"):
            self.twin("ecs.single_task_service", arns[name])

    def node_agent(self) -> None:
        """ecs.privileged_container and ecs.host_network_mode: a monitoring agent run as a
        DAEMON on the EC2 instances of an `ops` cluster, privileged, on the host's network and
        as root, as such agents' own instructions have it (Fargate allows none of the three).
        The Fargate services' task definitions are its twins. Seeded last, so the IDs moto
        makes up for everything before stay as they were."""
        ecs = self.client("ecs")
        self.arns["ecs.cluster.ops"] = ecs.create_cluster(
            clusterName="ops", settings=[{"name": "containerInsights", "value": "enabled"}],
        )["cluster"]["clusterArn"]
        task = ecs.register_task_definition(
            family="node-agent", networkMode="host", requiresCompatibilities=["EC2"],
            executionRoleArn=self.roles["ecsTaskExecutionRole"],
            containerDefinitions=[{
                "name": "agent", "image": "public.ecr.aws/datadog/agent:7", "essential": True,
                "cpu": 128, "memory": 512, "privileged": True, "user": "0",
                "readonlyRootFilesystem": True,
                "healthCheck": {"command": ["CMD-SHELL", "agent health"], "interval": 30,
                                "timeout": 5, "retries": 3},
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": "/ecs/node-agent", "awslogs-region": REGION,
                    "awslogs-stream-prefix": "agent"}},
            }],
        )["taskDefinition"]["taskDefinitionArn"]
        self.arns["ecs.task_definition.node-agent"] = task
        self.arns["ecs.service.node-agent"] = ecs.create_service(
            cluster="ops", serviceName="node-agent", taskDefinition=task,
            launchType="EC2", schedulingStrategy="DAEMON",
        )["service"]["serviceArn"]
        ecs.update_service(cluster="ops", service="node-agent", deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
        for check in ("ecs.privileged_container", "ecs.host_network_mode", "ecs.root_user"):
            self.plant(check, task)
        for name in SERVICES:
            for check in ("ecs.privileged_container", "ecs.host_network_mode"):
                self.twin(check, self.arns[f"ecs.task_definition.{name.name}"])

    def _ecs_plants(self, services: Mapping[str, str]) -> None:
        """One planted service (or task definition) per check; every other one is its twin."""
        definitions = {name: self.arns[f"ecs.task_definition.{name}"] for name in services}
        for check, planted, arns in (
            ("network.single_az", "ingest", services),
            ("ecs.public_ip_assigned", "admin-console", services),
            ("ecs.idle_service", "admin-console", services),
            ("ecs.no_circuit_breaker", "reporting", services),
            ("ecs.no_autoscaling", "orders-worker", services),
            ("ecs.unbounded_autoscaling", "payments-api", services),
            ("ecs.missing_health_check", "orders-worker", services),
            ("ecs.secrets_in_environment", "reporting", definitions),
            ("ecs.execution_role_missing_permissions", "ingest", definitions),
            ("ecs.root_user", "admin-console", definitions),
            ("ecs.writable_root_filesystem", "partner-webhooks", definitions),
            ("ecs.no_logging", "ingest", definitions),
            ("ecs.awslogs_blocking_mode", "orders-api", definitions),
            ("ecs.fargate_platform_outdated", "reporting", services),
            ("ecs.exec_enabled", "partner-webhooks", services),
        ):
            self.plant(check, arns[planted])
            for name, arn in arns.items():
                if name != planted:
                    self.twin(check, arn)
        self.plant("iam.broad_permissions", self.roles["reporting-task-role"])
        for role in sorted({s.task_role for s in SERVICES} - {"reporting-task-role"}):
            self.twin("iam.broad_permissions", self.roles[role])
        for role in ("checkout-api-role", "eks-node-role"):
            self.twin("iam.broad_permissions", self.roles[role])

    def _service(self, ecs: Any, service: _Service) -> str:
        container: dict[str, Any] = {
            "name": "app",
            "image": service.image,
            "essential": True,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "SERVICE_NAME", "value": service.name},
                            {"name": "LOG_LEVEL", "value": "info"},
                            *({"name": k, "value": v} for k, v in service.env.items())],
            "readonlyRootFilesystem": service.read_only,
        }
        if service.user:
            container["user"] = service.user
        if service.logs:
            container["logConfiguration"] = {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/ecs/{service.name}", "awslogs-region": REGION,
                "awslogs-stream-prefix": "app",
                **({"mode": service.log_mode} if service.log_mode else {}),
            }}
        if service.health_check:
            container["healthCheck"] = {
                "command": ["CMD-SHELL", "curl -f http://localhost:8080/health"],
                "interval": 30, "timeout": 5, "retries": 3,
            }
        if service.secret:
            container["secrets"] = [
                {"name": "DB_CREDENTIALS", "valueFrom": self.secrets[service.secret]}
            ]
        if service.parameter:
            container.setdefault("secrets", []).append(
                {"name": "API_TOKEN", "valueFrom": self.arns[f"ssm.parameter.{service.parameter}"]}
            )
        task = ecs.register_task_definition(
            family=service.name, cpu=str(service.cpu), memory=str(service.memory),
            networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            taskRoleArn=self.roles[service.task_role],
            executionRoleArn=self.roles["ecsTaskExecutionRole"],
            runtimePlatform={"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"},
            containerDefinitions=[container],
        )["taskDefinition"]
        self.arns[f"ecs.task_definition.{service.name}"] = task["taskDefinitionArn"]
        group = "payments-app" if service.tier == "endpoints" else "shop-app"
        arn = str(ecs.create_service(
            cluster=service.cluster, serviceName=service.name,
            taskDefinition=task["taskDefinitionArn"], desiredCount=service.desired,
            launchType="FARGATE", schedulingStrategy="REPLICA",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": self.subnets[service.tier][:service.zones],
                "securityGroups": [self.sgs[group]],
                "assignPublicIp": "ENABLED" if service.public_ip else "DISABLED",
            }},
            **self._load_balancer(service),
            **({"platformVersion": service.platform_version} if service.platform_version
               else {}),
            **({"tags": [{"key": "env", "value": service.environment}]} if service.environment
               else {}),
        )["service"]["serviceArn"])
        if service.exec_enabled:
            enable_execute_command(ACCOUNT, REGION, service.cluster, service.name)
        if service.circuit_breaker:
            # CreateService in the emulator drops the deployment configuration.
            ecs.update_service(cluster=service.cluster, service=service.name,
                               deploymentConfiguration={"deploymentCircuitBreaker": {
                                   "enable": True, "rollback": True}})
        if service.max_tasks is not None:
            self.client("application-autoscaling").register_scalable_target(
                ServiceNamespace="ecs", ResourceId=f"service/{service.cluster}/{service.name}",
                ScalableDimension="ecs:service:DesiredCount", MinCapacity=service.desired,
                MaxCapacity=service.max_tasks,
            )
        return arn

    def _load_balancer(self, service: _Service) -> dict[str, Any]:
        """The service's part in CreateService when it sits behind an ALB of its own."""
        if service.alb_traffic is None:
            return {}
        group = self._alb(service.name, "ip")
        return {"loadBalancers": [{"targetGroupArn": group, "containerName": "app",
                                   "containerPort": 8080}]}

    def _alb(self, name: str, target_type: str) -> str:
        """An ALB in the public subnets forwarding to a new target group; returns its ARN."""
        elbv2 = self.client("elbv2")
        lb = elbv2.create_load_balancer(
            Name=name, Subnets=self.subnets["public"],
            SecurityGroups=[self.sgs["shop-app"]], Scheme="internet-facing", Type="application",
        )["LoadBalancers"][0]
        where = {} if target_type == "lambda" else {"Protocol": "HTTP", "Port": 8080,
                                                    "VpcId": lb["VpcId"]}
        group = elbv2.create_target_group(Name=name, TargetType=target_type,
                                          **where)["TargetGroups"][0]
        elbv2.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward",
                                               "TargetGroupArn": group["TargetGroupArn"]}])
        self.arns[f"elbv2.load_balancer.{name}"] = lb["LoadBalancerArn"]
        self.arns[f"elbv2.target_group.{name}"] = group["TargetGroupArn"]
        return str(group["TargetGroupArn"])

    # ---- Lambda

    def lambdas(self) -> None:
        code = _zip()
        arns: dict[str, str] = {}
        for fn in FUNCTIONS:
            arns[fn.name] = self._function(fn, code)
            self.arns[f"lambda.function.{fn.name}"] = arns[fn.name]
            self._log_group(fn.region, f"/aws/lambda/{fn.name}", fn.log_retention)
        self._event_sources()
        self._async_invokers(arns)

        for region in (REGION, SECOND_REGION):
            in_region = [f for f in FUNCTIONS if f.region == region]
            reserved = sum(f.reserved or 0 for f in in_region)
            self.responder.seed_account_settings(
                region, 1000, unreserved=1000 - reserved, function_count=len(in_region)
            )

        self.plant("lambda.provisioned_concurrency_waste", self.arns["lambda.pc.checkout-api"])
        self.twin("lambda.provisioned_concurrency_waste", self.arns["lambda.pc.search-api"])
        self.plant("lambda.deprecated_runtime", arns["legacy-report"])
        self.twin("lambda.deprecated_runtime", arns["events-ingest"])
        if self.now + timedelta(days=120) < datetime(2027, 4, 30, tzinfo=UTC):
            # nodejs22.x is deprecated on 2027-04-30; clean only while that is > 120 days off.
            self.twin("lambda.deprecated_runtime", arns["search-api"])
        self.plant("lambda.secrets_in_environment", arns["user-sync"])
        self.twin("lambda.secrets_in_environment", arns["events-ingest"])
        self.plant("lambda.db_connection_storm", arns["orders-db-writer"])
        self.twin("lambda.db_connection_storm", arns["notify-email"])
        unbounded, bounded = (self.arns[f"lambda.esm.{name}"]
                              for name in ("orders-db-writer", "notify-email"))
        self.plant("lambda.unbounded_event_source_scaling", unbounded)
        self.twin("lambda.unbounded_event_source_scaling", bounded)
        self.plant("lambda.near_timeout", arns["notify-sms"])
        self.twin("lambda.near_timeout", arns["notify-email"])
        self.plant("lambda.high_error_rate", arns["edge-auth"])
        self.twin("lambda.high_error_rate", arns["checkout-api"])
        # Long, steady work; the twins are short but busy, and long but rare.
        self.plant("lambda.long_running_candidate", arns["user-sync"])
        for name in ("events-ingest", "legacy-report"):
            self.twin("lambda.long_running_candidate", arns[name])
        # Every busy x86_64 function on a Python runtime; legacy-report's few calls would save
        # under the $1/month threshold, and checkout-api is on arm64 already.
        for name in ("events-ingest", "user-sync", "orders-db-writer"):
            self.plant("lambda.x86_arm64_candidate", arns[name])
        for name in ("legacy-report", "checkout-api"):
            self.twin("lambda.x86_arm64_candidate", arns[name])
        self.plant("lambda.function_url_public", f"{arns['status-page']}/function-url")
        self.twin("lambda.function_url_public", f"{arns['clickstream-collector']}/function-url")
        self.plant("lambda.log_retention_unset", arns["legacy-report"])
        self.twin("lambda.log_retention_unset", arns["events-ingest"])
        for name in ("orders-db-writer", "notify-email"):
            self.twin("network.private_subnet_no_egress", arns[name])
            self.twin("network.single_az", arns[name])

    def _function(self, fn: _Function, code: bytes) -> str:
        statements: list[dict[str, Any]] = [{
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{fn.region}:{ACCOUNT}:log-group:/aws/lambda/{fn.name}:*",
        }]
        extra: dict[str, Any] = {}
        if fn.vpc_sg:
            extra["VpcConfig"] = {"SubnetIds": self.subnets["nat"],
                                  "SecurityGroupIds": [self.sgs[fn.vpc_sg]]}
            statements.append({
                "Effect": "Allow",
                "Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                           "ec2:DeleteNetworkInterface"],
                "Resource": "*",
            })
        if fn.env:
            extra["Environment"] = {"Variables": dict(fn.env)}
        # Two functions share notify-role; its policy is written once per function, by name.
        self.client("iam").put_role_policy(
            RoleName=fn.role, PolicyName=f"{fn.name}-policy",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        lam = self.client("lambda", fn.region)
        arn = str(lam.create_function(
            FunctionName=fn.name, Runtime=fn.runtime, Role=self.roles[fn.role],
            Handler="index.handler", Code={"ZipFile": code}, MemorySize=fn.memory,
            Timeout=fn.timeout, Architectures=[fn.arch], Publish=False,
            Tags={"app": fn.name.split("-")[0], "demo": "true"}, **extra,
        )["FunctionArn"])
        if fn.reserved is not None:
            lam.put_function_concurrency(
                FunctionName=fn.name, ReservedConcurrentExecutions=fn.reserved
            )
        if fn.alb:
            self.client("elbv2").register_targets(
                TargetGroupArn=self._alb(fn.name, "lambda"), Targets=[{"Id": arn}])
        if fn.url_auth:
            cors: dict[str, Any] = {"Cors": {"AllowOrigins": list(fn.url_cors)}} \
                if fn.url_cors else {}
            url = lam.create_function_url_config(FunctionName=fn.name, AuthType=fn.url_auth,
                                                 **cors)
            self.arns[f"lambda.url.{fn.name}"] = url["FunctionUrl"]
        if fn.provisioned is not None:
            version = lam.publish_version(FunctionName=fn.name)["Version"]
            lam.create_alias(FunctionName=fn.name, Name="live", FunctionVersion=version)
            self.arns[f"lambda.pc.{fn.name}"] = self.responder.seed_provisioned_concurrency(
                fn.region, fn.name, "live", fn.provisioned
            )
        return arn

    def _event_sources(self) -> None:
        sqs, lam = self.client("sqs"), self.client("lambda")
        for queue, function, scaling in (
            ("orders-events", "orders-db-writer", None),  # planted: unbounded
            ("notifications", "notify-email", {"MaximumConcurrency": 5}),
        ):
            url = sqs.create_queue(QueueName=queue)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            self.client("iam").put_role_policy(
                RoleName=next(f.role for f in FUNCTIONS if f.name == function),
                PolicyName=f"{function}-sqs",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow",
                    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage",
                               "sqs:GetQueueAttributes"],
                    "Resource": queue_arn,
                }]}),
            )
            args: dict[str, Any] = {"ScalingConfig": scaling} if scaling else {}
            mapping = lam.create_event_source_mapping(
                EventSourceArn=queue_arn, FunctionName=function, BatchSize=10, Enabled=True,
                **args,
            )
            self.arns[f"sqs.queue.{queue}"] = queue_arn
            self.arns[f"lambda.esm.{function}"] = mapping.get(
                "EventSourceMappingArn",
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{mapping['UUID']}",
            )

    def _async_invokers(self, arns: Mapping[str, str]) -> None:
        """Planted (lambda.no_failure_destination): an SNS topic feeds notify-sms, whose
        failed events are dropped. Its twin, legacy-report, runs on a nightly EventBridge
        schedule and sends what fails to a queue."""
        sns = self.client("sns")
        topic = sns.create_topic(Name="sms-outbound")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arns["notify-sms"])
        events = self.client("events")
        events.put_rule(Name="nightly-report", ScheduleExpression="cron(0 2 * * ? *)",
                        State="ENABLED")
        events.put_targets(Rule="nightly-report",
                           Targets=[{"Id": "report", "Arn": arns["legacy-report"]}])
        sqs = self.client("sqs")
        queue = sqs.get_queue_attributes(
            QueueUrl=sqs.create_queue(QueueName="report-failures")["QueueUrl"],
            AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.client("lambda").put_function_event_invoke_config(
            FunctionName="legacy-report",
            DestinationConfig={"OnFailure": {"Destination": queue}})
        self.arns["sns.topic.sms-outbound"] = topic
        self.plant("lambda.no_failure_destination", arns["notify-sms"])
        self.twin("lambda.no_failure_destination", arns["legacy-report"])

    # ---- EKS

    def eks(self) -> None:
        eks = self.client("eks")
        cluster = eks.create_cluster(
            name=CLUSTER_NAME, version=CLUSTER_VERSION, roleArn=self.roles["eks-cluster-role"],
            resourcesVpcConfig={
                "subnetIds": self.subnets["nat"], "securityGroupIds": [self.sgs["eks-nodes"]],
                "endpointPublicAccess": True, "endpointPrivateAccess": True,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
            tags={"demo": "true"},
        )["cluster"]
        nodegroup = eks.create_nodegroup(
            clusterName=CLUSTER_NAME, nodegroupName="general",
            scalingConfig={"minSize": 2, "maxSize": 4, "desiredSize": 2},
            subnets=self.subnets["nat"], nodeRole=self.roles["eks-node-role"],
            instanceTypes=["m6i.large"], amiType="AL2_x86_64", capacityType="ON_DEMAND",
            version=CLUSTER_VERSION, releaseVersion=STALE_AL2_RELEASE,
        )["nodegroup"]
        self.arns["eks.cluster.platform"] = cluster["arn"]
        self.arns["eks.nodegroup.general"] = nodegroup["nodegroupArn"]
        profile = eks.create_fargate_profile(
            fargateProfileName="batch", clusterName=CLUSTER_NAME,
            podExecutionRoleArn=self.roles["eks-node-role"], subnets=self.subnets["nat"],
            selectors=[{"namespace": "batch"}],
        )["fargateProfile"]
        self.arns["eks.fargate_profile.batch"] = profile["fargateProfileArn"]

        addon_arns = {
            name: self.responder.seed_addon(
                REGION, CLUSTER_NAME, name, installed, default, cluster_version=CLUSTER_VERSION
            )
            for name, installed, default in ADDONS
        }
        for name, arn in addon_arns.items():
            self.arns[f"eks.addon.{name}"] = arn
        self.responder.seed_insight(
            REGION, CLUSTER_NAME, "a1b2c3d4-0000-4000-8000-000000000001",
            "EKS add-on version compatibility", status="ERROR", kubernetes_version="1.30",
            reason="vpc-cni v1.16.0-eksbuild.1 is not compatible with Kubernetes 1.30.",
            description="Checks installed EKS add-ons against the next Kubernetes version.",
            recommendation="Upgrade vpc-cni before upgrading the cluster.",
        )
        self.responder.seed_insight(
            REGION, CLUSTER_NAME, "a1b2c3d4-0000-4000-8000-000000000002",
            "Kubelet version skew", status="PASSING", kubernetes_version="1.30",
            reason="No kubelet version skew detected.",
            description="Checks for kubelet versions of worker nodes in the cluster.",
        )

        # Planted (eks.node_ami_outdated): "general" is a year behind the recommended AL2
        # release; "spot", same version and AMI type, and "tools-default" are on theirs.
        self.responder.seed_public_parameter(
            REGION, f"/aws/service/eks/optimized-ami/{CLUSTER_VERSION}/amazon-linux-2/"
                    "recommended/release_version", RECOMMENDED_AL2_RELEASE)
        self.plant("eks.node_ami_outdated", nodegroup["nodegroupArn"])
        self._graviton_nodes(eks, nodegroup["nodegroupArn"])
        self.plant("eks.outdated_addons", addon_arns["vpc-cni"])
        self.twin("eks.outdated_addons", addon_arns["coredns"])
        self.twin("eks.outdated_addons", addon_arns["kube-proxy"])
        self.twin("network.private_subnet_no_egress", nodegroup["nodegroupArn"])
        self.twin("network.single_az", nodegroup["nodegroupArn"])
        self._spot_capacity(eks)

        # "platform" carries the configuration problems; "tools", small and current, is their
        # clean twin, and the planted cluster too small for its control plane.
        tools = self._small_cluster(eks)
        for check in ("eks.extended_support", "eks.public_endpoint_open",
                      "eks.control_plane_logging_disabled", "eks.secrets_encryption_disabled",
                      "eks.upgrade_insights"):
            self.plant(check, cluster["arn"])
            self.twin(check, tools)
        self.plant("eks.underused_control_plane", tools)
        self.twin("eks.underused_control_plane", cluster["arn"])

    def _graviton_nodes(self, eks: Any, general: str) -> None:
        """Planted (eks.graviton_candidate): "general" runs m6i.large, which m6g.large runs
        for less. Its twin, "arm-workers", is on Graviton already (scaled to zero: it adds
        nothing to the cluster's cost)."""
        arm = eks.create_nodegroup(
            clusterName=CLUSTER_NAME, nodegroupName="arm-workers",
            scalingConfig={"minSize": 0, "maxSize": 2, "desiredSize": 0},
            subnets=self.subnets["nat"], nodeRole=self.roles["eks-node-role"],
            instanceTypes=["m7g.large"], amiType="AL2023_ARM_64_STANDARD",
            capacityType="ON_DEMAND", version=CLUSTER_VERSION,
            releaseVersion=RECOMMENDED_AL2023_ARM_RELEASE,
        )["nodegroup"]["nodegroupArn"]
        self.responder.seed_public_parameter(
            REGION, f"/aws/service/eks/optimized-ami/{CLUSTER_VERSION}/amazon-linux-2023/arm64/"
                    "standard/recommended/release_version", RECOMMENDED_AL2023_ARM_RELEASE)
        self.arns["eks.nodegroup.arm-workers"] = arm
        self.plant("eks.graviton_candidate", general)
        self.twin("eks.graviton_candidate", arm)
        self.twin("eks.node_ami_outdated", arm)

    def _spot_capacity(self, eks: Any) -> None:
        """Spot nodes on "platform", priced from the Spot price history: a managed node group
        (over the zones of its subnets, us-east-1a and b) and a Karpenter node (its own zone's
        price)."""
        for zone, m6i, c6i in (("a", 0.0392, 0.0349), ("b", 0.0412, 0.0362),
                               ("c", 0.0385, 0.0341), ("d", 0.0401, 0.0355),
                               ("e", 0.0433, 0.0371), ("f", 0.0398, 0.0352)):
            self.responder.seed_spot_price(REGION, "m6i.large", f"{REGION}{zone}", m6i)
            self.responder.seed_spot_price(REGION, "c6i.large", f"{REGION}{zone}", c6i)
        spot = eks.create_nodegroup(
            clusterName=CLUSTER_NAME, nodegroupName="spot",
            scalingConfig={"minSize": 0, "maxSize": 6, "desiredSize": 2},
            subnets=self.subnets["nat"], nodeRole=self.roles["eks-node-role"],
            instanceTypes=["m6i.large"], amiType="AL2_x86_64", capacityType="SPOT",
            version=CLUSTER_VERSION, releaseVersion=RECOMMENDED_AL2_RELEASE,
        )["nodegroup"]["nodegroupArn"]
        self.arns["eks.nodegroup.spot"] = spot
        self.twin("eks.node_ami_outdated", spot)
        self.plant("eks.graviton_candidate", spot)  # unpriced: a Spot group
        self.twin("network.private_subnet_no_egress", spot)
        self.twin("network.single_az", spot)
        node = self.client("ec2").run_instances(
            ImageId=DEMO_AMI, MinCount=1, MaxCount=1, InstanceType="c6i.large",
            SubnetId=self.subnets["nat"][1],
            InstanceMarketOptions={"MarketType": "spot"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": "eks:eks-cluster-name", "Value": CLUSTER_NAME},
                {"Key": "karpenter.sh/nodepool", "Value": "batch"},
                {"Key": f"kubernetes.io/cluster/{CLUSTER_NAME}", "Value": "owned"}]}],
        )["Instances"][0]
        self.arns["ec2.instance.karpenter-batch"] = (
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{node['InstanceId']}")

    def _small_cluster(self, eks: Any) -> str:
        """One node, a current version, private endpoint, every log type, KMS-encrypted
        secrets, add-ons at their defaults and passing insights. Returns its ARN."""
        version = _current_eks_version(self.now)
        arn = str(eks.create_cluster(
            name=SMALL_CLUSTER_NAME, version=version, roleArn=self.roles["eks-cluster-role"],
            resourcesVpcConfig={
                "subnetIds": self.subnets["nat"], "securityGroupIds": [self.sgs["eks-nodes"]],
                "endpointPublicAccess": False, "endpointPrivateAccess": True,
            },
            logging={"clusterLogging": [{"types": ["api", "audit", "authenticator",
                                                   "controllerManager", "scheduler"],
                                         "enabled": True}]},
            encryptionConfig=[{"resources": ["secrets"], "provider": {
                "keyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/demo-eks-secrets"}}],
            tags={"demo": "true"},
        )["cluster"]["arn"])
        nodegroup = eks.create_nodegroup(
            clusterName=SMALL_CLUSTER_NAME, nodegroupName="tools-default",
            scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1},
            subnets=self.subnets["nat"], nodeRole=self.roles["eks-node-role"],
            instanceTypes=["t3.medium"], amiType="AL2023_x86_64_STANDARD",
            capacityType="ON_DEMAND", version=version, releaseVersion=f"{version}.2-20251020",
        )["nodegroup"]
        self.responder.seed_public_parameter(
            REGION, f"/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/x86_64/"
                    "standard/recommended/release_version", f"{version}.2-20251020")
        self.arns[f"eks.cluster.{SMALL_CLUSTER_NAME}"] = arn
        self.arns["eks.nodegroup.tools-default"] = nodegroup["nodegroupArn"]
        self.twin("eks.node_ami_outdated", nodegroup["nodegroupArn"])
        self.plant("eks.graviton_candidate", nodegroup["nodegroupArn"])  # t3 -> t4g
        self.twin("network.private_subnet_no_egress", nodegroup["nodegroupArn"])
        coredns = self.responder.seed_addon(
            REGION, SMALL_CLUSTER_NAME, "coredns", "v1.11.4-eksbuild.2", "v1.11.4-eksbuild.2",
            cluster_version=version,
        )
        self.arns[f"eks.addon.{SMALL_CLUSTER_NAME}.coredns"] = coredns
        self.twin("eks.outdated_addons", coredns)
        self.responder.seed_insight(
            REGION, SMALL_CLUSTER_NAME, "a1b2c3d4-0000-4000-8000-000000000003",
            "Kubelet version skew", status="PASSING", kubernetes_version=version,
            reason="No kubelet version skew detected.",
            description="Checks for kubelet versions of worker nodes in the cluster.",
        )
        return arn

    # ---- API Gateway

    def api_gateways(self) -> None:
        """Front doors that bill per request: edge-auth behind an HTTP API in its region,
        notify-sms behind a REST API."""
        v2 = self.client("apigatewayv2", SECOND_REGION)
        http = v2.create_api(Name="edge", ProtocolType="HTTP")["ApiId"]
        integration = v2.create_integration(
            ApiId=http, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
            IntegrationUri=self.arns["lambda.function.edge-auth"])["IntegrationId"]
        v2.create_route(ApiId=http, RouteKey="POST /token",
                        Target=f"integrations/{integration}")
        self.arns["apigateway.api.edge"] = f"arn:aws:apigateway:{SECOND_REGION}::/apis/{http}"

        v1 = self.client("apigateway")
        rest = v1.create_rest_api(name="notify", endpointConfiguration={"types": ["REGIONAL"]})
        resource = v1.create_resource(restApiId=rest["id"], parentId=rest["rootResourceId"],
                                      pathPart="sms")["id"]
        v1.put_method(restApiId=rest["id"], resourceId=resource, httpMethod="POST",
                      authorizationType="AWS_IAM")
        function = self.arns["lambda.function.notify-sms"]
        v1.put_integration(
            restApiId=rest["id"], resourceId=resource, httpMethod="POST", type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function}/"
                "invocations")
        self.arns["apigateway.restapi.notify"] = (
            f"arn:aws:apigateway:{REGION}::/restapis/{rest['id']}")

    # ---- CloudWatch

    def metrics(self) -> None:
        batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for service in SERVICES:
            batches.setdefault((REGION, "AWS/ECS"), []).extend(self._ecs_metrics(service))
        for fn in FUNCTIONS:
            batches.setdefault((fn.region, "AWS/Lambda"), []).extend(self._lambda_metrics(fn))
        for service in SERVICES:
            batches.setdefault((REGION, "AWS/ApplicationELB"), []).extend(
                self._alb_metrics(service))
        for (region, namespace), datums in batches.items():
            self._put_metrics(region, namespace, datums)

    def _ecs_metrics(self, service: _Service) -> Iterator[dict[str, Any]]:
        dims = [{"Name": "ClusterName", "Value": service.cluster},
                {"Name": "ServiceName", "Value": service.name}]
        for metric, (low, high) in (("CPUUtilization", service.cpu_max),
                                    ("MemoryUtilization", service.mem_max)):
            if service.alb_traffic is not None:
                # Flat, and drawing nothing from the random stream the others share.
                for hour in self.hours:
                    yield _datum(metric, dims, hour, "Percent", 60, high * 0.7 * 60,
                                 high * 0.5, high)
                continue
            for hour in self.hours:
                peak = self.rng.uniform(low, high)
                # ECS samples every minute: 60 samples an hour, the mean below the peak.
                mean = peak * self.rng.uniform(0.55, 0.8)
                yield _datum(metric, dims, hour, "Percent", 60, mean * 60, mean * 0.6, peak)

    def _alb_metrics(self, service: _Service) -> Iterator[dict[str, Any]]:
        """Flat traffic through the service's ALB, and the LCUs it uses."""
        if service.alb_traffic is None:
            return
        requests, response_ms = service.alb_traffic
        lb = self.arns[f"elbv2.load_balancer.{service.name}"].split(":loadbalancer/", 1)[1]
        group = "targetgroup/" + self.arns[f"elbv2.target_group.{service.name}"].split(
            ":targetgroup/", 1)[1]
        pair = [{"Name": "LoadBalancer", "Value": lb}, {"Name": "TargetGroup", "Value": group}]
        seconds = response_ms / 1000
        for hour in self.hours:
            yield _datum("RequestCount", pair, hour, "Count", requests, requests, 1, 1)
            yield _datum("TargetResponseTime", pair, hour, "Seconds", requests,
                         seconds * requests, seconds * 0.25, seconds * 6)
            yield _datum("ConsumedLCUs", [{"Name": "LoadBalancer", "Value": lb}], hour, "Count",
                         60, 0.05 * 60, 0.05, 0.05)

    def _lambda_metrics(self, fn: _Function) -> Iterator[dict[str, Any]]:
        dims = [{"Name": "FunctionName", "Value": fn.name}]
        if fn.steady:
            yield from _steady_lambda_metrics(fn, dims, self.hours)
            return
        bad_day = (self.now - timedelta(days=4)).date()
        for hour in self.hours:
            wave = 1 + fn.diurnal * math.sin(2 * math.pi * (hour.hour - 9) / 24)
            count = max(1, round(fn.rate_per_s * 3600 * wave * self.rng.uniform(0.9, 1.1)))
            errors = round(count * fn.error_rate * self.rng.uniform(0.5, 1.5))
            if fn.bad_day_error_rate and hour.date() == bad_day:
                errors += round(count * fn.bad_day_error_rate)
            mean_ms = fn.duration_ms * self.rng.uniform(0.9, 1.1)
            # The slowest call stays well under the timeout, except in a stalling function.
            peak_ms = min(mean_ms * self.rng.uniform(2.0, 3.5), fn.timeout * 1000 * 0.4)
            if fn.stall_share and self.rng.random() < fn.stall_share:
                peak_ms = fn.timeout * 1000 * self.rng.uniform(0.85, 0.98)
            concurrency = fn.rate_per_s * wave * mean_ms / 1000
            yield _datum("Invocations", dims, hour, "Count", count, count, 1, 1)
            yield _datum("Errors", dims, hour, "Count", count, errors, 0, 1 if errors else 0)
            yield _datum("Duration", dims, hour, "Milliseconds", count, mean_ms * count,
                         mean_ms * 0.4, peak_ms)
            yield _datum("ConcurrentExecutions", dims, hour, "Count", 60, concurrency * 60,
                         concurrency * 0.5, max(1.0, concurrency * self.rng.uniform(1.3, 2.0)))
            if fn.provisioned:
                low, high = fn.pc_util_max
                peak = self.rng.uniform(low, high)
                mean = peak * self.rng.uniform(0.5, 0.75)
                yield _datum(
                    "ProvisionedConcurrencyUtilization",
                    [*dims, {"Name": "Resource", "Value": f"{fn.name}:live"}],
                    hour, "None", 60, mean * 60, mean * 0.5, peak,
                )


# --------------------------------------------------------------------------- helpers


def _steady_lambda_metrics(fn: _Function, dims: list[dict[str, str]],
                           hours: Sequence[datetime]) -> Iterator[dict[str, Any]]:
    count = fn.rate_per_s * 3600
    concurrency = fn.rate_per_s * fn.duration_ms / 1000
    for hour in hours:
        yield _datum("Invocations", dims, hour, "Count", count, count, 1, 1)
        yield _datum("Errors", dims, hour, "Count", count, 0, 0, 0)
        yield _datum("Duration", dims, hour, "Milliseconds", count, fn.duration_ms * count,
                     fn.duration_ms * 0.4, fn.duration_ms * 3)
        yield _datum("ConcurrentExecutions", dims, hour, "Count", 60, concurrency * 60,
                     concurrency * 0.5, concurrency * 2)
        if fn.url_auth:
            yield _datum("UrlRequestCount", dims, hour, "Count", count, count, 1, 1)


def _hours(now: datetime) -> list[datetime]:
    """Hourly timestamps on the hour, strictly within [now - 14 days, now)."""
    start = now - LOOKBACK
    top = now.replace(minute=0, second=0, microsecond=0)
    hours = (top - timedelta(hours=k) for k in range(LOOKBACK.days * 24 + 1))
    return sorted(h for h in hours if start <= h < now)


def _datum(
    name: str,
    dimensions: list[dict[str, str]],
    timestamp: datetime,
    unit: str,
    *stats: float,
) -> dict[str, Any]:
    """One hourly datapoint as StatisticValues: samples, sum, minimum, maximum."""
    samples, total, low, high = stats
    return {
        "MetricName": name,
        "Dimensions": dimensions,
        "Timestamp": timestamp,
        "Unit": unit,
        "StatisticValues": {"SampleCount": float(samples), "Sum": round(total, 4),
                            "Minimum": round(low, 4), "Maximum": round(high, 4)},
    }



def _current_eks_version(now: datetime) -> str:
    """The newest released version in the shipped calendar whose standard support lasts past
    the extended-support warning (90 days, and a week to spare); once the calendar has none,
    the minor version after its newest (an unknown newer version, which is not flagged)."""
    calendar = eks_calendar()
    horizon = now + timedelta(days=97)
    for version in sorted(calendar.versions, key=version_key, reverse=True):
        window = calendar.versions[version]
        if window.release <= now and window.end_of_standard_support > horizon:
            return version
    major, minor = version_key(calendar.newest())[:2]
    return f"{major}.{minor + 1}"


def _subnet_arn(subnet_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet_id}"


def _nat_arn(nat_gateway_id: str) -> str:
    """A NAT gateway's ARN as the auditor reports it (DescribeNatGateways gives none)."""
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:natgateway/{nat_gateway_id}"


def _tags(resource_type: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type,
             "Tags": [{"Key": "Name", "Value": name}, {"Key": "demo", "Value": "true"}]}]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buffer.getvalue()
