"""network.private_subnet_no_egress: effective route table, NAT health, endpoints needed."""

from __future__ import annotations

import pytest

from auditor.model import Inventory
from checks.network import PrivateSubnetNoEgress
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
