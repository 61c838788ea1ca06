"""The VPC network workloads sit in: VPCs, subnets, route tables, gateways, endpoints, groups."""

from __future__ import annotations

from typing import Any

from auditor.collect.base import ScopeCollector, paginate, tag_map
from auditor.model import (
    InternetGateway,
    Inventory,
    NatGateway,
    Route,
    RouteTable,
    RouteTarget,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    Vpc,
    VpcEndpoint,
)


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants("ec2.network", "ec2.vpc_endpoints", "ec2.security_groups"):
        return Inventory()
    ec2 = ctx.client("ec2")
    acct, region = ctx.scope.account, ctx.scope.region
    vpcs: list[Vpc] = []
    subnets: list[Subnet] = []
    tables: list[RouteTable] = []
    nats: list[NatGateway] = []
    igws: list[InternetGateway] = []
    endpoints: list[VpcEndpoint] = []
    groups: list[SecurityGroup] = []

    def arn(kind: str, ident: str) -> str:
        return f"arn:aws:ec2:{region}:{acct}:{kind}/{ident}"

    if ctx.wants("ec2.network"):
        with ctx.loading("ec2.network", "ec2", "DescribeVpcs"):
            vpcs = [
                Vpc(arn("vpc", v["VpcId"]), acct, region, v["VpcId"], v.get("CidrBlock", ""),
                    bool(v.get("IsDefault")))
                for v in paginate(ec2, "describe_vpcs", "Vpcs")
            ]
            subnets = [
                Subnet(s.get("SubnetArn") or arn("subnet", s["SubnetId"]), acct, region,
                       s["SubnetId"], s["VpcId"], s.get("AvailabilityZone", ""),
                       s.get("CidrBlock", ""), bool(s.get("MapPublicIpOnLaunch")),
                       tag_map(s.get("Tags")))
                for s in paginate(ec2, "describe_subnets", "Subnets")
            ]
            tables = [
                _route_table(t, arn("route-table", t["RouteTableId"]), acct, region)
                for t in paginate(ec2, "describe_route_tables", "RouteTables")
            ]
            nats = [
                NatGateway(arn("natgateway", n["NatGatewayId"]), acct, region, n["NatGatewayId"],
                           n.get("VpcId", ""), n.get("SubnetId", ""), n.get("State", "unknown"),
                           n.get("ConnectivityType", "public"))
                for n in paginate(ec2, "describe_nat_gateways", "NatGateways")
            ]
            igws = [
                InternetGateway(arn("internet-gateway", g["InternetGatewayId"]), acct, region,
                                g["InternetGatewayId"],
                                tuple(a["VpcId"] for a in g.get("Attachments", [])
                                      if a.get("State", "available") in ("available", "attached")))
                for g in paginate(ec2, "describe_internet_gateways", "InternetGateways")
            ]
    if ctx.wants("ec2.vpc_endpoints"):
        with ctx.loading("ec2.vpc_endpoints", "ec2", "DescribeVpcEndpoints"):
            endpoints = [
                VpcEndpoint(arn("vpc-endpoint", e["VpcEndpointId"]), acct, region,
                            e["VpcEndpointId"], e.get("VpcId", ""), e.get("ServiceName", ""),
                            e.get("VpcEndpointType", "Gateway"), e.get("State", "unknown"),
                            tuple(e.get("SubnetIds", [])), tuple(e.get("RouteTableIds", [])),
                            bool(e.get("PrivateDnsEnabled")))
                for e in paginate(ec2, "describe_vpc_endpoints", "VpcEndpoints")
            ]
    if ctx.wants("ec2.security_groups"):
        with ctx.loading("ec2.security_groups", "ec2", "DescribeSecurityGroups"):
            groups = [
                SecurityGroup(arn("security-group", g["GroupId"]), acct, region, g["GroupId"],
                              g.get("VpcId", ""), g.get("GroupName", ""),
                              tuple(_rule(r) for r in g.get("IpPermissions", [])),
                              tuple(_rule(r) for r in g.get("IpPermissionsEgress", [])))
                for g in paginate(ec2, "describe_security_groups", "SecurityGroups")
            ]
    return Inventory(vpcs=tuple(vpcs), subnets=tuple(subnets), route_tables=tuple(tables),
                     nat_gateways=tuple(nats), internet_gateways=tuple(igws),
                     vpc_endpoints=tuple(endpoints), security_groups=tuple(groups))


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
