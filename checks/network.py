"""Network checks: where workloads run, and whether they can reach what they need from there.

Three kinds of workload run in VPC subnets: ECS services (awsvpc), Lambda functions attached to
a VPC and EKS managed node groups. The checks here judge all three the same way, through
`placements`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param
from auditor.findings import Category, Finding, Severity
from auditor.model import (
    Inventory,
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
from auditor.params import at_least

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
