"""Where workloads run and what they can reach: the network model the network checks and the
database checks judge by.

Three kinds of workload run in VPC subnets: ECS services (awsvpc), Lambda functions attached to
a VPC and EKS managed node groups (`placements`). A subnet's way out is its effective route
table's default route (`subnet_egress`); what a workload needs to reach at start-up comes from
its configuration (`workload_needs`), and VPC endpoints can stand in for the internet
(`endpoints_available`). Inbound, security group rules decide what reaches a port
(`ingress_paths`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from ipaddress import ip_network

from auditor.model import (
    EcsService,
    EksCluster,
    EksNodegroup,
    Inventory,
    LambdaFunction,
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


def missing_endpoints(needs: Mapping[str, str], available: Mapping[str, str]) -> list[str]:
    """The needs no usable endpoint serves (any endpoint serves a function's SDK calls)."""
    return sorted(need for need in needs
                  if need not in available and not (need == ANY_AWS_SERVICE and available))


def ingress_paths(inv: Inventory, function: LambdaFunction, group_ids: Iterable[str],
                  port: int | None) -> list[str]:
    """How the function's network interfaces get in through `group_ids` on `port`: each
    ingress rule naming one of its security groups, or whose CIDR holds one of its subnets."""
    own_groups = set(function.security_group_ids)
    subnets = [s for s in (inv.subnet(function.scope, i) for i in function.subnet_ids) if s]
    paths: list[str] = []
    for group_id in group_ids:
        group = inv.security_group(function.scope, group_id)
        if group is None:
            continue
        for rule in group.ingress:
            if rule.protocol not in ("-1", "tcp", "6") or (
                    port is not None and not rule.covers_port(port)):
                continue
            ports = "all ports" if rule.protocol == "-1" else f"port {port}"
            for source in sorted(own_groups & set(rule.group_ids)):
                paths.append(f"{group_id} allows {source} on {ports}")
            if group.vpc_id != function.vpc_id:
                continue  # an address range only means this VPC's subnets
            for cidr in rule.cidrs:
                inside = [s.subnet_id for s in subnets if _within(s.cidr, cidr)]
                if inside:
                    paths.append(f"{group_id} allows {cidr} (holds {', '.join(inside)}) on "
                                 f"{ports}")
    return paths


def _within(subnet_cidr: str, rule_cidr: str) -> bool:
    try:
        subnet, rule = ip_network(subnet_cidr, strict=False), ip_network(rule_cidr, strict=False)
    except ValueError:
        return False
    return subnet.version == rule.version and subnet.subnet_of(rule)  # type: ignore[arg-type]
