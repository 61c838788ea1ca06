"""The VPC network workloads sit in (VPCs, subnets, route tables, gateways, endpoints,
security groups), the EC2 instances that serve as EKS nodes outside managed node groups, and
the Spot prices of the instance types Spot nodes run.

Each listing stands alone, so a failure is recorded under its own operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from botocore import xform_name

from auditor.collect.base import ScopeCollector, paginate, parse_time, tag_map
from auditor.model import (
    ClusterNode,
    InternetGateway,
    Inventory,
    NatGateway,
    NodeProvisioner,
    Route,
    RouteTable,
    RouteTarget,
    SecurityGroup,
    SecurityGroupRule,
    SpotPrice,
    Subnet,
    Vpc,
    VpcEndpoint,
)

T = TypeVar("T")


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants("ec2.network", "ec2.vpc_endpoints", "ec2.security_groups",
                     "ec2.cluster_nodes"):
        return Inventory()
    ec2 = ctx.client("ec2")
    acct, region = ctx.scope.account, ctx.scope.region

    def arn(kind: str, ident: str) -> str:
        return f"arn:aws:ec2:{region}:{acct}:{kind}/{ident}"

    def listing(dataset: str, operation: str, key: str, parse: Callable[[Any], T],
                **kwargs: Any) -> list[T]:
        """One listing, each record parsed on its own; a failure names this operation."""
        if not ctx.wants(dataset):
            return []
        found: list[T] = []
        with ctx.loading(dataset, "ec2", operation):
            found = ctx.parse_each(paginate(ec2, xform_name(operation), key, **kwargs), parse,
                                   (dataset,), "ec2", operation)
        return found

    return Inventory(
        vpcs=tuple(listing("ec2.network", "DescribeVpcs", "Vpcs", lambda v: Vpc(
            arn("vpc", v["VpcId"]), acct, region, v["VpcId"], v.get("CidrBlock", ""),
            bool(v.get("IsDefault"))))),
        subnets=tuple(listing("ec2.network", "DescribeSubnets", "Subnets", lambda s: Subnet(
            s.get("SubnetArn") or arn("subnet", s["SubnetId"]), acct, region, s["SubnetId"],
            s["VpcId"], s.get("AvailabilityZone", ""), s.get("CidrBlock", ""),
            bool(s.get("MapPublicIpOnLaunch")), tag_map(s.get("Tags"))))),
        route_tables=tuple(listing(
            "ec2.network", "DescribeRouteTables", "RouteTables",
            lambda t: _route_table(t, arn("route-table", t["RouteTableId"]), acct, region))),
        nat_gateways=tuple(listing(
            "ec2.network", "DescribeNatGateways", "NatGateways", lambda n: NatGateway(
                arn("natgateway", n["NatGatewayId"]), acct, region, n["NatGatewayId"],
                n.get("VpcId", ""), n.get("SubnetId", ""), n.get("State", "unknown"),
                n.get("ConnectivityType", "public")))),
        internet_gateways=tuple(listing(
            "ec2.network", "DescribeInternetGateways", "InternetGateways",
            lambda g: InternetGateway(
                arn("internet-gateway", g["InternetGatewayId"]), acct, region,
                g["InternetGatewayId"],
                tuple(a["VpcId"] for a in g.get("Attachments", [])
                      if a.get("State", "available") in ("available", "attached"))))),
        vpc_endpoints=tuple(listing(
            "ec2.vpc_endpoints", "DescribeVpcEndpoints", "VpcEndpoints", lambda e: VpcEndpoint(
                arn("vpc-endpoint", e["VpcEndpointId"]), acct, region, e["VpcEndpointId"],
                e.get("VpcId", ""), e.get("ServiceName", ""),
                e.get("VpcEndpointType", "Gateway"), e.get("State", "unknown"),
                tuple(e.get("SubnetIds", [])), tuple(e.get("RouteTableIds", [])),
                bool(e.get("PrivateDnsEnabled"))))),
        security_groups=tuple(listing(
            "ec2.security_groups", "DescribeSecurityGroups", "SecurityGroups",
            lambda g: SecurityGroup(
                arn("security-group", g["GroupId"]), acct, region, g["GroupId"],
                g.get("VpcId", ""), g.get("GroupName", ""),
                tuple(_rule(r) for r in g.get("IpPermissions", [])),
                tuple(_rule(r) for r in g.get("IpPermissionsEgress", []))))),
        cluster_nodes=tuple(node for instances in listing(
            "ec2.cluster_nodes", "DescribeInstances", "Reservations", _instances,
            Filters=[{"Name": "tag-key", "Values": list(NODE_TAG_KEYS)},
                     {"Name": "instance-state-name", "Values": ["pending", "running"]}])
            for node in _nodes(instances, ctx)),
    )


# --------------------------------------------------------------------------- cluster nodes

NODE_TAG_KEYS = ("eks:cluster-name", "eks:eks-cluster-name", "kubernetes.io/cluster/*")
"""Tags that mark an instance as a node of an EKS cluster: managed node groups put the first,
Karpenter and EKS Auto Mode the second, and every node bootstrap the third
(`kubernetes.io/cluster/NAME = owned`)."""
_CLUSTER_TAG = "kubernetes.io/cluster/"


def _instances(reservation: dict[str, Any]) -> list[dict[str, Any]]:
    """A reservation's instances (DescribeInstances groups them by launch request)."""
    instances: list[dict[str, Any]] = reservation.get("Instances", [])
    return instances


def _nodes(instances: list[dict[str, Any]], ctx: ScopeCollector) -> list[ClusterNode]:
    acct, region = ctx.scope.account, ctx.scope.region
    nodes = []
    for raw in instances:
        tags = tag_map(raw.get("Tags"))
        cluster = (tags.get("eks:cluster-name") or tags.get("eks:eks-cluster-name")
                   or next((k.removeprefix(_CLUSTER_TAG) for k in tags
                            if k.startswith(_CLUSTER_TAG)), None))
        if not cluster or "InstanceId" not in raw:
            continue
        nodegroup = tags.get("eks:nodegroup-name")
        auto_pool = tags.get("eks:kubernetes-node-pool-name")
        karpenter_pool = tags.get("karpenter.sh/nodepool")
        provisioner: NodeProvisioner = (
            "managed-nodegroup" if nodegroup else "auto-mode" if auto_pool
            else "karpenter" if karpenter_pool else "self-managed")
        nodes.append(ClusterNode(
            f"arn:aws:ec2:{region}:{acct}:instance/{raw['InstanceId']}", acct, region,
            instance_id=raw["InstanceId"],
            instance_type=raw.get("InstanceType", ""),
            cluster_name=cluster,
            provisioner=provisioner,
            nodegroup=nodegroup,
            node_pool=auto_pool or karpenter_pool,
            spot=raw.get("InstanceLifecycle") == "spot",
            state=(raw.get("State") or {}).get("Name", "unknown"),
            availability_zone=(raw.get("Placement") or {}).get("AvailabilityZone", ""),
        ))
    return nodes


# --------------------------------------------------------------------------- Spot prices

_LINUX = "Linux/UNIX"
"""The product description of Linux Spot prices (`Linux/UNIX (Amazon VPC)` on accounts old
enough to have had EC2-Classic)."""


def spot_prices(ctx: ScopeCollector, found: Inventory) -> Inventory:
    """The Spot price in effect of each instance type the scope's Spot node groups (their
    first type, which the cost model prices them as) and Spot nodes outside node groups run:
    one `DescribeSpotPriceHistory` for them all. Unread, the clusters they belong to are
    priced at on-demand, and their costs are unknown."""
    if not ctx.wants("ec2.spot_prices"):
        return Inventory()
    users = _spot_users(ctx, found)
    if not users:
        return Inventory()
    acct, region = ctx.scope.account, ctx.scope.region
    clusters = sorted({f"arn:aws:eks:{region}:{acct}:cluster/{name}"
                       for names in users.values() for name in names})
    records: list[SpotPrice | None] = []
    with ctx.describing("ec2.spot_prices", "ec2", "DescribeSpotPriceHistory",
                        resources=clusters):
        # From now: AWS answers the price in effect then (its last change before it).
        records = ctx.parse_each(
            paginate(ctx.client("ec2"), "describe_spot_price_history", "SpotPriceHistory",
                     InstanceTypes=sorted(users), ProductDescriptions=[_LINUX],
                     StartTime=ctx.now),
            lambda raw: _spot_price(raw, ctx), ("ec2.spot_prices",), "ec2",
            "DescribeSpotPriceHistory")
    latest: dict[tuple[str, str], SpotPrice] = {}
    for record in records:
        if record is None:
            continue
        kept = latest.get((record.instance_type, record.availability_zone))
        if kept is None or (record.since or ctx.now) >= (kept.since or ctx.now):
            latest[(record.instance_type, record.availability_zone)] = record
    return Inventory(spot_prices=tuple(latest[key] for key in sorted(latest)))


def _spot_users(ctx: ScopeCollector, found: Inventory) -> dict[str, set[str]]:
    """The instance types the scope's Spot nodes run, each with the clusters running it."""
    here = (ctx.scope.account, ctx.scope.region)
    users: dict[str, set[str]] = {}
    for group in found.eks_nodegroups:
        if (group.account, group.region) == here and group.capacity_type == "SPOT" \
                and group.instance_types:
            users.setdefault(group.instance_types[0], set()).add(group.cluster_name)
    for node in found.cluster_nodes:
        if (node.account, node.region) == here and node.spot \
                and node.provisioner != "managed-nodegroup":
            users.setdefault(node.instance_type, set()).add(node.cluster_name)
    return users


def _spot_price(raw: dict[str, Any], ctx: ScopeCollector) -> SpotPrice | None:
    if not str(raw.get("ProductDescription", "")).startswith(_LINUX):
        return None
    return SpotPrice(ctx.scope.account, ctx.scope.region, raw["InstanceType"],
                     raw["AvailabilityZone"], float(raw["SpotPrice"]),
                     parse_time(raw.get("Timestamp")))


_TARGETS: tuple[tuple[str, RouteTarget], ...] = (
    ("TransitGatewayId", "tgw"),
    ("NatGatewayId", "nat"),
    ("VpcPeeringConnectionId", "pcx"),
    ("EgressOnlyInternetGatewayId", "egress-only-igw"),
    ("NetworkInterfaceId", "eni"),
    ("InstanceId", "instance"),
    ("GatewayId", "igw"),
)


def _route(raw: dict[str, Any]) -> Route:
    destination = (raw.get("DestinationCidrBlock") or raw.get("DestinationIpv6CidrBlock")
                   or raw.get("DestinationPrefixListId") or "")
    target_type: RouteTarget = "other"
    target_id = ""
    for key, kind in _TARGETS:
        if raw.get(key):
            target_id, target_type = str(raw[key]), kind
            break
    if target_type == "igw":
        # GatewayId also carries "local", virtual private gateways and gateway endpoints.
        if target_id == "local":
            target_type = "local"
        elif target_id.startswith("vgw-"):
            target_type = "vgw"
        elif target_id.startswith("vpce-"):
            target_type = "vpce"
    return Route(destination, target_type, target_id, raw.get("State", "active"))


def _route_table(raw: dict[str, Any], arn: str, account: str, region: str) -> RouteTable:
    associations = raw.get("Associations", [])
    return RouteTable(
        arn, account, region, raw["RouteTableId"], raw.get("VpcId", ""),
        tuple(_route(r) for r in raw.get("Routes", [])),
        tuple(a["SubnetId"] for a in associations if a.get("SubnetId")),
        any(a.get("Main") for a in associations),
    )


def _rule(raw: dict[str, Any]) -> SecurityGroupRule:
    return SecurityGroupRule(
        protocol=str(raw.get("IpProtocol", "-1")),
        from_port=raw.get("FromPort"),
        to_port=raw.get("ToPort"),
        cidrs=tuple(r["CidrIp"] for r in raw.get("IpRanges", []) if "CidrIp" in r)
        + tuple(r["CidrIpv6"] for r in raw.get("Ipv6Ranges", []) if "CidrIpv6" in r),
        group_ids=tuple(p["GroupId"] for p in raw.get("UserIdGroupPairs", []) if "GroupId" in p),
    )
