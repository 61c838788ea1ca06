"""Impossible inventory is incomplete inventory: data that breaks an AWS invariant leaves the
workloads concerned unknown, named in `errors`, never failed and never passed."""

from __future__ import annotations

from dataclasses import replace

from auditor.collect.invariants import incomplete
from auditor.datasets import DATASETS
from auditor.engine import run_checks
from auditor.metrics import MetricStore
from auditor.model import Inventory, Scope
from auditor.pricing.book import PriceBook
from checks.network import PrivateSubnetNoEgress, SingleAz
from tests import factories as f

SCOPE = Scope(f.ACCOUNT, f.REGION)
WANTED = frozenset(DATASETS)


def judged(inventory: Inventory) -> dict[tuple[str, str], str]:
    inventory = replace(inventory, errors=tuple(incomplete(inventory, WANTED)))
    found = run_checks([PrivateSubnetNoEgress(), SingleAz()], inventory, MetricStore(), f.NOW,
                       14, PriceBook()).findings
    return {(x.check_id, x.resource_arn): x.status for x in found}


def test_a_vpc_with_no_main_route_table_leaves_its_workloads_unknown_not_failed() -> None:
    """Recorded case: the route tables were not all read, and the egress check raised a high
    FAIL "no route table is associated and the VPC has no main table"."""
    td = f.task_definition()
    service = f.service("orders", td)
    inventory = Inventory(scopes=(SCOPE,), subnets=(f.subnet("subnet-1"),),
                          task_definitions=(td,), ecs_services=(service,))
    [error] = incomplete(inventory, WANTED)
    assert (error.operation, error.code, error.resources) == (
        "DescribeRouteTables", "IncompleteData", (service.arn,))
    assert "every VPC has" in error.message
    assert judged(inventory)[("network.private_subnet_no_egress", service.arn)] == "unknown"


def test_a_subnet_or_task_definition_a_workload_names_but_that_was_not_read() -> None:
    td = f.task_definition()
    service = f.service("orders", td, subnets=("subnet-1", "subnet-2"))
    table = f.route_table("rtb-main", [f.route("10.0.0.0/16", "local", "local")], [])
    inventory = Inventory(scopes=(SCOPE,), subnets=(f.subnet("subnet-1"),),
                          route_tables=(replace(table, is_main=True),), ecs_services=(service,))
    errors = incomplete(inventory, WANTED)
    assert {(e.operation, e.datasets) for e in errors} == {
        ("DescribeSubnets", ("ec2.network",)),
        ("DescribeTaskDefinition", ("ecs.task_definitions",))}
    verdicts = judged(inventory)
    # One zone seen, one subnet unseen: single-AZ cannot be told either.
    assert verdicts == {("network.private_subnet_no_egress", service.arn): "unknown",
                        ("network.single_az", service.arn): "unknown"}


def test_a_complete_inventory_breaks_nothing_and_data_not_collected_is_not_judged() -> None:
    td = f.task_definition()
    service = f.service("orders", td)
    table = f.route_table("rtb-1", [f.route("10.0.0.0/16", "local", "local")], ["subnet-1"])
    complete = Inventory(scopes=(SCOPE,), subnets=(f.subnet("subnet-1"),), route_tables=(table,),
                         task_definitions=(td,), ecs_services=(service,))
    assert incomplete(complete, WANTED) == []
    assert incomplete(replace(complete, task_definitions=()),
                      WANTED - {"ecs.task_definitions"}) == []
