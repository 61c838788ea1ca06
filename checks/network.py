"""Network checks: where workloads run, and whether they can reach what they need from there.

Three kinds of workload run in VPC subnets: ECS services (awsvpc), Lambda functions attached to
a VPC and EKS managed node groups. The checks here judge all three the same way, through
`placements`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param
from auditor.findings import Category, Finding, Severity
from auditor.model import (
    EcsService,
    EksCluster,
    EksNodegroup,
    Inventory,
    Resource,
    Route,
    RouteTable,
    Scope,
    Subnet,
)

INTERNET = "internet"
"""A need no VPC endpoint can serve (an image from a public registry)."""
ANY_AWS_SERVICE = "any AWS service"
"""A Lambda function's need: which services its code calls cannot be seen from its
configuration, so any usable endpoint is taken to be the one it uses."""

WORKLOAD_KINDS = ("ecs-service", "lambda-function", "eks-nodegroup")
_LISTINGS = {"ecs-service": "ecs.services", "lambda-function": "lambda.functions",
             "eks-nodegroup": "eks.nodegroups"}


@dataclass(frozen=True)
class Placement:
    """A workload and the subnets it runs in."""

    workload: Resource
    label: str
    """`ECS service orders-api`: how messages name it."""
    subnet_ids: tuple[str, ...]
    public_ip: bool | None
    """Whether its network interfaces get a public IP; None: the subnet's
    MapPublicIpOnLaunch decides."""
    context: Mapping[str, str] = field(default_factory=dict)
    """Evidence that locates it (cluster, task definition, VPC)."""

    def gets_public_ip(self, subnet: Subnet) -> bool:
        return subnet.map_public_ip_on_launch if self.public_ip is None else self.public_ip


def placements(inv: Inventory) -> Iterator[Placement]:
    """Every workload that runs in VPC subnets."""
    for service in inv.ecs_services:
        if service.subnet_ids:
            yield Placement(service, f"ECS service {service.name}", service.subnet_ids,
                            service.assign_public_ip,
                            {"cluster": service.cluster_name,
                             "task_definition": service.task_definition_arn})
    for function in inv.lambda_functions:
        if function.subnet_ids:
            # Lambda's network interfaces never get a public IP, even in a public subnet.
            yield Placement(function, f"Lambda function {function.name}", function.subnet_ids,
                            False, {"vpc_id": function.vpc_id or ""})
    for group in inv.eks_nodegroups:
        if group.subnet_ids:
            yield Placement(group, f"EKS node group {group.cluster_name}/{group.name}",
                            group.subnet_ids, None, {"cluster": group.cluster_name})


@dataclass(frozen=True)
class Egress:
    """What a subnet's effective route table does with traffic to 0.0.0.0/0."""

    works: bool
    unverified: bool
    detail: str


def subnet_egress(inv: Inventory, subnet: Subnet, public_ip: bool) -> Egress:
    table = inv.route_table_for(subnet)
    if table is None:
        # Every VPC has a main route table: not seeing one means the tables were not all read.
        return Egress(False, True, f"no route table was read for {subnet.subnet_id} (none "
                                   f"associated, and VPC {subnet.vpc_id} shows no main table, "
                                   "which every VPC has)")
    route = table.default_route()
    where = f"route table {table.route_table_id}"
    if route is None:
        return Egress(False, False, f"{where} has no 0.0.0.0/0 route")
    if route.state == "blackhole":
        return Egress(False, False, f"{where} sends 0.0.0.0/0 to {route.target_id}, a blackhole")
    return _via(inv, subnet.scope, route, where, public_ip)


def _via(inv: Inventory, scope: Scope, route: Route, where: str, public_ip: bool) -> Egress:
    target = route.target_id
    if route.target_type == "igw":
        if public_ip:
            return Egress(True, False, f"{where} routes 0.0.0.0/0 to {target} and the workload "
                                       "gets a public IP")
        return Egress(False, False, f"{where} routes 0.0.0.0/0 to internet gateway {target}, "
                                    "but the workload gets no public IP, so it cannot use it")
    if route.target_type == "nat":
        nat = inv.nat_gateway(scope, target)
        if nat is None:
            return Egress(False, False, f"{where} routes 0.0.0.0/0 to {target}, which does not "
                                        "exist")
        if nat.state != "available":
            return Egress(False, False, f"{where} routes 0.0.0.0/0 to NAT gateway {target}, "
                                        f"which is {nat.state}")
        if nat.connectivity_type == "private":
            return Egress(False, False, f"NAT gateway {target} is private: it has no path to "
                                        "the internet")
        nat_subnet = inv.subnet(scope, nat.subnet_id)
        if nat_subnet is None or internet_route(inv, nat_subnet) is None:
            return Egress(False, False, f"NAT gateway {target} sits in {nat.subnet_id}, which "
                                        "has no route to an internet gateway")
        return Egress(True, False, f"{where} routes 0.0.0.0/0 to available NAT gateway {target}")
    if route.target_type in ("tgw", "vgw", "pcx", "eni", "instance"):
        return Egress(False, True, f"{where} routes 0.0.0.0/0 to {route.target_type} {target}; "
                                   "the path beyond it cannot be verified from this account")
    return Egress(False, False, f"{where} routes 0.0.0.0/0 to {target or 'an unknown target'}, "
                                "which does not reach the internet")


def internet_route(inv: Inventory, subnet: Subnet) -> tuple[RouteTable, Route] | None:
    """The subnet's effective route table and its active 0.0.0.0/0 route to an internet
    gateway, if it has one: what makes a subnet public."""
    table = inv.route_table_for(subnet)
    route = table.default_route() if table else None
    if table is None or route is None or route.target_type != "igw" or route.state != "active":
        return None
    return table, route


def endpoints_available(inv: Inventory, subnet: Subnet) -> dict[str, str]:
    """Endpoint short names usable from this subnet, each with the endpoint ID.

    Interface endpoints need private DNS so that SDKs resolve the service to them; the S3
    gateway endpoint only works for route tables it is attached to.
    """
    table = inv.route_table_for(subnet)
    usable: dict[str, str] = {}
    for endpoint in inv.endpoints_in_vpc(subnet.scope, subnet.vpc_id):
        if not endpoint.usable:
            continue
        if endpoint.endpoint_type == "Gateway":
            if table is not None and table.route_table_id in endpoint.route_table_ids:
                usable[endpoint.short_service] = endpoint.endpoint_id
        elif endpoint.endpoint_type == "Interface" and endpoint.private_dns_enabled:
            usable[endpoint.short_service] = endpoint.endpoint_id
    return usable


def service_needs(inv: Inventory, service: EcsService) -> dict[str, str] | None:
    """What tasks of this service must reach at start-up, or None if the task definition is
    not in the inventory."""
    task_definition = inv.task_definition(service.task_definition_arn)
    if task_definition is None:
        return None
    needs = task_definition.needs_endpoints()
    for container in task_definition.containers:
        if not container.pulls_from_ecr:
            needs.setdefault(INTERNET, f"container {container.name} pulls {container.image} "
                                       "from a registry outside AWS")
    if service.enable_execute_command:
        needs.setdefault("ssmmessages", "ECS Exec is enabled")
    return needs


def nodegroup_needs(inv: Inventory, group: EksNodegroup) -> dict[str, str]:
    """What nodes must reach to join the cluster and run pods (EKS's list for private
    clusters, less the optional add-ons)."""
    images = "nodes pull the VPC CNI, kube-proxy and pause images from ECR"
    needs = dict.fromkeys(("ecr.api", "ecr.dkr", "s3"), images)
    needs["ec2"] = "the VPC CNI plugin calls EC2 to attach network interfaces and addresses"
    needs["sts"] = "pods with IAM roles for service accounts get their credentials from STS"
    cluster = _cluster_of(inv, group)
    if cluster is not None and not cluster.endpoint_private_access:
        # The Kubernetes API endpoint has no VPC endpoint: without private access, kubelets
        # reach the public one over the internet.
        needs[INTERNET] = f"cluster {cluster.name}'s API endpoint is public only"
    return needs


def _cluster_of(inv: Inventory, group: EksNodegroup) -> EksCluster | None:
    return next((c for c in inv.eks_clusters
                 if c.scope == group.scope and c.name == group.cluster_name), None)


def workload_needs(inv: Inventory, placement: Placement) -> dict[str, str] | None:
    workload = placement.workload
    if isinstance(workload, EcsService):
        return service_needs(inv, workload)
    if isinstance(workload, EksNodegroup):
        return nodegroup_needs(inv, workload)
    return {ANY_AWS_SERVICE: "its code's AWS SDK calls (which services cannot be seen from "
                             "its configuration)"}


def _missing(needs: Mapping[str, str], available: Mapping[str, str]) -> list[str]:
    return sorted(need for need in needs
                  if need not in available and not (need == ANY_AWS_SERVICE and available))


_CONSEQUENCE = {
    "ecs-service": "its tasks cannot start there",
    "lambda-function": "its code cannot reach AWS services from there",
    "eks-nodegroup": "its nodes cannot pull images or join the cluster from there",
}


class PrivateSubnetNoEgress(Check):
    id = "network.private_subnet_no_egress"
    title = "Workload in a subnet with no path to what it needs"
    severity = Severity.HIGH
    category = Category.NETWORK
    rationale = (
        "Tasks in a private subnet reach ECR, CloudWatch Logs and Secrets Manager through a NAT "
        "gateway or VPC endpoints. With neither, tasks fail to start (CannotPullContainerError, "
        "ResourceInitializationError) and the service never reaches its desired count. EKS nodes "
        "need ECR (ecr.api, ecr.dkr and the S3 gateway) for the system images, ec2 for the VPC "
        "CNI, sts for IAM roles for service accounts, and the internet when the cluster's API "
        "endpoint is public only. A Lambda function's needs cannot be read from its "
        "configuration, so it is flagged only when no endpoint at all is usable: then none of "
        "its AWS SDK calls can succeed (calls to resources inside the VPC still work; suppress "
        "the finding if that is all it does)."
    )
    remediation = (
        "Route 0.0.0.0/0 from the subnet's route table to an available NAT gateway in a public "
        "subnet, or create the missing VPC endpoints (interface endpoints with private DNS; the "
        "S3 gateway endpoint on this route table). For a node group of a cluster whose API "
        "endpoint is public only, enable private endpoint access."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions", "lambda.functions",
                          "eks.nodegroups", "eks.clusters", "ec2.network", "ec2.vpc_endpoints"})
    subject_kinds = WORKLOAD_KINDS
    subject_requires: ClassVar[Mapping[str, frozenset[str]]] = {
        "ecs-service": frozenset({"ecs.services", "ecs.task_definitions", "ec2.network",
                                  "ec2.vpc_endpoints"}),
        "lambda-function": frozenset({"lambda.functions", "ec2.network", "ec2.vpc_endpoints"}),
        "eks-nodegroup": frozenset({"eks.nodegroups", "eks.clusters", "ec2.network",
                                    "ec2.vpc_endpoints"}),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for placement in placements(inventory):
            needs = workload_needs(inventory, placement)
            if needs is None:
                continue
            finding = self._judge(inventory, placement, needs)
            if finding is not None:
                yield finding

    def _judge(self, inv: Inventory, placement: Placement, needs: Mapping[str, str]
               ) -> Finding | None:
        workload = placement.workload
        broken: list[dict[str, Any]] = []
        unverified: list[dict[str, Any]] = []
        for subnet_id in placement.subnet_ids:
            subnet = inv.subnet(workload.scope, subnet_id)
            if subnet is None:
                unverified.append({"subnet_id": subnet_id, "missing": [],
                                   "egress": f"subnet {subnet_id} was not among the subnets "
                                             "read"})
                continue
            egress = subnet_egress(inv, subnet, placement.gets_public_ip(subnet))
            if egress.works:
                continue
            available = endpoints_available(inv, subnet)
            missing = _missing(needs, available)
            if not missing:
                continue
            entry = {"subnet_id": subnet_id, "availability_zone": subnet.availability_zone,
                     "egress": egress.detail, "endpoints_available": sorted(available),
                     "missing": missing}
            (unverified if egress.unverified else broken).append(entry)
        if not broken and not unverified:
            return None
        evidence = {**placement.context, "needs": dict(needs), "subnets": broken + unverified}
        first = (broken or unverified)[0]
        missing_text = ", ".join(first["missing"])
        if broken:
            return self.finding(
                workload,
                f"{placement.label} runs in {len(broken)} of {len(placement.subnet_ids)} "
                f"subnets with no way out ({first['subnet_id']}: {first['egress']}) and no VPC "
                f"endpoint for {missing_text}: {_CONSEQUENCE[workload.kind]}.",
                evidence,
            )
        endpoints = (f"no VPC endpoint for {missing_text}, so whether it can reach them "
                     "depends on that path" if missing_text
                     else "so whether it can reach what it needs cannot be told")
        finding = self.finding(workload, f"{placement.label}: {first['egress']}; {endpoints}.",
                               evidence)
        return _as_unverified(finding)


def _as_unverified(finding: Finding) -> Finding:
    return replace(finding, status="unknown", evidence={**finding.evidence, "unverified": True})


class SingleAz(Check):
    id = "network.single_az"
    title = "Workload confined to one Availability Zone"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "ECS places tasks, Lambda creates network interfaces and EKS launches nodes only in the "
        "subnets they are given. When every one of those subnets sits in one Availability Zone, "
        "an outage of that zone stops the workload, however many tasks, concurrent executions "
        "or nodes it has."
    )
    remediation = (
        "Add subnets in at least one more Availability Zone: to the service's network "
        "configuration or the function's VPC configuration; a node group's subnets are fixed, so "
        "create a node group across several zones and move the pods to it."
    )
    requires = frozenset({"ecs.services", "lambda.functions", "eks.nodegroups", "ec2.network"})
    subject_kinds = WORKLOAD_KINDS
    subject_requires: ClassVar[Mapping[str, frozenset[str]]] = {
        kind: frozenset({listing, "ec2.network"}) for kind, listing in _LISTINGS.items()
    }
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_azs": Param(2, "flag when the subnets span fewer Availability Zones than this"),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        min_azs = ctx.number("min_azs")
        for placement in placements(inventory):
            workload = placement.workload
            subnets = [inventory.subnet(workload.scope, s) for s in placement.subnet_ids]
            # A subnet not seen (another account's shared VPC) could be in any zone.
            known = [s for s in subnets if s is not None]
            if len(known) < len(subnets):
                continue
            zones = sorted({s.availability_zone for s in known})
            if len(zones) >= min_azs:
                continue
            yield self.finding(
                workload,
                f"{placement.label} runs in {len(known)} subnet(s), all in "
                f"{', '.join(zones)}: {len(zones)} Availability Zone(s), threshold "
                f"{min_azs:g}. An outage of that zone stops it.",
                {**placement.context,
                 "subnets": [{"subnet_id": s.subnet_id, "availability_zone": s.availability_zone}
                             for s in known],
                 "availability_zones": zones, "threshold_min_azs": min_azs},
            )


class PublicIpAssigned(Check):
    id = "ecs.public_ip_assigned"
    title = "ECS tasks with public IPs in public subnets"
    severity = Severity.MEDIUM
    category = Category.SECURITY
    rationale = (
        "With assignPublicIp=ENABLED in a subnet whose route table sends 0.0.0.0/0 to an "
        "internet gateway, every task has an address on the internet and only its security "
        "groups stand between it and the world. Tasks that serve traffic belong behind a load "
        "balancer, in private subnets with a NAT gateway or VPC endpoints for their way out."
    )
    remediation = (
        "Move the service to private subnets (routed to a NAT gateway, or with the VPC "
        "endpoints it needs) with assignPublicIp=DISABLED; if it serves the internet, put a "
        "load balancer in the public subnets in front of it."
    )
    requires = frozenset({"ecs.services", "ec2.network"})
    subject_kinds = ("ecs-service",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            if not service.assign_public_ip:
                continue
            public = []
            for subnet_id in service.subnet_ids:
                subnet = inventory.subnet(service.scope, subnet_id)
                found = internet_route(inventory, subnet) if subnet else None
                if found is not None:
                    table, route = found
                    public.append({"subnet_id": subnet_id, "route_table": table.route_table_id,
                                   "internet_gateway": route.target_id})
            if not public:
                continue
            first = public[0]
            yield self.finding(
                service,
                f"ECS service {service.name} gives each task a public IP in "
                f"{len(public)} of {len(service.subnet_ids)} subnets routed to an internet "
                f"gateway ({first['subnet_id']}: {first['route_table']} sends 0.0.0.0/0 to "
                f"{first['internet_gateway']}); only security groups "
                f"{', '.join(service.security_group_ids) or '(none)'} guard it.",
                {"cluster": service.cluster_name, "assign_public_ip": "ENABLED",
                 "public_subnets": public, "security_groups": list(service.security_group_ids),
                 "threshold": "no public IP in a subnet routed to an internet gateway"},
            )
