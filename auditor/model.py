"""The frozen inventory: what the collectors saw, as typed records, and the links between them.

Records are plain frozen dataclasses built by `auditor.collect` from API responses; checks
only read them. Collections are tuples so that an `Inventory` cannot change after collection.
Identifiers that are only unique within an account and region (subnet IDs, security group IDs)
are looked up together with that account and region.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass, field, fields, replace
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

GLOBAL_REGION = "global"
"""The region recorded on account-wide resources (IAM)."""

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.amazonaws\.com(?P<cn>\.cn)?/(?P<repository>[^:@]+)"
)


_KIND_BY_ARN = (
    ("ecs", "cluster/", "ecs-cluster"), ("ecs", "service/", "ecs-service"),
    ("ecs", "task-definition/", "ecs-task-definition"),
    ("ecs", "container-instance/", "ecs-container-instance"),
    ("eks", "cluster/", "eks-cluster"), ("eks", "nodegroup/", "eks-nodegroup"),
    ("eks", "fargateprofile/", "eks-fargate-profile"), ("eks", "addon/", "eks-addon"),
    ("lambda", "function:", "lambda-function"),
    ("lambda", "event-source-mapping:", "lambda-event-source-mapping"),
    ("rds", "db:", "rds-instance"), ("rds", "cluster:", "rds-cluster"),
    ("rds", "db-proxy:", "rds-proxy"),
    ("elasticloadbalancing", "loadbalancer/", "load-balancer"),
    ("elasticloadbalancing", "targetgroup/", "target-group"),
    ("iam", "role/", "iam-role"), ("ec2", "instance/", "ec2-instance"),
)


def kind_of_arn(arn: str) -> str | None:
    """The inventory kind an ARN names, for resources the scan could not read."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, resource = parts[2], parts[5]
    if service == "lambda" and resource.startswith("function:") and (
            resource.count(":") > 1 or "/" in resource):
        return None  # a version, an alias or a URL of a function, not the function
    return next((kind for owner, prefix, kind in _KIND_BY_ARN
                 if owner == service and resource.startswith(prefix)), None)


@dataclass(frozen=True, slots=True)
class Scope:
    """One (account, region) pair the scan covers."""

    account: str
    region: str

    def __str__(self) -> str:
        return f"{self.account}/{self.region}"


@dataclass(frozen=True, slots=True)
class Resource:
    """Fields every inventory record has; `kind` is the report's `resource_type`."""

    arn: str
    account: str
    region: str

    kind = "resource"

    @property
    def scope(self) -> Scope:
        return Scope(self.account, self.region)

    @property
    def ended(self) -> str | None:
        """The lifecycle state that takes this resource out of the audit (`DELETING`,
        `FAILED`, `INACTIVE`...), or None while it is live. An ended resource is neither
        judged nor priced: it costs nothing for long and its settings no longer matter."""
        return None


def _ended(status: str, ended: frozenset[str]) -> str | None:
    return status if status.upper() in ended else None


# --------------------------------------------------------------------------- network


@dataclass(frozen=True, slots=True)
class Vpc(Resource):
    vpc_id: str
    cidr: str
    is_default: bool

    kind = "vpc"


@dataclass(frozen=True, slots=True)
class Subnet(Resource):
    subnet_id: str
    vpc_id: str
    availability_zone: str
    cidr: str
    map_public_ip_on_launch: bool
    tags: Mapping[str, str] = field(default_factory=dict)

    kind = "subnet"


RouteTarget = Literal[
    "local", "igw", "nat", "tgw", "vgw", "pcx", "eni", "instance", "vpce", "egress-only-igw",
    "other",
]


@dataclass(frozen=True, slots=True)
class Route:
    destination: str
    """A CIDR block or a prefix-list ID (gateway endpoints route through prefix lists)."""
    target_type: RouteTarget
    target_id: str
    state: str
    """`active` or `blackhole`."""


@dataclass(frozen=True, slots=True)
class RouteTable(Resource):
    route_table_id: str
    vpc_id: str
    routes: tuple[Route, ...]
    subnet_ids: tuple[str, ...]
    is_main: bool

    kind = "route-table"

    def default_route(self) -> Route | None:
        """The route that carries traffic to the internet, if any."""
        for route in self.routes:
            if route.destination == "0.0.0.0/0":
                return route
        return None


@dataclass(frozen=True, slots=True)
class NatGateway(Resource):
    nat_gateway_id: str
    vpc_id: str
    subnet_id: str
    state: str
    connectivity_type: str
    """`public` (has an Elastic IP) or `private` (cannot reach the internet on its own)."""

    kind = "nat-gateway"


@dataclass(frozen=True, slots=True)
class InternetGateway(Resource):
    internet_gateway_id: str
    vpc_ids: tuple[str, ...]

    kind = "internet-gateway"


@dataclass(frozen=True, slots=True)
class VpcEndpoint(Resource):
    endpoint_id: str
    vpc_id: str
    service_name: str
    endpoint_type: str
    """`Interface`, `Gateway` or `GatewayLoadBalancer`."""
    state: str
    subnet_ids: tuple[str, ...]
    route_table_ids: tuple[str, ...]
    private_dns_enabled: bool

    kind = "vpc-endpoint"

    @property
    def short_service(self) -> str:
        """`com.amazonaws.us-east-1.ecr.dkr` -> `ecr.dkr`."""
        parts = self.service_name.split(".")
        return ".".join(parts[3:]) if len(parts) > 3 else self.service_name

    @property
    def usable(self) -> bool:
        return self.state.lower() == "available"


@dataclass(frozen=True, slots=True)
class SecurityGroupRule:
    protocol: str
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...]
    group_ids: tuple[str, ...]

    def covers_port(self, port: int) -> bool:
        if self.protocol == "-1" or self.from_port is None or self.to_port is None:
            return True
        return self.from_port <= port <= self.to_port


@dataclass(frozen=True, slots=True)
class SecurityGroup(Resource):
    group_id: str
    vpc_id: str
    name: str
    ingress: tuple[SecurityGroupRule, ...]
    egress: tuple[SecurityGroupRule, ...]

    kind = "security-group"


# --------------------------------------------------------------------------- ECS


@dataclass(frozen=True, slots=True)
class EcsCluster(Resource):
    name: str
    status: str
    container_insights: str | None
    """The `containerInsights` setting: `enabled`, `enhanced`, `disabled` or None if unset."""
    tags: Mapping[str, str] = field(default_factory=dict)

    kind = "ecs-cluster"

    @property
    def ended(self) -> str | None:
        return _ended(self.status, frozenset({"INACTIVE", "DEPROVISIONING", "FAILED"}))


@dataclass(frozen=True, slots=True)
class SecretReference:
    name: str
    value_from: str

    @property
    def service(self) -> str:
        """`secretsmanager` or `ssm`, from the referenced ARN or name."""
        return "secretsmanager" if ":secretsmanager:" in self.value_from else "ssm"

    def arn(self, account: str, region: str) -> str:
        """The ARN IAM authorizes the read against: a Secrets Manager reference without its
        `:json-key:version-stage:version-id` suffix, a bare SSM parameter name as its ARN."""
        if self.value_from.startswith("arn:"):
            parts = self.value_from.split(":")
            return ":".join(parts[:7]) if self.service == "secretsmanager" else self.value_from
        return f"arn:aws:ssm:{region}:{account}:parameter/{self.value_from.lstrip('/')}"


@dataclass(frozen=True, slots=True)
class ContainerDefinition:
    name: str
    image: str
    essential: bool
    cpu: int
    memory_mib: int | None
    environment: Mapping[str, str]
    """Plain environment values. They never leave the process: findings name keys only."""
    secrets: tuple[SecretReference, ...]
    log_driver: str | None
    has_health_check: bool
    has_repository_credentials: bool = False
    log_options: Mapping[str, str] = field(default_factory=dict)
    """The log driver's options (`awslogs-group`, `awslogs-region`...)."""
    privileged: bool = False
    user: str | None = None
    """`user` as written (`name`, `uid`, `uid:gid`...); None when unset, so that the image's
    own USER applies, which is root unless the image names another."""
    readonly_root_filesystem: bool = False

    @property
    def log_mode(self) -> str | None:
        """The delivery mode the container sets (`blocking`, `non-blocking`); None when it
        leaves it to the account's `defaultLogDriverMode`."""
        return self.log_options.get("mode")

    @property
    def pulls_from_ecr(self) -> bool:
        return bool(_ECR_IMAGE.match(self.image))

    @property
    def ecr_repository_arn(self) -> str | None:
        """The ECR repository the image is pulled from, or None for other registries."""
        match = _ECR_IMAGE.match(self.image)
        if match is None:
            return None
        partition = "aws-cn" if match["cn"] else "aws"
        return (f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/"
                f"{match['repository']}")


@dataclass(frozen=True, slots=True)
class TaskDefinition(Resource):
    family: str
    revision: int
    cpu_units: int | None
    memory_mib: int | None
    network_mode: str | None
    requires_compatibilities: tuple[str, ...]
    task_role_arn: str | None
    execution_role_arn: str | None
    cpu_architecture: str
    """`X86_64` or `ARM64` (the runtime platform; X86_64 when unset)."""
    containers: tuple[ContainerDefinition, ...]
    os_family: str = "LINUX"
    """`runtimePlatform.operatingSystemFamily`: `LINUX` (also when unset) or a
    `WINDOWS_SERVER_*` family."""
    default_log_driver_mode: str | None = None
    """The account's effective `defaultLogDriverMode` in the task definition's region (from
    `ListAccountSettings`), what containers that set no `mode` get; None when it was not
    read."""

    kind = "ecs-task-definition"

    @property
    def on_windows(self) -> bool:
        return self.os_family.upper().startswith("WINDOWS")

    @property
    def vcpu(self) -> float | None:
        return None if self.cpu_units is None else self.cpu_units / 1024

    def needs_endpoints(self) -> dict[str, str]:
        """The AWS service endpoints tasks need at start-up, each with the reason.

        Keys are VPC endpoint short names (`ecr.dkr`, `logs`...); `s3` means the S3 gateway
        endpoint, which ECR image layers are served from.
        """
        needs: dict[str, str] = {}
        for container in self.containers:
            if container.pulls_from_ecr:
                why = f"container {container.name} pulls {container.image} from ECR"
                for endpoint in ("ecr.api", "ecr.dkr", "s3"):
                    needs.setdefault(endpoint, why)
            if container.log_driver == "awslogs":
                needs.setdefault("logs", f"container {container.name} logs with awslogs")
            for secret in container.secrets:
                needs.setdefault(
                    secret.service, f"container {container.name} reads secret {secret.name}"
                )
        return needs


@dataclass(frozen=True, slots=True)
class EcsService(Resource):
    name: str
    cluster_arn: str
    status: str
    task_definition_arn: str
    desired_count: int
    running_count: int
    launch_type: str | None
    capacity_providers: tuple[str, ...]
    scheduling_strategy: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    assign_public_ip: bool
    target_group_arns: tuple[str, ...]
    deployment_controller: str
    circuit_breaker_enabled: bool
    enable_execute_command: bool
    created_at: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)
    platform_version: str | None = None
    """The Fargate platform version the service asks for (`LATEST`, `1.4.0`...); None on
    EC2."""
    platform_family: str | None = None
    """The tasks' operating system as DescribeServices reports it (`LINUX`,
    `WINDOWS_SERVER_2022_CORE`...), None when it does not."""

    kind = "ecs-service"

    @property
    def ended(self) -> str | None:
        # DRAINING is a deleted service stopping its tasks.
        return _ended(self.status, frozenset({"INACTIVE", "DRAINING"}))

    @property
    def cluster_name(self) -> str:
        return self.cluster_arn.rsplit("/", 1)[-1]

    @property
    def on_fargate(self) -> bool:
        return self.launch_type == "FARGATE" or any(
            provider.startswith("FARGATE") for provider in self.capacity_providers
        )


@dataclass(frozen=True, slots=True)
class ContainerInstance(Resource):
    cluster_arn: str
    ec2_instance_id: str
    instance_type: str | None
    status: str

    kind = "ecs-container-instance"


@dataclass(frozen=True, slots=True)
class ScalableTarget(Resource):
    """An Application Auto Scaling target; an ECS service's is `service/CLUSTER/SERVICE`."""

    service_namespace: str
    resource_id: str
    scalable_dimension: str
    min_capacity: int
    max_capacity: int

    kind = "autoscaling-target"


# --------------------------------------------------------------------------- load balancers


@dataclass(frozen=True, slots=True)
class LoadBalancer(Resource):
    """An Elastic Load Balancing v2 load balancer (`application`, `network` or `gateway`)."""

    name: str
    lb_type: str
    scheme: str
    vpc_id: str | None
    created: datetime | None = None

    kind = "load-balancer"

    @property
    def metric_dimension(self) -> str:
        """The `LoadBalancer` dimension CloudWatch uses: `app/NAME/ID` from the ARN."""
        return self.arn.split(":loadbalancer/", 1)[-1]


@dataclass(frozen=True, slots=True)
class TargetGroup(Resource):
    name: str
    protocol: str | None
    target_type: str
    """`instance`, `ip`, `lambda` or `alb`."""
    load_balancer_arns: tuple[str, ...]
    lambda_targets: tuple[str, ...] = ()
    """For `lambda` target groups: the function ARNs registered (DescribeTargetHealth)."""

    kind = "target-group"

    @property
    def metric_dimension(self) -> str:
        """The `TargetGroup` dimension CloudWatch uses: `targetgroup/NAME/ID`."""
        return "targetgroup/" + self.arn.split(":targetgroup/", 1)[-1]


# --------------------------------------------------------------------------- commitments


@dataclass(frozen=True, slots=True)
class SavingsPlanRate:
    """What one usage type costs under a Savings Plan (`DescribeSavingsPlanRates`)."""

    product: str
    """`Lambda`, `Fargate` or `EC2`."""
    region: str
    usage_type: str
    """`USE1-Fargate-vCPU-Hours:perCPU`, `USE1-Lambda-GB-Second-ARM`, `BoxUsage:m6i.large`..."""
    usd: float
    """Dollars a unit (an hour, a GB-second) under the plan."""
    instance_type: str | None = None


@dataclass(frozen=True, slots=True)
class SavingsPlan(Resource):
    """A Savings Plan of the account (`DescribeSavingsPlans`; `region` is the scan's global
    scope, `plan_region` the one an EC2 Instance plan is bought for), with its rates for
    Lambda, Fargate and Linux EC2 in the scanned regions."""

    plan_id: str
    plan_type: str
    """`Compute`, `EC2Instance`, `SageMaker` or `Database`."""
    state: str
    commitment_per_hour: float
    payment_option: str
    term_seconds: int
    products: tuple[str, ...]
    plan_region: str | None
    ec2_instance_family: str | None
    rates: tuple[SavingsPlanRate, ...] = ()

    kind = "savings-plan"


@dataclass(frozen=True, slots=True)
class CoveredSpend:
    """One service's Savings-Plan-eligible spend over a window, at on-demand prices."""

    covered_usd: float
    """What the plans covered (`SpendCoveredBySavingsPlans`)."""
    total_usd: float
    """Covered plus on demand (`TotalCost`)."""


@dataclass(frozen=True, slots=True)
class SavingsPlansCoverage(Resource):
    """How much of the account's eligible spend its Savings Plans covered in the scanned
    regions over the lookback (`GetSavingsPlansCoverage` by SERVICE): one record an account."""

    start: str
    end: str
    """The window, `YYYY-MM-DD`, end exclusive (Cost Explorer's)."""
    regions: tuple[str, ...]
    by_service: Mapping[str, CoveredSpend]
    """By Cost Explorer's SERVICE name (`AWS Lambda`, `Amazon Elastic Container Service`...)."""

    kind = "savings-plans-coverage"


@dataclass(frozen=True, slots=True)
class ReservedInstance(Resource):
    """An EC2 Reserved Instance purchase (`DescribeReservedInstances`)."""

    reservation_id: str
    instance_type: str
    instance_count: int
    state: str
    product_description: str
    """`Linux/UNIX`, `Windows`..."""
    tenancy: str
    zonal: bool
    """Bought for one Availability Zone (no size flexibility) rather than the region."""
    offering_type: str
    """`No Upfront`, `Partial Upfront`, `All Upfront`."""
    duration_seconds: int
    fixed_price: float
    """Paid upfront for each instance, for the whole term."""
    hourly_price: float
    """Charged for each instance every hour of the term (`UsagePrice` plus the hourly
    `RecurringCharges`)."""

    kind = "reserved-instance"


# --------------------------------------------------------------------------- EKS


@dataclass(frozen=True, slots=True)
class EksVersionSupport:
    """A Kubernetes version's support window, as `DescribeClusterVersions` reported it."""

    version: str
    status: str
    """`STANDARD_SUPPORT`, `EXTENDED_SUPPORT` or `UNSUPPORTED`."""
    end_of_standard_support: datetime | None
    end_of_extended_support: datetime | None


@dataclass(frozen=True, slots=True)
class EksCluster(Resource):
    name: str
    version: str
    status: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    endpoint_public_access: bool
    endpoint_private_access: bool
    public_access_cidrs: tuple[str, ...]
    logging_enabled: tuple[str, ...]
    secrets_encrypted: bool
    role_arn: str
    created_at: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)
    version_support: EksVersionSupport | None = None
    """From `DescribeClusterVersions`; None when not asked, failed, or the version was unknown."""
    version_calendar_answered: bool = False
    """True once `DescribeClusterVersions` answered for this cluster's region."""
    auto_mode: bool = False
    """EKS Auto Mode (`computeConfig.enabled`): EKS runs the nodes, which no node group or
    Fargate profile lists; they are EC2 instances tagged for the cluster."""

    kind = "eks-cluster"

    @property
    def ended(self) -> str | None:
        return _ended(self.status, frozenset({"DELETING", "FAILED"}))


@dataclass(frozen=True, slots=True)
class EksNodegroup(Resource):
    name: str
    cluster_name: str
    status: str
    subnet_ids: tuple[str, ...]
    instance_types: tuple[str, ...]
    capacity_type: str
    desired_size: int
    min_size: int
    max_size: int
    node_role_arn: str
    version: str | None
    ami_type: str | None
    release_version: str | None = None
    """The AMI release its nodes run (`releaseVersion`, e.g. `1.31.3-20250103`)."""
    release_parameter: str | None = None
    """The SSM public parameter naming the recommended release for its Kubernetes version and
    AMI type; None when the AMI type has none the auditor knows (custom, Bottlerocket,
    Windows)."""
    recommended_release: str | None = None
    """That parameter's value; None when not read or not published."""

    kind = "eks-nodegroup"

    @property
    def ended(self) -> str | None:
        return _ended(self.status, _EKS_PART_ENDED)


@dataclass(frozen=True, slots=True)
class FargateProfile(Resource):
    name: str
    cluster_name: str
    subnet_ids: tuple[str, ...]
    pod_execution_role_arn: str
    namespaces: tuple[str, ...]
    status: str = "ACTIVE"

    kind = "eks-fargate-profile"

    @property
    def ended(self) -> str | None:
        return _ended(self.status, _EKS_PART_ENDED)


_EKS_PART_ENDED = frozenset({"DELETING", "CREATE_FAILED", "DELETE_FAILED"})
"""Node group and Fargate profile states that run no pods."""


NodeProvisioner = Literal["managed-nodegroup", "auto-mode", "karpenter", "self-managed"]


@dataclass(frozen=True, slots=True)
class ClusterNode(Resource):
    """An EC2 instance serving as a node of an EKS cluster, found by the tags EKS, Karpenter
    and the node bootstrap put on it. Nodes come in more shapes than managed node groups:
    Auto Mode and Karpenter nodes and self-managed Auto Scaling groups appear only here."""

    instance_id: str
    instance_type: str
    cluster_name: str
    provisioner: NodeProvisioner
    nodegroup: str | None
    """The managed node group that launched it (`eks:nodegroup-name`)."""
    node_pool: str | None
    """The Karpenter or Auto Mode node pool that launched it."""
    spot: bool
    state: str
    availability_zone: str = ""
    """Where it runs: a Spot node is priced at its own zone's Spot price."""

    kind = "ec2-instance"

    @property
    def ended(self) -> str | None:
        # A stopped instance bills no compute, and its node runs no pods.
        return _ended(self.state, frozenset({"SHUTTING-DOWN", "TERMINATED", "STOPPING",
                                             "STOPPED"}))


@dataclass(frozen=True, slots=True)
class SpotPrice:
    """The Linux Spot price of an instance type in one Availability Zone, the one in effect
    when the scan ran (`DescribeSpotPriceHistory`): a price, not a resource."""

    account: str
    region: str
    instance_type: str
    availability_zone: str
    usd_per_hour: float
    since: datetime | None
    """When the price last changed."""


@dataclass(frozen=True, slots=True)
class EksAddon(Resource):
    name: str
    cluster_name: str
    version: str
    status: str
    cluster_version: str | None = None
    default_version: str | None = None
    """The add-on version EKS installs by default on `cluster_version` (DescribeAddonVersions);
    None when not asked or none is marked default."""

    kind = "eks-addon"


@dataclass(frozen=True, slots=True)
class EksInsight(Resource):
    """One upgrade or configuration insight EKS computed for a cluster (`ListInsights`)."""

    cluster_name: str
    insight_id: str
    name: str
    category: str
    kubernetes_version: str
    status: str
    """`PASSING`, `WARNING`, `ERROR` or `UNKNOWN`."""
    reason: str
    description: str

    kind = "eks-insight"


# --------------------------------------------------------------------------- Lambda


InvokerSource = Literal["sns", "eventbridge"]


@dataclass(frozen=True, slots=True)
class AsyncInvoker:
    """An SNS subscription or EventBridge rule target that invokes a function asynchronously."""

    source: InvokerSource
    source_arn: str
    """The topic's or the rule's ARN."""
    qualifier: str = ""
    """The alias or version it invokes, "" for the unqualified function."""


@dataclass(frozen=True, slots=True)
class LambdaFunction(Resource):
    name: str
    runtime: str | None
    """None for container-image functions."""
    architectures: tuple[str, ...]
    memory_mb: int
    timeout_s: int
    role_arn: str
    package_type: str
    code_size_bytes: int
    vpc_id: str | None
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    environment: Mapping[str, str]
    """Plain environment values. They never leave the process: findings name keys only."""
    log_group_name: str
    last_modified: datetime | None
    reserved_concurrency: int | None = None
    reserved_concurrency_known: bool = False
    """True once GetFunctionConcurrency answered; only asked for functions a check needs."""
    tags: Mapping[str, str] = field(default_factory=dict)
    dead_letter_target: str | None = None
    """The SQS queue or SNS topic failed asynchronous events go to (DeadLetterConfig)."""
    async_invokers: tuple[AsyncInvoker, ...] = ()
    """The SNS subscriptions and EventBridge rules seen invoking it (asynchronously)."""
    on_failure_destinations: Mapping[str, str] = field(default_factory=dict)
    """Asynchronous invocation's on-failure destination by qualifier (`$LATEST` for the
    unqualified function); read only for functions something invokes asynchronously."""

    kind = "lambda-function"

    def on_failure_destination(self, qualifier: str) -> str | None:
        return self.on_failure_destinations.get(qualifier or "$LATEST")

    @property
    def architecture(self) -> str:
        return self.architectures[0] if self.architectures else "x86_64"


@dataclass(frozen=True, slots=True)
class ReservedConcurrency:
    """What GetFunctionConcurrency answered for one function: None, no reservation."""

    function_arn: str
    reserved: int | None


@dataclass(frozen=True, slots=True)
class LambdaAlias(Resource):
    function_arn: str
    name: str
    function_version: str

    kind = "lambda-alias"


@dataclass(frozen=True, slots=True)
class ProvisionedConcurrency(Resource):
    """A provisioned-concurrency configuration; `arn` is the qualified function ARN."""

    function_arn: str
    function_name: str
    qualifier: str
    allocated: int
    requested: int
    status: str

    kind = "lambda-provisioned-concurrency"


@dataclass(frozen=True, slots=True)
class EventSourceMapping(Resource):
    uuid: str
    function_arn: str
    event_source_arn: str
    state: str
    batch_size: int | None
    maximum_concurrency: int | None

    kind = "lambda-event-source-mapping"

    @property
    def source_service(self) -> str:
        parts = self.event_source_arn.split(":")
        return parts[2] if len(parts) > 2 else "unknown"


@dataclass(frozen=True, slots=True)
class FunctionUrl(Resource):
    function_arn: str
    url: str
    auth_type: str
    cors_allow_origins: tuple[str, ...] = ()
    """The origins its CORS configuration lets browsers call it from (`*`: any site)."""

    kind = "lambda-function-url"


# --------------------------------------------------------------------------- API Gateway

ApiProtocol = Literal["REST", "HTTP", "WEBSOCKET"]


@dataclass(frozen=True, slots=True)
class ApiGateway(Resource):
    """An API Gateway REST API (v1), or an HTTP or WebSocket API (v2), and the Lambda functions
    its integrations invoke: a front door that bills per request."""

    api_id: str
    name: str
    protocol: ApiProtocol
    function_arns: tuple[str, ...]
    """Unqualified ARNs of the functions its integrations name (an alias or version in the
    integration URI invokes the same function's code, and bills as it)."""

    kind = "api-gateway"


# --------------------------------------------------------------------------- IAM


@dataclass(frozen=True, slots=True)
class PolicyStatement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    has_condition: bool


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    name: str
    """The policy's name, or ARN for managed policies."""
    statements: tuple[PolicyStatement, ...]


@dataclass(frozen=True, slots=True)
class ManagedPolicy(Resource):
    name: str
    aws_managed: bool
    document: PolicyDocument

    kind = "iam-policy"


@dataclass(frozen=True, slots=True)
class IamRole(Resource):
    name: str
    path: str
    trusted_services: tuple[str, ...]
    """Service principals in the trust policy (`ecs-tasks.amazonaws.com`...)."""
    attached_policy_arns: tuple[str, ...]
    inline_policies: tuple[PolicyDocument, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    kind = "iam-role"


# --------------------------------------------------------------------------- RDS, logs


@dataclass(frozen=True, slots=True)
class RdsInstance(Resource):
    identifier: str
    engine: str
    instance_class: str
    cluster_identifier: str | None
    security_group_ids: tuple[str, ...]
    port: int | None
    parameter_group: str | None
    max_connections_parameter: str | None = None
    """`max_connections` as a custom parameter group sets it (a number or a formula); None for
    the engine default or when the group was not read."""

    kind = "rds-instance"


@dataclass(frozen=True, slots=True)
class RdsCluster(Resource):
    identifier: str
    engine: str
    security_group_ids: tuple[str, ...]
    port: int | None
    members: tuple[str, ...]

    kind = "rds-cluster"


@dataclass(frozen=True, slots=True)
class RdsProxy(Resource):
    name: str
    engine_family: str
    security_group_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    vpc_id: str
    targets: tuple[str, ...] = ()
    """Identifiers of the DB instances and clusters it fronts (`DescribeDBProxyTargets`)."""

    kind = "rds-proxy"


@dataclass(frozen=True, slots=True)
class LogGroup(Resource):
    name: str
    retention_days: int | None
    stored_bytes: int

    kind = "log-group"


# --------------------------------------------------------------------------- Compute Optimizer


@dataclass(frozen=True, slots=True)
class OptimizerSaving:
    """Compute Optimizer's estimate of what its recommendation saves a month, in its terms."""

    amount: float
    currency: str
    """`USD` or `CNY`, as Compute Optimizer states it."""
    percent: float | None
    """Of the resource's monthly cost, as Compute Optimizer prices it."""


@dataclass(frozen=True, slots=True)
class OptimizerRecommendation:
    """Compute Optimizer's recommendation for one Lambda function or ECS service on Fargate
    (`GetLambdaFunctionRecommendations`, `GetECSServiceRecommendations`): evidence beside the
    cost model's figures, never one of them."""

    resource_arn: str
    """The function (unqualified) or service it is about."""
    account: str
    region: str
    finding: str
    """`Optimized`, `NotOptimized` or `Unavailable` (Lambda); `Optimized`, `Overprovisioned`
    or `Underprovisioned` (ECS); `Unavailable` too for a service the ECS call answered with an
    error instead (its code in `reasons`, its text in `message`)."""
    reasons: tuple[str, ...]
    current_memory_mb: int | None
    recommended_memory_mb: int | None
    """Of the top-ranked option; None when there is none."""
    saving: OptimizerSaving | None
    """At on-demand prices (`savingsOpportunity`)."""
    saving_after_discounts: OptimizerSaving | None
    """With the account's Savings Plans and other discounts
    (`savingsOpportunityAfterDiscounts`)."""
    saving_basis: str | None
    """Where its prices come from (`savingsEstimationMode.source`): `PublicPricing`,
    `CostExplorerRightsizing` or `CostOptimizationHub`."""
    lookback_days: float | None
    performance_risk: str | None
    refreshed_at: datetime | None
    current_cpu_units: int | None = None
    recommended_cpu_units: int | None = None
    """ECS only: CPU units of the task (1,024 a vCPU)."""
    message: str = ""


@dataclass(frozen=True, slots=True)
class OptimizerEnrollment:
    """Whether the account is enrolled in Compute Optimizer, as one region answered
    `GetEnrollmentStatus` (or a recommendation call refused with `OptInRequiredException`)."""

    account: str
    region: str
    status: str
    """`Active`, `Inactive`, `Pending` or `Failed`."""
    reason: str

    @property
    def active(self) -> bool:
        return self.status == "Active"


# --------------------------------------------------------------------------- the inventory


@dataclass(frozen=True, slots=True)
class CollectionError:
    """An API call that failed; the datasets it was loading are unknown for its scope."""

    account: str
    region: str
    service: str
    operation: str
    code: str
    message: str
    datasets: tuple[str, ...]
    _: KW_ONLY
    resources: tuple[str, ...] = ()
    """The collected resources whose verdicts this failure leaves unknown, by ARN, or by an
    ARN prefix ending in `*` for every resource under it (`.../addon/CLUSTER/*`). Empty, with
    `unread` empty too: `datasets` failed for the whole scope."""
    unread: tuple[str, ...] = ()
    """Resources the failure left uncollected (a describe that failed, the node groups of a
    cluster that could not be listed: `.../nodegroup/CLUSTER/*`): each stands as one
    `unknown` of its own."""
    series: tuple[str, ...] = ()
    """For a metrics failure, the series that failed (`MetricQuery.describe()`); `datasets` is
    then empty, because only the verdicts that read those series are unknown."""

    @property
    def scope(self) -> Scope:
        return Scope(self.account, self.region)


@dataclass(frozen=True)
class Inventory:
    """Everything collected, for every account and region of the scan."""

    scopes: tuple[Scope, ...] = ()
    vpcs: tuple[Vpc, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    nat_gateways: tuple[NatGateway, ...] = ()
    internet_gateways: tuple[InternetGateway, ...] = ()
    vpc_endpoints: tuple[VpcEndpoint, ...] = ()
    security_groups: tuple[SecurityGroup, ...] = ()
    ecs_clusters: tuple[EcsCluster, ...] = ()
    ecs_services: tuple[EcsService, ...] = ()
    task_definitions: tuple[TaskDefinition, ...] = ()
    container_instances: tuple[ContainerInstance, ...] = ()
    scalable_targets: tuple[ScalableTarget, ...] = ()
    savings_plans: tuple[SavingsPlan, ...] = ()
    savings_plans_coverage: tuple[SavingsPlansCoverage, ...] = ()
    reserved_instances: tuple[ReservedInstance, ...] = ()
    eks_clusters: tuple[EksCluster, ...] = ()
    eks_nodegroups: tuple[EksNodegroup, ...] = ()
    fargate_profiles: tuple[FargateProfile, ...] = ()
    eks_addons: tuple[EksAddon, ...] = ()
    eks_insights: tuple[EksInsight, ...] = ()
    cluster_nodes: tuple[ClusterNode, ...] = ()
    spot_prices: tuple[SpotPrice, ...] = ()
    """Read for the instance types Spot nodes run: prices, not resources."""
    lambda_functions: tuple[LambdaFunction, ...] = ()
    reserved_concurrency: tuple[ReservedConcurrency, ...] = ()
    """Read after the first pass (`auditor.collect.lambda_.reserved_concurrency`), then set on
    the functions by `with_reserved_concurrency`: empty in a finished inventory."""
    lambda_aliases: tuple[LambdaAlias, ...] = ()
    provisioned_concurrency: tuple[ProvisionedConcurrency, ...] = ()
    event_source_mappings: tuple[EventSourceMapping, ...] = ()
    function_urls: tuple[FunctionUrl, ...] = ()
    api_gateways: tuple[ApiGateway, ...] = ()
    iam_roles: tuple[IamRole, ...] = ()
    managed_policies: tuple[ManagedPolicy, ...] = ()
    rds_instances: tuple[RdsInstance, ...] = ()
    rds_clusters: tuple[RdsCluster, ...] = ()
    rds_proxies: tuple[RdsProxy, ...] = ()
    log_groups: tuple[LogGroup, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    target_groups: tuple[TargetGroup, ...] = ()
    optimizer_recommendations: tuple[OptimizerRecommendation, ...] = ()
    optimizer_enrollment: tuple[OptimizerEnrollment, ...] = ()
    """Read only with `--compute-optimizer`: evidence about the workloads, not resources."""
    errors: tuple[CollectionError, ...] = ()
    ended: tuple[Resource, ...] = ()
    """Resources whose lifecycle has ended (`Resource.ended`). They are moved here from the
    other fields when the inventory is built, so that no check judges them and the cost
    model does not price them, whoever built the inventory."""

    def __post_init__(self) -> None:
        moved: list[Resource] = []
        for name in _RESOURCE_FIELDS:
            records: tuple[Resource, ...] = getattr(self, name)
            if any(r.ended is not None for r in records):
                moved.extend(r for r in records if r.ended is not None)
                object.__setattr__(self, name, tuple(r for r in records if r.ended is None))
        if moved:
            object.__setattr__(self, "ended", self.ended + tuple(moved))

    # ---- generic access

    def resources(self) -> Iterator[Resource]:
        for name in _RESOURCE_FIELDS:
            yield from getattr(self, name)

    def of_kind(self, kind: str) -> tuple[Resource, ...]:
        """Every record whose `kind` (report resource_type) is `kind`."""
        return self._by_kind.get(kind, ())

    @cached_property
    def _by_kind(self) -> dict[str, tuple[Resource, ...]]:
        grouped: dict[str, list[Resource]] = defaultdict(list)
        for resource in self.resources():
            grouped[resource.kind].append(resource)
        return {kind: tuple(items) for kind, items in grouped.items()}

    @cached_property
    def _by_arn(self) -> dict[str, Resource]:
        return {resource.arn: resource for resource in self.resources()}

    def get(self, arn: str) -> Resource | None:
        return self._by_arn.get(arn)

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(sorted({scope.account for scope in self.scopes}))

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted({scope.region for scope in self.scopes}))

    # ---- failures

    def failed_datasets(self, scope: Scope) -> frozenset[str]:
        """Datasets that failed to load for this scope (or account-wide, for IAM)."""
        return self._failed.get(scope, frozenset()) | self._failed.get(
            Scope(scope.account, GLOBAL_REGION), frozenset()
        )

    def failed_for(self, arn: str) -> frozenset[str]:
        """Datasets that failed to load for this one resource (a per-resource call, named
        by its ARN or a prefix of it)."""
        found = set(self._failed_resources.get(arn, ()))
        for prefix, datasets in self._failed_prefixes:
            if arn.startswith(prefix):
                found |= datasets
        return frozenset(found)

    @cached_property
    def _failed_resources(self) -> dict[str, frozenset[str]]:
        failed: dict[str, set[str]] = defaultdict(set)
        for error in self.errors:
            for arn in error.resources:
                if not arn.endswith("*"):
                    failed[arn].update(error.datasets)
        return {arn: frozenset(datasets) for arn, datasets in failed.items()}

    @cached_property
    def _failed_prefixes(self) -> tuple[tuple[str, frozenset[str]], ...]:
        return tuple((arn[:-1], frozenset(error.datasets)) for error in self.errors
                     for arn in error.resources if arn.endswith("*"))

    def failed_in_account(self, account: str) -> frozenset[str]:
        """Every dataset that failed anywhere in the account, even for one resource: an
        account-wide verdict (is this role shared?) may rest on any workload of it."""
        return frozenset(name for error in self.errors if error.account == account
                         for name in error.datasets)

    @cached_property
    def _failed(self) -> dict[Scope, frozenset[str]]:
        failed: dict[Scope, set[str]] = defaultdict(set)
        for error in self.errors:
            if not (error.resources or error.unread):
                failed[error.scope].update(error.datasets)
        return {scope: frozenset(datasets) for scope, datasets in failed.items()}

    # ---- network links

    @cached_property
    def _subnets(self) -> dict[tuple[str, str, str], Subnet]:
        return {(s.account, s.region, s.subnet_id): s for s in self.subnets}

    def subnet(self, scope: Scope, subnet_id: str) -> Subnet | None:
        return self._subnets.get((scope.account, scope.region, subnet_id))

    @cached_property
    def _route_tables(self) -> dict[tuple[str, str, str], RouteTable]:
        """Explicit associations by subnet ID, and each VPC's main table under its VPC ID."""
        index: dict[tuple[str, str, str], RouteTable] = {}
        for table in self.route_tables:
            for subnet_id in table.subnet_ids:
                index[(table.account, table.region, subnet_id)] = table
            if table.is_main:
                index[(table.account, table.region, table.vpc_id)] = table
        return index

    def route_table_for(self, subnet: Subnet) -> RouteTable | None:
        """The effective route table: the explicit association, else the VPC's main table."""
        key = (subnet.account, subnet.region)
        return self._route_tables.get((*key, subnet.subnet_id)) or self._route_tables.get(
            (*key, subnet.vpc_id)
        )

    @cached_property
    def _nat_gateways(self) -> dict[tuple[str, str, str], NatGateway]:
        return {(n.account, n.region, n.nat_gateway_id): n for n in self.nat_gateways}

    def nat_gateway(self, scope: Scope, nat_gateway_id: str) -> NatGateway | None:
        return self._nat_gateways.get((scope.account, scope.region, nat_gateway_id))

    def endpoints_in_vpc(self, scope: Scope, vpc_id: str) -> tuple[VpcEndpoint, ...]:
        return self._endpoints_by_vpc.get((scope.account, scope.region, vpc_id), ())

    @cached_property
    def _endpoints_by_vpc(self) -> dict[tuple[str, str, str], tuple[VpcEndpoint, ...]]:
        grouped: dict[tuple[str, str, str], list[VpcEndpoint]] = defaultdict(list)
        for endpoint in self.vpc_endpoints:
            grouped[(endpoint.account, endpoint.region, endpoint.vpc_id)].append(endpoint)
        return {key: tuple(items) for key, items in grouped.items()}

    @cached_property
    def _security_groups(self) -> dict[tuple[str, str, str], SecurityGroup]:
        return {(g.account, g.region, g.group_id): g for g in self.security_groups}

    def security_group(self, scope: Scope, group_id: str) -> SecurityGroup | None:
        return self._security_groups.get((scope.account, scope.region, group_id))

    # ---- workload links

    def task_definition(self, arn: str) -> TaskDefinition | None:
        found = self._by_arn.get(arn)
        return found if isinstance(found, TaskDefinition) else None

    def scalable_target_for(self, service: EcsService) -> ScalableTarget | None:
        """The Application Auto Scaling target on the service's desired count, if any."""
        key = (service.account, service.region, f"service/{service.cluster_name}/{service.name}")
        return self._scalable_targets.get(key)

    @cached_property
    def _scalable_targets(self) -> dict[tuple[str, str, str], ScalableTarget]:
        return {(t.account, t.region, t.resource_id): t for t in self.scalable_targets
                if t.scalable_dimension == "ecs:service:DesiredCount"}

    def role(self, arn: str | None) -> IamRole | None:
        found = self._by_arn.get(arn) if arn else None
        return found if isinstance(found, IamRole) else None

    def managed_policy(self, arn: str) -> ManagedPolicy | None:
        found = self._by_arn.get(arn)
        return found if isinstance(found, ManagedPolicy) else None

    def policies_of(self, role: IamRole) -> tuple[PolicyDocument, ...]:
        """The role's inline policies and the documents of its attached managed policies."""
        attached = (self.managed_policy(arn) for arn in role.attached_policy_arns)
        return role.inline_policies + tuple(p.document for p in attached if p is not None)

    def provisioned_concurrency_for(self, function_arn: str) -> tuple[ProvisionedConcurrency, ...]:
        return tuple(p for p in self.provisioned_concurrency if p.function_arn == function_arn)

    def apis_fronting(self, function_arn: str) -> tuple[ApiGateway, ...]:
        """The API Gateway APIs whose integrations invoke the function."""
        return self._apis_by_function.get(function_arn, ())

    @cached_property
    def _apis_by_function(self) -> dict[str, tuple[ApiGateway, ...]]:
        grouped: dict[str, list[ApiGateway]] = defaultdict(list)
        for api in self.api_gateways:
            for arn in api.function_arns:
                grouped[arn].append(api)
        return {arn: tuple(apis) for arn, apis in grouped.items()}

    def spot_prices_of(self, scope: Scope, instance_type: str) -> dict[str, SpotPrice]:
        """The Spot prices read for an instance type in the scope's region, by zone."""
        return self._spot_prices.get((scope.account, scope.region, instance_type), {})

    @cached_property
    def _spot_prices(self) -> dict[tuple[str, str, str], dict[str, SpotPrice]]:
        grouped: dict[tuple[str, str, str], dict[str, SpotPrice]] = defaultdict(dict)
        for price in self.spot_prices:
            grouped[(price.account, price.region, price.instance_type)][
                price.availability_zone] = price
        return dict(grouped)

    # ---- Compute Optimizer

    def optimizer_recommendation(self, arn: str) -> OptimizerRecommendation | None:
        return self._optimizer_recommendations.get(arn)

    @cached_property
    def _optimizer_recommendations(self) -> dict[str, OptimizerRecommendation]:
        return {r.resource_arn: r for r in self.optimizer_recommendations}

    def optimizer_enrollment_in(self, scope: Scope) -> OptimizerEnrollment | None:
        """How the scope's region answered for the account, if it was asked."""
        return next((e for e in self.optimizer_enrollment
                     if (e.account, e.region) == (scope.account, scope.region)), None)


_RESOURCE_FIELDS = tuple(
    f.name for f in fields(Inventory) if f.name not in (
        "scopes", "errors", "ended", "optimizer_recommendations", "optimizer_enrollment",
        "spot_prices", "reserved_concurrency")
)


def merge(parts: Iterable[Inventory]) -> Inventory:
    """Join per-scope inventories into one; the order of parts is kept."""
    joined: dict[str, list[Any]] = defaultdict(list)
    for part in parts:
        for f in fields(Inventory):
            joined[f.name].extend(getattr(part, f.name))
    return Inventory(**{name: tuple(items) for name, items in joined.items()})


def with_reserved_concurrency(inventory: Inventory) -> Inventory:
    """The reserved concurrency read after the first pass, set on the functions it was read
    for (`reserved_concurrency_known`); a function not asked keeps it unknown."""
    if not inventory.reserved_concurrency:
        return inventory
    read = {r.function_arn: r.reserved for r in inventory.reserved_concurrency}
    return replace(inventory, reserved_concurrency=(), lambda_functions=tuple(
        replace(f, reserved_concurrency=read[f.arn], reserved_concurrency_known=True)
        if f.arn in read else f for f in inventory.lambda_functions))
