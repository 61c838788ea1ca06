"""Impossible inventory is incomplete inventory.

Some things always hold on AWS: every VPC has a main route table, a subnet a workload runs in
exists, a task definition a service runs exists, a security group a function uses exists.
When the collected data breaks one, something was not read (a page lost, a record dropped, a
listing filtered by a permission boundary), so every verdict about the workloads concerned
that rests on that data is unknown: never a pass because the thing looked absent, never a
fail because the absence looked like a problem. Each break becomes an `errors` entry naming
the listing that should have returned the missing piece and the workloads it leaves unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from auditor.model import CollectionError, Inventory, Resource


@dataclass(frozen=True)
class _Break:
    dataset: str
    service: str
    operation: str
    workload: Resource
    message: str


def incomplete(inventory: Inventory, wanted: frozenset[str]) -> list[CollectionError]:
    """The errors entries for every invariant the inventory breaks, among the datasets that
    were collected and did not already fail."""
    found: list[CollectionError] = []
    for item in _breaks(inventory):
        if item.dataset not in wanted:
            continue
        scope = item.workload.scope
        if item.dataset in inventory.failed_datasets(scope) | inventory.failed_for(
                item.workload.arn):
            continue  # already known to be missing, and why
        found.append(CollectionError(
            scope.account, scope.region, item.service, item.operation, "IncompleteData",
            item.message, (item.dataset,), resources=(item.workload.arn,)))
    return found


def _workloads(inventory: Inventory) -> Iterator[tuple[Resource, str, tuple[str, ...]]]:
    for service in inventory.ecs_services:
        yield service, f"ECS service {service.name}", service.subnet_ids
    for function in inventory.lambda_functions:
        yield function, f"Lambda function {function.name}", function.subnet_ids
    for group in inventory.eks_nodegroups:
        yield group, f"EKS node group {group.cluster_name}/{group.name}", group.subnet_ids


def _breaks(inventory: Inventory) -> Iterator[_Break]:
    mains = {(t.account, t.region, t.vpc_id) for t in inventory.route_tables if t.is_main}
    associated = {(t.account, t.region, s) for t in inventory.route_tables for s in t.subnet_ids}
    for workload, label, subnet_ids in _workloads(inventory):
        for subnet_id in subnet_ids:
            subnet = inventory.subnet(workload.scope, subnet_id)
            if subnet is None:
                yield _Break("ec2.network", "ec2", "DescribeSubnets", workload,
                             f"{label} runs in subnet {subnet_id}, which DescribeSubnets did "
                             "not return: the subnets were not all read")
            elif ((subnet.account, subnet.region, subnet_id) not in associated
                  and (subnet.account, subnet.region, subnet.vpc_id) not in mains):
                yield _Break("ec2.network", "ec2", "DescribeRouteTables", workload,
                             f"{label} runs in subnet {subnet_id}, which has no route table "
                             f"associated, and VPC {subnet.vpc_id} shows no main route table, "
                             "which every VPC has: the route tables were not all read")
    for service in inventory.ecs_services:
        if service.task_definition_arn and inventory.task_definition(
                service.task_definition_arn) is None:
            yield _Break("ecs.task_definitions", "ecs", "DescribeTaskDefinition", service,
                         f"ECS service {service.name} runs task definition "
                         f"{service.task_definition_arn}, which was not read")
    for function in inventory.lambda_functions:
        for group_id in function.security_group_ids:
            if inventory.security_group(function.scope, group_id) is None:
                yield _Break("ec2.security_groups", "ec2", "DescribeSecurityGroups", function,
                             f"Lambda function {function.name} uses security group {group_id}, "
                             "which DescribeSecurityGroups did not return")
