"""Network checks: can a workload reach what it needs from the subnets it runs in?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from auditor.check import Check, CheckContext
from auditor.findings import Category, Finding, Severity
from auditor.model import EcsService, Inventory, Route, Scope, Subnet

INTERNET = "internet"
"""A need no VPC endpoint can serve (an image from a public registry)."""


@dataclass(frozen=True)
class Egress:
    """What a subnet's effective route table does with traffic to 0.0.0.0/0."""

    works: bool
    unverified: bool
    detail: str


def subnet_egress(inv: Inventory, subnet: Subnet, public_ip: bool) -> Egress:
    table = inv.route_table_for(subnet)
    if table is None:
        return Egress(False, False, "no route table is associated and the VPC has no main table")
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
            return Egress(True, False, f"{where} routes 0.0.0.0/0 to {target} and tasks get a "
                                       "public IP")
        return Egress(False, False, f"{where} routes 0.0.0.0/0 to internet gateway {target}, "
                                    "but tasks get no public IP, so they cannot use it")
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
        nat_table = inv.route_table_for(nat_subnet) if nat_subnet else None
        nat_route = nat_table.default_route() if nat_table else None
        if nat_route is None or nat_route.target_type != "igw" or nat_route.state != "active":
            return Egress(False, False, f"NAT gateway {target} sits in {nat.subnet_id}, which "
                                        "has no route to an internet gateway")
        return Egress(True, False, f"{where} routes 0.0.0.0/0 to available NAT gateway {target}")
    if route.target_type in ("tgw", "vgw", "pcx", "eni", "instance"):
        return Egress(False, True, f"{where} routes 0.0.0.0/0 to {route.target_type} {target}; "
                                   "the path beyond it cannot be verified from this account")
    return Egress(False, False, f"{where} routes 0.0.0.0/0 to {target or 'an unknown target'}, "
                                "which does not reach the internet")


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


class PrivateSubnetNoEgress(Check):
    id = "network.private_subnet_no_egress"
    title = "Workload in a subnet with no path to what it needs"
    severity = Severity.HIGH
    category = Category.NETWORK
    rationale = (
        "Tasks in a private subnet reach ECR, CloudWatch Logs and Secrets Manager through a NAT "
        "gateway or VPC endpoints. With neither, tasks fail to start (CannotPullContainerError, "
        "ResourceInitializationError) and the service never reaches its desired count."
    )
    remediation = (
        "Route 0.0.0.0/0 from the subnet's route table to an available NAT gateway in a public "
        "subnet, or create the missing VPC endpoints (interface endpoints with private DNS; the "
        "S3 gateway endpoint on this route table)."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions", "ec2.network",
                          "ec2.vpc_endpoints"})
    subject_kinds = ("ecs-service",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for service in inventory.ecs_services:
            if not service.subnet_ids:
                continue
            needs = service_needs(inventory, service)
            if needs is None:
                continue
            finding = self._judge(inventory, service, needs)
            if finding is not None:
                yield finding

    def _judge(self, inv: Inventory, service: EcsService, needs: Mapping[str, str]
               ) -> Finding | None:
        broken: list[dict[str, Any]] = []
        unverified: list[dict[str, Any]] = []
        for subnet_id in service.subnet_ids:
            subnet = inv.subnet(service.scope, subnet_id)
            if subnet is None:
                continue
            egress = subnet_egress(inv, subnet, service.assign_public_ip)
            if egress.works:
                continue
            available = endpoints_available(inv, subnet)
            missing = sorted(need for need in needs if need not in available)
            if not missing:
                continue
            entry = {"subnet_id": subnet_id, "availability_zone": subnet.availability_zone,
                     "egress": egress.detail, "endpoints_available": sorted(available),
                     "missing": missing}
            (unverified if egress.unverified else broken).append(entry)
        if not broken and not unverified:
            return None
        evidence = {"cluster": service.cluster_name, "task_definition":
                    service.task_definition_arn, "needs": dict(needs),
                    "subnets": broken + unverified}
        first = (broken or unverified)[0]
        missing_text = ", ".join(first["missing"])
        if broken:
            return self.finding(
                service,
                f"ECS service {service.name} runs in {len(broken)} of {len(service.subnet_ids)} "
                f"subnets with no way out ({first['subnet_id']}: {first['egress']}) and no VPC "
                f"endpoint for {missing_text}: its tasks cannot start there.",
                evidence,
            )
        finding = self.finding(
            service,
            f"ECS service {service.name}: {first['egress']}; no VPC endpoint for {missing_text}, "
            "so whether tasks can start depends on that path.",
            evidence,
        )
        return _as_unverified(finding)


def _as_unverified(finding: Finding) -> Finding:
    return replace(finding, status="unknown", evidence={**finding.evidence, "unverified": True})
