"""What the cost model used not to see: functions behind API Gateway (REST and HTTP APIs), EKS
nodes on Spot (priced from the Spot price history), nodes outside managed node groups
(Karpenter, Auto Mode, self-managed) and Auto Mode's fee; a failed API read leaves unknown
only what rests on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from auditor.cost.workloads import WorkloadEstimate
from auditor.engine import run_checks
from auditor.metrics import MetricStore
from auditor.model import (
    ApiGateway,
    ApiProtocol,
    ClusterNode,
    CollectionError,
    Inventory,
    LambdaFunction,
    NodeProvisioner,
    Scope,
    SpotPrice,
)
from auditor.pricing.book import PriceBook
from checks.cost import MigrationOpportunity
from checks.lambda_ import X86Arm64Candidate
from tests import factories as f
from tests.cost.test_workloads import NOW, ROLE, START, lambda_series, option_costs, run

FUNCTIONS = f"arn:aws:lambda:{f.REGION}:{f.ACCOUNT}:function"


def api(name: str, protocol: ApiProtocol, *functions: LambdaFunction) -> ApiGateway:
    kind = "restapis" if protocol == "REST" else "apis"
    return ApiGateway(f"arn:aws:apigateway:{f.REGION}::/{kind}/{name}", f.ACCOUNT, f.REGION,
                      api_id=name, name=name, protocol=protocol,
                      function_arns=tuple(fn.arn for fn in functions))


# --------------------------------------------------------------------------- API Gateway


def test_a_function_behind_an_http_api_pays_for_it_and_moves_without_it() -> None:
    fn = f.function("ingest", ROLE, memory=256)
    inventory = Inventory(lambda_functions=(fn,), api_gateways=(api("edge", "HTTP", fn),))
    [found] = run(inventory, lambda_series(fn, 200, 120)).values()
    # 200 req/s for 730 h = 525.6M requests: $105.12 + $262.80 on Lambda, as invoked
    # directly, plus $1.00/M through the HTTP API.
    assert found.usage["front_door"] == "apigw-http"
    assert {line.name: line.usd for line in found.current.lines} == {
        "requests": 105.12, "duration": 262.80, "api_gateway": 525.60}
    assert found.current.line("api_gateway").formula == (  # type: ignore[union-attr]
        "525,600,000 x $1.00/M (HTTP API)")
    costs = option_costs(found)
    assert costs["lambda-arm"] == 105.12 + 210.24 + 525.60
    # Containers sit behind an ALB instead (2 ARM tasks $57.67, ALB at 7.2 LCU $58.47).
    arm = next(o for o in found.options if o.platform == "ecs-fargate-arm")
    assert [line.name for line in arm.lines] == ["compute", "load_balancer"]
    assert costs["ecs-fargate-arm"] == 57.67 + 58.47
    # Beyond the arm64 step ($52.56), moving saves $840.96 - $116.14.
    assert found.savings == {"arm64": 52.56, "migration": 724.82}
    assert any("HTTP API edge" in a for a in found.assumptions)


def test_a_rest_api_in_front_turns_a_function_worth_keeping_into_one_worth_moving() -> None:
    fn = f.function("orders", ROLE, memory=512, arch="arm64")
    series = lambda_series(fn, 20, 100)
    direct = run(Inventory(lambda_functions=(fn,)), series)["orders"]
    behind = run(Inventory(lambda_functions=(fn,), api_gateways=(api("shop", "REST", fn),)),
                 series)["orders"]
    # 52.56M requests: $10.51 + 2.628M GB-s x $0.0000133334 = $35.04 on Lambda.
    assert direct.current.monthly_usd == 10.51 + 35.04
    # 2 ARM tasks (peak 40 req/s) $57.67 + an ALB at 0.72 LCU (20 req/s x 10 KB) $20.63.
    assert option_costs(direct)["ecs-fargate-arm"] == 57.67 + 20.63
    assert direct.recommended is direct.current
    # Through a REST API each request pays $3.50/M more: $183.96.
    assert behind.current.line("api_gateway").usd == 183.96  # type: ignore[union-attr]
    assert behind.current.monthly_usd == 10.51 + 35.04 + 183.96
    assert behind.recommended.platform == "ecs-fargate-arm"
    assert behind.migration_savings_usd == round(229.51 - 78.30, 2) == 151.21


def test_two_apis_in_front_are_priced_as_the_dearer_and_websockets_are_named() -> None:
    fn, chat = f.function("both", ROLE), f.function("chat", ROLE)
    found = run(Inventory(lambda_functions=(fn, chat), api_gateways=(
        api("public", "HTTP", fn), api("legacy", "REST", fn), api("live", "WEBSOCKET", chat))),
        {**lambda_series(fn, 1, 100), **lambda_series(chat, 1, 100)})
    assert found["both"].usage["front_door"] == "apigw-rest"
    assert any("priced as REST, the dearer" in a for a in found["both"].assumptions)
    assert found["chat"].usage["front_door"] == "none"
    assert found["chat"].current.line("api_gateway") is None
    assert any("WebSocket API live" in a and "not priced" in a
               for a in found["chat"].assumptions)


def test_an_api_that_could_not_be_read_leaves_only_front_door_verdicts_unknown() -> None:
    near = f.function("near", ROLE, memory=256)
    far = replace(f.function("far", ROLE, memory=256),
                  arn="arn:aws:lambda:eu-west-1:123456789012:function:far", region="eu-west-1")
    failed = CollectionError(
        f.ACCOUNT, f.REGION, "apigateway", "GetResources", "AccessDeniedException", "no",
        ("apigateway.apis",), resources=(f"{FUNCTIONS}:*",),
        unread=(f"arn:aws:apigateway:{f.REGION}::/restapis/shop",))
    inventory = Inventory(scopes=(Scope(f.ACCOUNT, f.REGION), Scope(f.ACCOUNT, "eu-west-1")),
                          lambda_functions=(near, far), errors=(failed,))
    metrics = MetricStore({**lambda_series(near, 200, 120), **lambda_series(far, 200, 120)},
                          START, NOW)
    findings = run_checks([MigrationOpportunity(), X86Arm64Candidate()], inventory, metrics,
                          NOW, 14, PriceBook()).findings
    verdicts = {(x.check_id, x.resource_arn): x.status for x in findings}
    # Whether the function behind it pays for an API is unknown: so is its move.
    assert verdicts[("cost.migration_opportunity", near.arn)] == "unknown"
    # The other region's function, and arm64 (the same API line on both sides), stand.
    assert verdicts[("cost.migration_opportunity", far.arn)] == "fail"
    assert verdicts[("lambda.x86_arm64_candidate", near.arn)] == "fail"


# --------------------------------------------------------------------------- EKS nodes


def spot_price(instance_type: str, zone: str, usd: float) -> SpotPrice:
    return SpotPrice(f.ACCOUNT, f.REGION, instance_type, f"{f.REGION}{zone}", usd,
                     NOW - timedelta(days=1))


def node(instance_id: str, instance_type: str, provisioner: NodeProvisioner, *,
         spot: bool = False, zone: str = "a", state: str = "running") -> ClusterNode:
    return ClusterNode(f"arn:aws:ec2:{f.REGION}:{f.ACCOUNT}:instance/{instance_id}", f.ACCOUNT,
                       f.REGION, instance_id=instance_id, instance_type=instance_type,
                       cluster_name="apps", provisioner=provisioner,
                       nodegroup="general" if provisioner == "managed-nodegroup" else None,
                       node_pool=None, spot=spot, state=state,
                       availability_zone=f"{f.REGION}{zone}")


def cluster_cost(**parts: object) -> WorkloadEstimate:
    cluster = f.eks_cluster("apps")
    inventory = Inventory(eks_clusters=(replace(cluster, auto_mode=bool(parts.pop(
        "auto_mode", False))),), **parts)  # type: ignore[arg-type]
    return run(inventory)["apps"]


def test_a_spot_node_group_is_priced_from_the_spot_price_history_of_its_zones() -> None:
    group = replace(f.nodegroup("spot", subnets=("subnet-a", "subnet-b"), cluster_name="apps"),
                    capacity_type="SPOT")
    subnets = (f.subnet("subnet-a", az="us-east-1a"), f.subnet("subnet-b", az="us-east-1b"))
    prices = (spot_price("m6i.large", "a", 0.0392), spot_price("m6i.large", "b", 0.0412),
              spot_price("m6i.large", "c", 0.0300))
    found = cluster_cost(eks_nodegroups=(group,), subnets=subnets, spot_prices=prices)
    line = found.current.line("nodes")
    assert line is not None
    # 2 x 730 h x $0.0402, the mean of its two zones' prices (us-east-1c is not its zone).
    assert line.usd == 58.69
    assert line.formula == ("spot: 2 x m6i.large x 730 h x $0.0402 (Spot: the mean of "
                            "us-east-1a $0.0392, us-east-1b $0.0412)")
    # Its subnets unread: the mean over every zone with a price, said so.
    unread = cluster_cost(eks_nodegroups=(group,), spot_prices=prices)
    assert unread.current.line("nodes").usd == round(2 * 730 * 0.0368, 2)  # type: ignore[union-attr]
    assert any("subnets were not read" in a for a in unread.assumptions)
    # No Spot price read at all: on-demand, an upper bound, said so.
    fallback = cluster_cost(eks_nodegroups=(group,), subnets=subnets)
    assert fallback.current.line("nodes").usd == 2 * 730 * 0.096  # type: ignore[union-attr]
    assert any("no Spot price of m6i.large could be read: priced at on-demand (an upper "
               "bound)" in a for a in fallback.assumptions)


def test_nodes_outside_node_groups_are_priced_and_auto_mode_adds_its_fee() -> None:
    found = cluster_cost(auto_mode=True, spot_prices=(spot_price("c6i.large", "b", 0.0362),),
                         cluster_nodes=(
                             node("i-1", "m5.large", "auto-mode"),
                             node("i-2", "m5.large", "auto-mode"),
                             node("i-3", "c6i.large", "auto-mode", spot=True, zone="b"),
                             node("i-4", "t3.large", "self-managed")))
    lines = {line.name: line for line in found.current.lines}
    # 2 x 730 h x $0.096 + 730 h x $0.0362 (Spot, its zone) + 730 h x $0.0832 (t3.large).
    assert lines["nodes"].usd == round(140.16 + 26.426 + 60.736, 2) == 227.32
    assert "auto-mode: 1 x c6i.large x 730 h x $0.0362 (Spot in us-east-1b)" in (
        lines["nodes"].formula)
    # The fee is 12% of each type's on-demand price, Spot or not: 2 x 730 h x $0.01152 +
    # 730 h x $0.0102; the self-managed node pays none.
    assert lines["auto_mode"].usd == round(2 * 730 * 0.01152 + 730 * 0.0102, 2) == 24.27
    assert "2 x m5.large x 730 h x $0.01152 (12% of $0.096 on-demand)" in (
        lines["auto_mode"].formula)
    assert found.current.monthly_usd == round(lines["control_plane"].usd + 227.32 + 24.27, 2)
    assert found.usage["nodes"] == 4
    assert found.usage["other_nodes"] == {"auto-mode": 3, "self-managed": 1}


def test_node_group_instances_are_not_counted_twice_and_ended_nodes_are_not_priced() -> None:
    group = f.nodegroup("general", cluster_name="apps")
    ended = replace(f.nodegroup("old", cluster_name="apps"), status="DELETING")
    found = cluster_cost(eks_nodegroups=(group, ended), cluster_nodes=(
        node("i-1", "m6i.large", "managed-nodegroup"),
        node("i-2", "m6i.large", "managed-nodegroup"),
        node("i-3", "m6i.large", "karpenter", state="stopped"),
        node("i-4", "m6i.large", "karpenter", state="shutting-down")))
    # The node group at its desired size, once: 2 x 730 h x $0.096.
    assert {line.name: line.usd for line in found.current.lines
            if line.name != "control_plane"} == {"nodes": 140.16}
    assert found.usage["nodes"] == 2 and found.usage["other_nodes"] == {}


def test_a_function_behind_two_apis_pays_for_its_requests_once() -> None:
    fn = f.function("ingest", ROLE, memory=256)
    found = run(Inventory(lambda_functions=(fn,), api_gateways=(
        api("blue", "HTTP", fn), api("green", "HTTP", fn))), lambda_series(fn, 200, 120))
    # Each invocation came through one of them: 525.6M requests x $1.00/M, not twice.
    assert found["ingest"].current.line("api_gateway").usd == 525.60  # type: ignore[union-attr]
    assert any("HTTP API blue, HTTP API green" in a for a in found["ingest"].assumptions)
