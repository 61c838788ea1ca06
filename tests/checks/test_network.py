"""network.private_subnet_no_egress (effective route table, NAT health, endpoints needed by
ECS services, Lambda functions and EKS node groups), network.single_az and
ecs.public_ip_assigned."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from auditor.engine import run_checks
from auditor.findings import Finding
from auditor.metrics import MetricStore, nat_query
from auditor.model import CollectionError, Inventory, NatGateway, Scope, VpcEndpoint
from auditor.pricing.book import PriceBook
from checks.network import (
    CrossAzNat,
    IdleNatGateway,
    PrivateSubnetNoEgress,
    PublicIpAssigned,
    SingleAz,
)
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


# --------------------------------------------------------------------------- idle NAT gateways


def idle_nat_run(values: list[float] | None, state: str = "available",
                 **params: object) -> list[Finding]:
    nat = f.nat("nat-1", "subnet-pub", state=state)
    check = IdleNatGateway(params)  # type: ignore[arg-type]
    series = {} if values is None else {nat_query(nat, "BytesOutToDestination"): f.hourly(values)}
    inventory = Inventory(
        nat_gateways=(nat,), subnets=(f.subnet("subnet-1"), f.subnet("subnet-pub")),
        route_tables=(f.route_table("rtb-priv", [f.route("0.0.0.0/0", "nat", "nat-1")],
                                    ["subnet-1"]),))
    return list(check.evaluate(inventory, f.context(check, series)))


@pytest.mark.fires("network.idle_nat_gateway")
def test_nat_gateway_that_sent_nothing_all_lookback_is_idle_and_its_hours_are_the_saving() -> None:
    [finding] = idle_nat_run([0.0] * 336)
    assert finding.resource_arn.endswith(":natgateway/nat-1")
    assert finding.savings_kind == "idle"
    # 730 h x $0.045: its hours, priced by the cost model.
    assert finding.monthly_savings_usd == 32.85
    assert finding.evidence["cost"]["arithmetic"] == {"nat_gateway": "730 h x $0.045/h"}
    assert finding.evidence["cost"]["total"] == "$32.85 = $32.85"
    assert finding.evidence["hourly_datapoints"] == 336
    assert finding.evidence["threshold_max_gb"] == 1.0
    assert finding.evidence["route_tables_routing_to_it"] == ["rtb-priv"]
    assert "rtb-priv still send traffic to it" in finding.message


@pytest.mark.quiet("network.idle_nat_gateway")
def test_nat_gateway_with_traffic_is_not_idle() -> None:
    # 0.01 GB an hour: 3.36 GB over the lookback, above the 1 GB threshold.
    assert idle_nat_run([1e7] * 336) == []
    assert len(idle_nat_run([1e7] * 336, max_gb=5)) == 1


@pytest.mark.quiet("network.idle_nat_gateway")
def test_nat_gateway_too_new_unread_or_not_available_is_not_judged() -> None:
    assert idle_nat_run([0.0] * 48) == []  # two days of datapoints: under 72 hours
    assert idle_nat_run(None) == []  # not fetched: the engine reports it unknown
    assert idle_nat_run([0.0] * 336, state="deleting") == []


def test_failed_nat_metrics_leave_the_idle_verdict_unknown() -> None:
    nat = f.nat("nat-1", "subnet-pub")
    query = nat_query(nat, "BytesOutToDestination")
    metrics = MetricStore({}, failed={query: "Throttling"})
    run_ = run_checks([IdleNatGateway()], Inventory(nat_gateways=(nat,)), metrics, f.NOW, 14,
                      PriceBook())
    [finding] = run_.findings
    assert finding.status == "unknown" and finding.resource_arn == nat.arn


# --------------------------------------------------------------------------- cross-zone NAT


def cross_az_inventory(nats: tuple[NatGateway, ...] = (), **extra: object) -> Inventory:
    """One NAT gateway in us-east-1a for private subnets in us-east-1a and us-east-1b, where
    an ECS service runs."""
    td = f.task_definition()
    return Inventory(**{
        "subnets": (f.subnet("pub-a"), f.subnet("pub-b", az="us-east-1b"), f.subnet("priv-a"),
                    f.subnet("priv-b", az="us-east-1b"), f.subnet("spare-b", az="us-east-1b")),
        "route_tables": (
            f.route_table("rtb-pub", [f.route("0.0.0.0/0", "igw", "igw-1")], ["pub-a", "pub-b"]),
            f.route_table("rtb-priv", [f.route("0.0.0.0/0", "nat", "nat-a")],
                          ["priv-a", "priv-b"])),
        "nat_gateways": (f.nat("nat-a", "pub-a"), *nats),
        "task_definitions": (td,),
        "ecs_services": (f.service("orders", td, subnets=("priv-a", "priv-b")),),
        **extra})  # type: ignore[arg-type]


def cross_az_run(inventory: Inventory, per_hour: tuple[float, float] | None = (3e9, 12e9)
                 ) -> list[Finding]:
    check = CrossAzNat()
    series = {}
    nat = f.nat("nat-a", "pub-a")
    if per_hour is not None:
        for metric, value in zip(("BytesInFromSource", "BytesOutToSource"), per_hour,
                                 strict=True):
            series[nat_query(nat, metric)] = f.hourly([value] * 336)
    return list(check.evaluate(inventory, f.context(check, series)))


@pytest.mark.fires("network.cross_az_nat")
def test_workload_subnet_routed_to_a_nat_in_another_zone_with_the_net_saving() -> None:
    [finding] = cross_az_run(cross_az_inventory())
    assert finding.resource_type == "subnet" and finding.resource_arn.endswith("/priv-b")
    evidence = finding.evidence
    assert evidence["nat_availability_zone"] == "us-east-1a"
    assert evidence["workloads"] == ["ECS service orders"]
    assert evidence["subnets_routed_to_nat"] == ["priv-a", "priv-b"]
    # 15 GB an hour through the gateway's source side, 10,950 GB a month, half of it this
    # subnet's at $0.01/GB: $54.75, less a new gateway's 730 h x $0.045 = $32.85.
    assert evidence["cost"]["breakdown"] == {"cross_az_transfer": 54.75,
                                             "new_nat_gateway": -32.85}
    assert evidence["cost"]["total"] == "$54.75 - $32.85 = $21.90"
    assert "10,950 GB/month" in evidence["cost"]["arithmetic"]["cross_az_transfer"]
    assert finding.monthly_savings_usd == 21.90
    assert finding.savings_kind == "data_transfer"
    assert "an outage of us-east-1a cuts its way out" in finding.message


@pytest.mark.fires("network.cross_az_nat")
def test_a_gateway_already_in_the_zone_means_no_new_hours_and_little_traffic_no_saving() -> None:
    local = f.nat("nat-b", "pub-b")
    [finding] = cross_az_run(cross_az_inventory((local,)))
    assert finding.monthly_savings_usd == 54.75
    assert finding.evidence["nat_gateway_in_zone"] == "nat-b"
    [quiet_traffic] = cross_az_run(cross_az_inventory(), per_hour=(1e6, 1e6))
    assert quiet_traffic.monthly_savings_usd is None
    assert "the reason to add one is the zone's failure" in quiet_traffic.message


@pytest.mark.quiet("network.cross_az_nat")
def test_same_zone_gateways_subnets_without_workloads_and_unread_bytes_are_not_flagged() -> None:
    td = f.task_definition()
    only_a = cross_az_inventory(ecs_services=(f.service("orders", td, subnets=("priv-a",)),))
    assert cross_az_run(only_a) == []
    assert cross_az_run(cross_az_inventory(), per_hour=None) == []  # the engine: unknown
    # A gateway whose own subnet was not read: its zone is not known.
    unread = replace(cross_az_inventory(), subnets=(f.subnet("priv-a"),
                                                    f.subnet("priv-b", az="us-east-1b")))
    assert cross_az_run(unread) == []


def test_failed_nat_bytes_leave_the_subnet_unknown() -> None:
    inventory = cross_az_inventory()
    check = CrossAzNat()
    queries = list(check.metric_queries(inventory, f.context(check)))
    assert {q.subject for q in queries} == {f.subnet("priv-b", az="us-east-1b").arn}
    metrics = MetricStore({}, failed=dict.fromkeys(queries, "Throttling"))
    run_ = run_checks([check], inventory, metrics, f.NOW, 14, PriceBook())
    assert [(x.status, x.resource_arn.rsplit("/", 1)[1]) for x in run_.findings] == [
        ("unknown", "priv-b")]
