"""network.private_subnet_no_egress (effective route table, NAT health, endpoints needed by
ECS services, Lambda functions and EKS node groups), network.single_az and
ecs.public_ip_assigned."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from auditor.engine import run_checks
from auditor.findings import Finding
from auditor.metrics import MetricStore
from auditor.model import CollectionError, Inventory, Scope, VpcEndpoint
from auditor.pricing.book import PriceBook
from checks.network import PrivateSubnetNoEgress, PublicIpAssigned, SingleAz
from tests import factories as f

SERVICE_NEEDS = ("ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager")


def run(**inventory: object) -> list:  # type: ignore[type-arg]
    check = PrivateSubnetNoEgress()
    return list(check.evaluate(Inventory(**inventory), f.context(check)))  # type: ignore[arg-type]


def private_setup(routes: list, endpoints: tuple = (), nats: tuple = (), public_ip: bool = False,
                  containers: tuple | None = None) -> dict:  # type: ignore[type-arg]
    td = f.task_definition(containers=containers or (f.container(secrets=("db",)),))
    return {
        "subnets": (f.subnet("subnet-1"), f.subnet("subnet-pub")),
        "route_tables": (
            f.route_table("rtb-priv", routes, ["subnet-1"]),
            f.route_table("rtb-pub", [f.route("0.0.0.0/0", "igw", "igw-1")], ["subnet-pub"]),
        ),
        "nat_gateways": nats,
        "vpc_endpoints": endpoints,
        "task_definitions": (td,),
        "ecs_services": (f.service("orders", td, public_ip=public_ip),),
    }


@pytest.mark.fires("network.private_subnet_no_egress")
def test_isolated_subnet_without_endpoints_fails_with_evidence() -> None:
    [finding] = run(**private_setup([]))
    assert finding.status == "fail"
    assert finding.resource_type == "ecs-service"
    subnet = finding.evidence["subnets"][0]
    assert subnet["subnet_id"] == "subnet-1"
    assert "no 0.0.0.0/0 route" in subnet["egress"]
    assert subnet["missing"] == sorted(SERVICE_NEEDS)
    assert "orders" in finding.message and "ecr.api" in finding.message


@pytest.mark.quiet("network.private_subnet_no_egress")
def test_available_nat_in_public_subnet_is_a_working_path() -> None:
    assert run(**private_setup([f.route("0.0.0.0/0", "nat", "nat-1")],
                               nats=(f.nat("nat-1", "subnet-pub"),))) == []


@pytest.mark.fires("network.private_subnet_no_egress")
def test_failed_nat_gateway_is_no_path() -> None:
    [finding] = run(**private_setup([f.route("0.0.0.0/0", "nat", "nat-1")],
                                    nats=(f.nat("nat-1", "subnet-pub", state="failed"),)))
    assert "which is failed" in finding.evidence["subnets"][0]["egress"]


def test_nat_whose_own_subnet_has_no_internet_gateway_is_no_path() -> None:
    setup = private_setup([f.route("0.0.0.0/0", "nat", "nat-1")],
                          nats=(f.nat("nat-1", "subnet-1"),))
    [finding] = run(**setup)
    assert "no route to an internet gateway" in finding.evidence["subnets"][0]["egress"]


@pytest.mark.quiet("network.private_subnet_no_egress")
def test_all_needed_endpoints_make_a_private_subnet_fine() -> None:
    endpoints = tuple(f.endpoint(s) for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"))
    endpoints += (f.endpoint("s3", kind="Gateway", route_tables=("rtb-priv",)),)
    assert run(**private_setup([], endpoints=endpoints)) == []


def test_s3_gateway_endpoint_on_another_route_table_does_not_count() -> None:
    endpoints = tuple(f.endpoint(s) for s in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"))
    endpoints += (f.endpoint("s3", kind="Gateway", route_tables=("rtb-other",)),)
    [finding] = run(**private_setup([], endpoints=endpoints))
    assert finding.evidence["subnets"][0]["missing"] == ["s3"]


def test_interface_endpoint_without_private_dns_does_not_count() -> None:
    endpoints = (f.endpoint("ecr.api", private_dns=False),)
    [finding] = run(**private_setup([], endpoints=endpoints))
    assert "ecr.api" in finding.evidence["subnets"][0]["missing"]


def test_main_route_table_applies_when_subnet_has_no_explicit_association() -> None:
    setup = private_setup([])
    setup["route_tables"] = (
        f.route_table("rtb-main", [f.route("0.0.0.0/0", "nat", "nat-1")], [], main=True),
        f.route_table("rtb-pub", [f.route("0.0.0.0/0", "igw", "igw-1")], ["subnet-pub"]),
    )
    setup["nat_gateways"] = (f.nat("nat-1", "subnet-pub"),)
    assert run(**setup) == []


def test_internet_gateway_without_public_ip_is_no_path_but_with_one_is() -> None:
    igw = [f.route("0.0.0.0/0", "igw", "igw-1")]
    [finding] = run(**private_setup(igw, public_ip=False))
    assert "no public IP" in finding.evidence["subnets"][0]["egress"]
    assert run(**private_setup(igw, public_ip=True)) == []


def test_transit_gateway_is_reported_unverified_not_broken() -> None:
    [finding] = run(**private_setup([f.route("0.0.0.0/0", "tgw", "tgw-1")]))
    assert finding.status == "unknown"
    assert finding.evidence["unverified"] is True


def test_public_registry_image_cannot_be_served_by_endpoints() -> None:
    containers = (f.container(image="nginx:1.27", log_driver=None),)
    endpoints = tuple(f.endpoint(s) for s in ("ecr.api", "ecr.dkr", "logs"))
    [finding] = run(**private_setup([], endpoints=endpoints, containers=containers))
    assert finding.evidence["subnets"][0]["missing"] == ["internet"]


def test_blackhole_default_route_is_no_path() -> None:
    [finding] = run(**private_setup([f.route("0.0.0.0/0", "nat", "nat-gone", state="blackhole")]))
    assert "blackhole" in finding.evidence["subnets"][0]["egress"]


# --------------------------------------------------------------------------- Lambda, node groups


def lambda_in(subnets: tuple[str, ...], endpoints: tuple[VpcEndpoint, ...] = ()
              ) -> dict[str, Any]:
    setup = private_setup([], endpoints=endpoints)
    del setup["ecs_services"], setup["task_definitions"]
    setup["lambda_functions"] = (f.function("sync", "arn:aws:iam::123456789012:role/r",
                                            subnets=subnets),)
    return setup


@pytest.mark.fires("network.private_subnet_no_egress")
def test_lambda_in_a_vpc_with_no_way_out_and_no_endpoint_fails() -> None:
    [finding] = run(**lambda_in(("subnet-1",)))
    assert finding.resource_type == "lambda-function"
    assert finding.evidence["subnets"][0]["missing"] == ["any AWS service"]
    assert "Lambda function sync" in finding.message
    assert "cannot reach AWS services" in finding.message


@pytest.mark.quiet("network.private_subnet_no_egress")
def test_lambda_with_any_usable_endpoint_is_not_judged_further() -> None:
    # Which services its code calls cannot be seen: one endpoint is taken as the one it uses.
    assert run(**lambda_in(("subnet-1",), endpoints=(f.endpoint("dynamodb"),))) == []


def test_lambda_in_a_public_subnet_gets_no_public_ip_so_has_no_way_out() -> None:
    [finding] = run(**lambda_in(("subnet-pub",)))
    assert "no public IP" in finding.evidence["subnets"][0]["egress"]


def nodegroup_in(private_endpoint: bool, endpoints: tuple[VpcEndpoint, ...] = ()
                 ) -> dict[str, Any]:
    setup = private_setup([], endpoints=endpoints)
    del setup["ecs_services"], setup["task_definitions"]
    setup["eks_clusters"] = (f.eks_cluster(private_endpoint=private_endpoint),)
    setup["eks_nodegroups"] = (f.nodegroup(),)
    return setup


NODE_ENDPOINTS = ("ec2", "ecr.api", "ecr.dkr", "sts")


@pytest.mark.fires("network.private_subnet_no_egress")
def test_isolated_node_group_lists_what_nodes_need() -> None:
    [finding] = run(**nodegroup_in(private_endpoint=True))
    assert finding.resource_type == "eks-nodegroup"
    assert finding.evidence["subnets"][0]["missing"] == sorted((*NODE_ENDPOINTS, "s3"))
    assert finding.evidence["cluster"] == "platform"


def test_node_group_of_a_public_only_cluster_needs_the_internet_whatever_the_endpoints() -> None:
    endpoints = tuple(f.endpoint(s) for s in NODE_ENDPOINTS)
    endpoints += (f.endpoint("s3", kind="Gateway", route_tables=("rtb-priv",)),)
    assert run(**nodegroup_in(private_endpoint=True, endpoints=endpoints)) == []
    [finding] = run(**nodegroup_in(private_endpoint=False, endpoints=endpoints))
    assert finding.evidence["subnets"][0]["missing"] == ["internet"]
    assert "public only" in finding.evidence["needs"]["internet"]


def test_node_group_in_a_public_subnet_uses_the_subnets_public_ip_setting() -> None:
    setup = nodegroup_in(private_endpoint=True)
    setup["eks_nodegroups"] = (f.nodegroup(subnets=("subnet-pub",)),)
    [finding] = run(**setup)
    assert "no public IP" in finding.evidence["subnets"][0]["egress"]
    setup["subnets"] = (replace(f.subnet("subnet-pub"), map_public_ip_on_launch=True),)
    assert run(**setup) == []


def test_a_failed_lambda_listing_leaves_ecs_verdicts_standing() -> None:
    failure = CollectionError(f.ACCOUNT, f.REGION, "lambda", "ListFunctions",
                              "AccessDeniedException", "denied", ("lambda.functions",))
    inventory = Inventory(**private_setup([]), scopes=(Scope(f.ACCOUNT, f.REGION),),
                          errors=(failure,))
    findings = run_checks([PrivateSubnetNoEgress()], inventory, MetricStore(), f.NOW, 14,
                          PriceBook()).findings
    assert {(x.resource_type, x.status) for x in findings} == {
        ("ecs-service", "fail"), ("lambda-function", "unknown")}


# --------------------------------------------------------------------------- network.single_az


def run_az(**inventory: object) -> list[Finding]:
    check = SingleAz()
    return list(check.evaluate(Inventory(**inventory), f.context(check)))  # type: ignore[arg-type]


TWO_ZONES = (f.subnet("subnet-1", az="us-east-1a"), f.subnet("subnet-2", az="us-east-1b"),
             f.subnet("subnet-3", az="us-east-1a"))


@pytest.mark.fires("network.single_az")
def test_service_whose_subnets_share_one_zone_fails() -> None:
    svc = f.service("orders", f.task_definition(), subnets=("subnet-1", "subnet-3"))
    [finding] = run_az(subnets=TWO_ZONES, ecs_services=(svc,))
    assert finding.evidence["availability_zones"] == ["us-east-1a"]
    assert finding.evidence["threshold_min_azs"] == 2
    assert "2 subnet(s), all in us-east-1a" in finding.message


@pytest.mark.quiet("network.single_az")
def test_two_zones_pass() -> None:
    svc = f.service("orders", f.task_definition(), subnets=("subnet-1", "subnet-2"))
    assert run_az(subnets=TWO_ZONES, ecs_services=(svc,)) == []


def test_functions_and_node_groups_are_judged_too_and_the_threshold_is_configurable() -> None:
    fn = f.function("sync", "arn:aws:iam::123456789012:role/r", subnets=("subnet-1",))
    group = f.nodegroup(subnets=("subnet-1", "subnet-2"))
    [finding] = run_az(subnets=TWO_ZONES, lambda_functions=(fn,), eks_nodegroups=(group,))
    assert finding.resource_arn == fn.arn
    check = SingleAz({"min_azs": 3})
    found = list(check.evaluate(Inventory(subnets=TWO_ZONES, eks_nodegroups=(group,)),
                                f.context(check)))
    assert [x.resource_type for x in found] == ["eks-nodegroup"]


def test_a_subnet_not_seen_is_not_judged() -> None:
    svc = f.service("orders", f.task_definition(), subnets=("subnet-1", "subnet-elsewhere"))
    assert run_az(subnets=TWO_ZONES, ecs_services=(svc,)) == []


# --------------------------------------------------------------------------- ecs.public_ip_assigned


def run_public(public_ip: bool, subnets: tuple[str, ...]) -> list[Finding]:
    setup = private_setup([f.route("0.0.0.0/0", "nat", "nat-1")],
                          nats=(f.nat("nat-1", "subnet-pub"),))
    td = setup["task_definitions"][0]
    setup["ecs_services"] = (f.service("admin", td, subnets=subnets, public_ip=public_ip),)
    check = PublicIpAssigned()
    return list(check.evaluate(Inventory(**setup), f.context(check)))


@pytest.mark.fires("ecs.public_ip_assigned")
def test_public_ip_in_a_subnet_routed_to_an_internet_gateway_fails() -> None:
    [finding] = run_public(True, ("subnet-pub", "subnet-1"))
    assert finding.evidence["public_subnets"] == [
        {"subnet_id": "subnet-pub", "route_table": "rtb-pub", "internet_gateway": "igw-1"}]
    assert "1 of 2 subnets" in finding.message and "sg-1" in finding.message


@pytest.mark.quiet("ecs.public_ip_assigned")
def test_no_public_ip_or_only_private_subnets_pass() -> None:
    assert run_public(False, ("subnet-pub",)) == []
    assert run_public(True, ("subnet-1",)) == []
