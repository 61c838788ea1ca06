"""Network checks: where workloads run, and whether they can reach what they need from there.

Three kinds of workload run in VPC subnets: ECS services (awsvpc), Lambda functions attached to
a VPC and EKS managed node groups. The checks here judge all three the same way, through
`placements`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param, listing
from auditor.cost.model import Change, cross_az_line, nat_gateway_line
from auditor.cost.usage import Window, per_month
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery, Series, nat_query
from auditor.model import (
    Inventory,
    NatGateway,
    RouteTable,
    Scope,
    Subnet,
)
from auditor.network import (
    Placement,
    endpoints_available,
    internet_route,
    missing_endpoints,
    placements,
    subnet_egress,
    workload_needs,
)
from auditor.params import COUNT, HOURS_OF_DATA, at_least

WORKLOAD_KINDS = ("ecs-service", "lambda-function", "eks-nodegroup")
_LISTINGS = {"ecs-service": "ecs.services", "lambda-function": "lambda.functions",
             "eks-nodegroup": "eks.nodegroups"}


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
            missing = missing_endpoints(needs, available)
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
        "min_azs": Param(2, "flag when the subnets span fewer Availability Zones than this",
                         at_least(1)),
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


# --------------------------------------------------------------------------- NAT gateways

GB = 1e9
"""Bytes in a GB as AWS bills data: decimal."""


def _live_nat_gateways(inventory: Inventory) -> list[NatGateway]:
    """The NAT gateways that are billed: available ones (pending, failed and deleted ones
    are not)."""
    return [nat for nat in inventory.nat_gateways if nat.state == "available"]


def _tables_routing_to(inventory: Inventory, nat: NatGateway) -> list[RouteTable]:
    """The route tables of the gateway's VPC with a route to it."""
    return [table for table in inventory.route_tables
            if table.scope == nat.scope and table.vpc_id == nat.vpc_id
            and any(r.target_type == "nat" and r.target_id == nat.nat_gateway_id
                    for r in table.routes)]


class IdleNatGateway(Check):
    id = "network.idle_nat_gateway"
    title = "NAT gateway that carries no traffic"
    severity = Severity.MEDIUM
    category = Category.COST
    rationale = (
        "A NAT gateway is billed for every hour it exists ($32.85 a month in us-east-1) before "
        "it processes a byte. One that sent next to nothing to its destinations "
        "(BytesOutToDestination) over the whole lookback serves nobody: left over from a "
        "migration, a second gateway in the same zone, or kept for subnets that moved to VPC "
        "endpoints. NAT gateways report their metrics every minute, so one with fewer hourly "
        "datapoints than the threshold is too new to judge; its saving is its hours."
    )
    remediation = (
        "Check that no route table still sends traffic to it (the evidence lists those that "
        "do: traffic there would have no way out once it is gone) and that nothing in its VPC "
        "needs it, then delete it and release its Elastic IP address."
    )
    requires = frozenset({"ec2.network", "cloudwatch.metrics"})
    subject_kinds = ("nat-gateway",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_gb": Param(1.0, "flag when the gateway sent at most this many GB to its "
                             "destinations over the lookback", COUNT),
        "min_hours_of_data": Param(72, "hourly datapoints needed before a gateway is called "
                                       "idle", HOURS_OF_DATA),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        return [nat_query(nat, "BytesOutToDestination") for nat in _live_nat_gateways(inventory)]

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        max_gb, min_hours = ctx.number("max_gb"), ctx.number("min_hours_of_data")
        for nat in _live_nat_gateways(inventory):
            series = ctx.metrics.get(nat_query(nat, "BytesOutToDestination"))
            if series is None or len(series) < min_hours:
                continue
            sent = series.total()
            if sent / GB > max_gb:
                continue
            book = ctx.prices.in_region(nat.region)
            change = Change((nat_gateway_line(book),))
            routed = [t.route_table_id for t in _tables_routing_to(inventory, nat)]
            still = (f"; route table(s) {listing(routed)} still send traffic to it" if routed
                     else "; no route table sends traffic to it")
            yield self.finding(
                nat,
                f"NAT gateway {nat.nat_gateway_id} (VPC {nat.vpc_id}) sent "
                f"{sent / GB:,.3g} GB to its destinations in {len(series)} hours of the "
                f"{ctx.lookback_days}-day lookback (threshold {max_gb:g} GB){still}. It "
                f"costs ${change.monthly_usd:,.2f}/month for its hours alone.",
                {"nat_gateway_id": nat.nat_gateway_id, "vpc_id": nat.vpc_id,
                 "subnet_id": nat.subnet_id, "connectivity_type": nat.connectivity_type,
                 "bytes_out_to_destination": sent, "gb_out_to_destination": sent / GB,
                 "hourly_datapoints": len(series), "lookback_days": ctx.lookback_days,
                 "threshold_max_gb": max_gb, "min_hours_of_data": min_hours,
                 "route_tables_routing_to_it": routed, "cost": change.evidence(),
                 "prices": book.describe()},
                monthly_savings_usd=change.monthly_usd,
                savings_kind="idle",
            )


def _nat_route(inventory: Inventory, subnet: Subnet) -> tuple[RouteTable, NatGateway] | None:
    """The subnet's effective route table and the available NAT gateway its 0.0.0.0/0 route
    sends traffic to, if it does."""
    table = inventory.route_table_for(subnet)
    route = table.default_route() if table else None
    if table is None or route is None or route.target_type != "nat" or route.state != "active":
        return None
    nat = inventory.nat_gateway(subnet.scope, route.target_id)
    return (table, nat) if nat is not None and nat.state == "available" else None


@dataclass(frozen=True)
class _CrossAz:
    """A workload subnet whose way out is a NAT gateway in another zone."""

    subnet: Subnet
    table: RouteTable
    nat: NatGateway
    nat_zone: str
    workloads: tuple[str, ...]


_SOURCE_BYTES = ("BytesInFromSource", "BytesOutToSource")
"""What crosses between the subnet and the gateway: requests in, answers back."""


class CrossAzNat(Check):
    id = "network.cross_az_nat"
    title = "Workload subnet routed to a NAT gateway in another Availability Zone"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "A subnet whose 0.0.0.0/0 route goes to a NAT gateway in another Availability Zone "
        "loses its way out when that zone fails, though its own zone is up: the tasks, "
        "functions and nodes spread across zones for resilience all depend on the one zone "
        "the gateway is in. Every byte between them also crosses zones, billed as data "
        "transfer. The gateway's bytes from and back to its subnets (BytesInFromSource, "
        "BytesOutToSource) are taken as spread evenly over the subnets routed to it; the fix "
        "adds a NAT gateway's hours unless the zone has one already, and the saving is what "
        "is left, if anything (the NAT per-GB charge is the same on either gateway)."
    )
    remediation = (
        "Give the subnet's zone a NAT gateway of its own (in a public subnet there), or use "
        "the one it has, and point a route table of that zone's subnets at it: one route "
        "table per zone, each to its own zone's gateway."
    )
    requires = frozenset({"ec2.network", "ecs.services", "lambda.functions", "eks.nodegroups",
                          "cloudwatch.metrics"})
    subject_kinds = ("subnet",)

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        for found in _cross_az(inventory):
            for metric in _SOURCE_BYTES:
                # The dollars rest on them: unread, the subnet's verdict is unknown.
                yield nat_query(found.nat, metric).about(found.subnet.arn)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for found in _cross_az(inventory):
            series = [ctx.metrics.get(nat_query(found.nat, m).about(found.subnet.arn))
                      for m in _SOURCE_BYTES]
            known = [one for one in series if one is not None]
            if len(known) == len(series):
                yield self._finding(inventory, found, known, ctx)

    def _finding(self, inventory: Inventory, found: _CrossAz, series: list[Series],
                 ctx: CheckContext) -> Finding:
        subnet, nat, zone = found.subnet, found.nat, found.subnet.availability_zone
        book = ctx.prices.in_region(subnet.region)
        routed = _routed_to(inventory, nat)
        moved, observed = per_month(Window(ctx.lookback_days, ctx.metrics), series)
        transfer = cross_az_line(
            book, moved / GB, f"{' + '.join(_SOURCE_BYTES)}, {observed.describe()}",
            share=len(routed),
            share_basis=f"the {len(routed)} subnets routed to {nat.nat_gateway_id}")
        local = _gateway_in_zone(inventory, nat, zone)
        same_zone = [s for s in routed if s.availability_zone == zone]
        added = () if local else (nat_gateway_line(
            book, name="new_nat_gateway", share=len(same_zone),
            basis=f"one gateway in {zone} for the {len(same_zone)} subnet(s) there"),)
        change = Change((transfer,), added)
        saving = change.monthly_usd if change.monthly_usd > 0 else None
        return self.finding(
            subnet,
            f"Subnet {subnet.subnet_id} ({zone}), where {listing(found.workloads)} run, "
            f"sends 0.0.0.0/0 to NAT gateway {nat.nat_gateway_id} in {found.nat_zone}: an "
            f"outage of {found.nat_zone} cuts its way out, and its traffic crosses zones "
            f"(about ${transfer.usd:,.2f}/month); {_fix(zone, local, change)}.",
            {"subnet_id": subnet.subnet_id, "availability_zone": zone, "vpc_id": subnet.vpc_id,
             "route_table": found.table.route_table_id, "nat_gateway_id": nat.nat_gateway_id,
             "nat_availability_zone": found.nat_zone, "workloads": list(found.workloads),
             "subnets_routed_to_nat": [s.subnet_id for s in routed],
             "nat_gateway_in_zone": local.nat_gateway_id if local else None,
             **{metric: one.total() for metric, one in zip(_SOURCE_BYTES, series, strict=True)},
             "lookback_days": ctx.lookback_days,
             "threshold": "a workload subnet's NAT gateway in the subnet's own zone",
             "cost": change.evidence(), "prices": book.describe()},
            monthly_savings_usd=saving,
            savings_kind="data_transfer",
        )


def _fix(zone: str, local: NatGateway | None, change: Change) -> str:
    """What moving the subnet's traffic to a gateway in its own zone saves, in words."""
    if local is not None:
        return f"routing it to {local.nat_gateway_id}, already in {zone}, saves that"
    if change.monthly_usd > 0:
        return f"a NAT gateway in {zone} would save ${change.monthly_usd:,.2f}/month net"
    return (f"a NAT gateway in {zone} would cost ${-change.monthly_usd:,.2f}/month more than "
            "that: the reason to add one is the zone's failure")


def _gateway_in_zone(inventory: Inventory, nat: NatGateway, zone: str) -> NatGateway | None:
    """Another available NAT gateway of the same VPC, in `zone`."""
    return next((other for other in _live_nat_gateways(inventory)
                 if other.scope == nat.scope and other.vpc_id == nat.vpc_id
                 and other != nat and _zone(inventory, other) == zone), None)


def _zone(inventory: Inventory, nat: NatGateway) -> str | None:
    subnet = inventory.subnet(nat.scope, nat.subnet_id)
    return subnet.availability_zone if subnet else None


def _routed_to(inventory: Inventory, nat: NatGateway) -> list[Subnet]:
    """Every subnet of the gateway's VPC whose way out it is (workloads' or not)."""
    return [s for s in inventory.subnets if s.scope == nat.scope and s.vpc_id == nat.vpc_id
            and (found := _nat_route(inventory, s)) is not None and found[1] == nat]


def _cross_az(inventory: Inventory) -> list[_CrossAz]:
    """Workload subnets routed to a NAT gateway whose subnet is in another zone. A subnet
    or gateway subnet not read is not judged: its zone is not known."""
    users: dict[tuple[Scope, str], list[str]] = {}
    for placement in placements(inventory):
        for subnet_id in placement.subnet_ids:
            users.setdefault((placement.workload.scope, subnet_id), []).append(placement.label)
    found = []
    for (scope, subnet_id), labels in users.items():
        subnet = inventory.subnet(scope, subnet_id)
        route = _nat_route(inventory, subnet) if subnet else None
        if subnet is None or route is None:
            continue
        nat_zone = _zone(inventory, route[1])
        if nat_zone is not None and nat_zone != subnet.availability_zone:
            found.append(_CrossAz(subnet, route[0], route[1], nat_zone, tuple(labels)))
    return found
