"""EC2: the instances that are EKS nodes, whoever launched them, found by their tags."""

from __future__ import annotations

from collections.abc import Callable

import boto3

from auditor.collect import ec2
from tests.collect.conftest import REGION, Scan

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
    assert run.calls("ec2:DescribeInstances") == 1
