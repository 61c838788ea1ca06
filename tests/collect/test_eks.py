from __future__ import annotations

from collections.abc import Callable

import boto3
from botocore.stub import Stubber

from auditor.collect import eks
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, network, role

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/cluster"


def _cluster() -> tuple[str, str, str]:
    client = boto3.client("eks", region_name=REGION)
    _, subnet, group = network()
    arn = role("eks-cluster", "eks.amazonaws.com")
    client.create_cluster(
        name="apps", version="1.29", roleArn=arn,
        resourcesVpcConfig={"subnetIds": [subnet], "securityGroupIds": [group],
                            "endpointPublicAccess": True, "endpointPrivateAccess": True,
                            "publicAccessCidrs": ["203.0.113.0/24"]},
        logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True},
                                    {"types": ["scheduler"], "enabled": False}]},
        encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": KEY}}],
        tags={"team": "platform"},
    )
    client.create_nodegroup(
        clusterName="apps", nodegroupName="general", subnets=[subnet], nodeRole=arn,
        scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2},
        instanceTypes=["m6g.large"], capacityType="SPOT", amiType="AL2_ARM_64",
    )
    client.create_fargate_profile(
        clusterName="apps", fargateProfileName="serverless", podExecutionRoleArn=arn,
        subnets=[subnet],
        selectors=[{"namespace": "jobs"}, {"namespace": "batch", "labels": {"tier": "low"}}],
    )
    return arn, subnet, group


def test_collects_clusters_nodegroups_and_fargate_profiles(scan: Callable[..., Scan]) -> None:
    role_arn, subnet, group = _cluster()
    run = scan()

    inventory = eks.collect(run.ctx)

    (cluster,) = inventory.eks_clusters
    assert cluster.arn == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/apps"
    assert (cluster.account, cluster.region, cluster.name) == (ACCOUNT, REGION, "apps")
    assert (cluster.version, cluster.status, cluster.role_arn) == ("1.29", "ACTIVE", role_arn)
    assert cluster.subnet_ids == (subnet,)
    assert cluster.security_group_ids[0] == group
    assert cluster.endpoint_public_access and cluster.endpoint_private_access
    assert cluster.public_access_cidrs == ("203.0.113.0/24",)
    assert cluster.logging_enabled == ("api", "audit")
    assert cluster.secrets_encrypted is True
    assert cluster.created_at is not None
    assert cluster.tags == {"team": "platform"}

    (nodegroup,) = inventory.eks_nodegroups
    assert (nodegroup.name, nodegroup.cluster_name, nodegroup.capacity_type) == (
        "general", "apps", "SPOT")
    assert nodegroup.instance_types == ("m6g.large",)
    assert (nodegroup.min_size, nodegroup.desired_size, nodegroup.max_size) == (1, 2, 4)
    assert (nodegroup.node_role_arn, nodegroup.ami_type) == (role_arn, "AL2_ARM_64")
    assert nodegroup.subnet_ids == (subnet,)

    (profile,) = inventory.fargate_profiles
    assert (profile.name, profile.cluster_name, profile.pod_execution_role_arn) == (
        "serverless", "apps", role_arn)
    assert profile.namespaces == ("jobs", "batch")
    assert profile.subnet_ids == (subnet,)


def test_missing_add_on_api_is_recorded_and_the_rest_returned(
    scan: Callable[..., Scan],
) -> None:
    _cluster()
    run = scan()

    inventory = eks.collect(run.ctx)

    assert inventory.eks_addons == ()
    assert len(inventory.eks_clusters) == len(inventory.eks_nodegroups) == 1
    (error,) = run.errors  # moto has no add-ons: one error for the region, not per cluster
    assert (error.account, error.region, error.service, error.operation) == (
        ACCOUNT, REGION, "eks", "ListAddons")
    assert error.datasets == ("eks.addons",)


def test_defaults_when_endpoint_fields_are_absent(scan: Callable[..., Scan]) -> None:
    _, subnet, _ = network()
    boto3.client("eks", region_name=REGION).create_cluster(
        name="bare", roleArn=role("eks-bare", "eks.amazonaws.com"),
        resourcesVpcConfig={"subnetIds": [subnet]})
    run = scan(wanted={"eks.clusters"})

    (cluster,) = eks.collect(run.ctx).eks_clusters

    assert cluster.endpoint_public_access is True
    assert cluster.endpoint_private_access is False
    assert cluster.public_access_cidrs == ("0.0.0.0/0",)
    assert cluster.logging_enabled == () and cluster.secrets_encrypted is False
    assert run.calls("eks:ListNodegroups") == 0


def test_denied_list_clusters_describes_nothing(scan: Callable[..., Scan]) -> None:
    _cluster()
    run = scan()
    deny(run.ctx.client("eks"), "ListClusters")

    inventory = eks.collect(run.ctx)

    assert inventory.eks_clusters == () and inventory.eks_nodegroups == ()
    (error,) = run.errors
    assert (error.operation, error.code) == ("ListClusters", "AccessDeniedException")
    assert set(error.datasets) == {"eks.clusters", "eks.nodegroups", "eks.fargate_profiles",
                                   "eks.addons"}
    assert set(run.stats.by_operation()) == {"eks:ListClusters"}


def test_add_ons_are_described_per_listed_cluster(scan: Callable[..., Scan]) -> None:
    run = scan(wanted={"eks.addons"})
    client = run.ctx.client("eks")
    arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/apps/vpc-cni/1a2b"
    with Stubber(client) as stub:  # moto has no add-on API
        stub.add_response("list_clusters", {"clusters": ["apps"]})
        stub.add_response("list_addons", {"addons": ["vpc-cni"]}, {"clusterName": "apps"})
        stub.add_response("describe_addon", {"addon": {
            "addonName": "vpc-cni", "clusterName": "apps", "status": "ACTIVE",
            "addonVersion": "v1.18.0-eksbuild.1", "addonArn": arn,
        }}, {"clusterName": "apps", "addonName": "vpc-cni"})

        inventory = eks.collect(run.ctx)

        stub.assert_no_pending_responses()
    assert run.errors == []
    (addon,) = inventory.eks_addons
    assert (addon.arn, addon.account, addon.region) == (arn, ACCOUNT, REGION)
    assert (addon.name, addon.cluster_name, addon.version, addon.status) == (
        "vpc-cni", "apps", "v1.18.0-eksbuild.1", "ACTIVE")
    assert inventory.eks_clusters == ()
