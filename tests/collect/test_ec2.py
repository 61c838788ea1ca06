"""EC2: the instances that are EKS nodes, whoever launched them, found by their tags, and the
Spot prices of the instance types Spot nodes run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from auditor.collect import ec2
from auditor.model import ClusterNode, EksNodegroup, Inventory, NodeProvisioner
from tests.collect.conftest import ACCOUNT, NOW, REGION, Scan, deny

AMI = "ami-12c6146b"  # moto's default Amazon Linux image


def _launch(tags: dict[str, str], spot: bool = False) -> str:
    client = boto3.client("ec2", region_name=REGION)
    extra = {"InstanceMarketOptions": {"MarketType": "spot"}} if spot else {}
    instance = client.run_instances(
        ImageId=AMI, MinCount=1, MaxCount=1, InstanceType="m7g.large",
        TagSpecifications=[{"ResourceType": "instance",
                            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
        **extra)["Instances"][0]
    return str(instance["InstanceId"])


def test_nodes_of_every_shape_are_found_and_other_instances_are_not(
    scan: Callable[..., Scan],
) -> None:
    auto = _launch({"eks:eks-cluster-name": "apps",
                    "eks:kubernetes-node-pool-name": "general-purpose"})
    karpenter = _launch({"eks:eks-cluster-name": "apps", "karpenter.sh/nodepool": "batch",
                         "kubernetes.io/cluster/apps": "owned"}, spot=True)
    managed = _launch({"eks:cluster-name": "apps", "eks:nodegroup-name": "general",
                       "kubernetes.io/cluster/apps": "owned"})
    self_managed = _launch({"kubernetes.io/cluster/legacy": "owned"})
    _launch({"Name": "bastion"})
    run = scan(wanted={"ec2.cluster_nodes"})

    inventory = ec2.collect(run.ctx)

    assert run.errors == []
    nodes = {n.instance_id: n for n in inventory.cluster_nodes}
    assert set(nodes) == {auto, karpenter, managed, self_managed}
    assert (nodes[auto].provisioner, nodes[auto].node_pool) == ("auto-mode", "general-purpose")
    assert (nodes[karpenter].provisioner, nodes[karpenter].spot) == ("karpenter", True)
    assert (nodes[managed].provisioner, nodes[managed].nodegroup) == (
        "managed-nodegroup", "general")
    assert (nodes[self_managed].provisioner, nodes[self_managed].cluster_name) == (
        "self-managed", "legacy")
    assert {n.instance_type for n in nodes.values()} == {"m7g.large"}
    assert all(n.availability_zone.startswith(REGION) for n in nodes.values())
    assert run.calls("ec2:DescribeInstances") == 1


# --------------------------------------------------------------------------- Spot prices

SPOT_TYPES = ["c6i.large", "m6i.large"]


def _found() -> Inventory:
    """What the first pass found: a Spot node group (two types; its first is priced), an
    on-demand one, a Spot Karpenter node and a Spot instance of a managed node group."""
    def group(name: str, types: tuple[str, ...], capacity: str) -> EksNodegroup:
        return EksNodegroup(
            f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/apps/{name}/1", ACCOUNT, REGION,
            name=name, cluster_name="apps", status="ACTIVE", subnet_ids=("subnet-a",),
            instance_types=types, capacity_type=capacity, desired_size=2, min_size=0,
            max_size=4, node_role_arn="", version=None, ami_type=None)

    def node(instance_id: str, instance_type: str, provisioner: NodeProvisioner
             ) -> ClusterNode:
        return ClusterNode(f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}", ACCOUNT,
                           REGION, instance_id=instance_id, instance_type=instance_type,
                           cluster_name="batch", provisioner=provisioner, nodegroup=None,
                           node_pool="spot", spot=True, state="running",
                           availability_zone=f"{REGION}b")

    return Inventory(
        eks_nodegroups=(group("spot", ("m6i.large", "m5.large"), "SPOT"),
                        group("steady", ("r6i.large",), "ON_DEMAND")),
        cluster_nodes=(node("i-karpenter", "c6i.large", "karpenter"),
                       node("i-managed", "t3.large", "managed-nodegroup")))


def _history(instance_type: str, zone: str, price: str, days_ago: int,
             product: str = "Linux/UNIX") -> dict[str, Any]:
    return {"AvailabilityZone": f"{REGION}{zone}", "InstanceType": instance_type,
            "ProductDescription": product, "SpotPrice": price,
            "Timestamp": NOW - timedelta(days=days_ago)}


def test_spot_prices_are_read_in_one_call_for_the_types_spot_nodes_run(
    scan: Callable[..., Scan],
) -> None:
    run = scan(wanted={"ec2.spot_prices"})
    with Stubber(run.ctx.client("ec2")) as stub:  # moto answers $0.00001 for everything
        stub.add_response("describe_spot_price_history", {"SpotPriceHistory": [
            _history("m6i.large", "a", "0.041200", 3), _history("m6i.large", "a", "0.039200", 1),
            _history("m6i.large", "b", "0.040100", 5),
            _history("m6i.large", "a", "0.090000", 1, product="Windows"),
            _history("c6i.large", "b", "0.036200", 2)], "NextToken": ""},
            {"InstanceTypes": SPOT_TYPES, "ProductDescriptions": ["Linux/UNIX"],
             "StartTime": NOW})

        inventory = ec2.spot_prices(run.ctx, _found())

        stub.assert_no_pending_responses()
    assert run.errors == []
    # The price in effect: each zone's latest change, Linux only.
    assert {(p.instance_type, p.availability_zone): p.usd_per_hour
            for p in inventory.spot_prices} == {
        ("m6i.large", f"{REGION}a"): 0.0392, ("m6i.large", f"{REGION}b"): 0.0401,
        ("c6i.large", f"{REGION}b"): 0.0362}


def test_unread_spot_prices_leave_the_clusters_running_spot_unknown(
    scan: Callable[..., Scan],
) -> None:
    run = scan(wanted={"ec2.spot_prices"})
    deny(run.ctx.client("ec2"), "DescribeSpotPriceHistory", code="UnauthorizedOperation")

    inventory = ec2.spot_prices(run.ctx, _found())

    [error] = run.errors
    assert (error.operation, error.datasets, error.resources) == (
        "DescribeSpotPriceHistory", ("ec2.spot_prices",),
        (f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/apps",
         f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/batch"))
    assert inventory.spot_prices == ()
    # Nothing runs on Spot: nothing is asked.
    quiet = scan(wanted={"ec2.spot_prices"})
    assert ec2.spot_prices(quiet.ctx, Inventory(eks_nodegroups=_found().eks_nodegroups[1:])
                           ) == Inventory()
    assert quiet.calls("ec2:DescribeSpotPriceHistory") == 0
