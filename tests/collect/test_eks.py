from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import Stubber

from auditor.collect import eks
from auditor.model import EksVersionSupport
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, fail_when, network, role

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


def test_missing_add_on_and_insight_apis_are_recorded_and_the_rest_returned(
    scan: Callable[..., Scan],
) -> None:
    _cluster()
    run = scan()

    inventory = eks.collect(run.ctx)

    assert inventory.eks_addons == () and inventory.eks_insights == ()
    assert len(inventory.eks_clusters) == len(inventory.eks_nodegroups) == 1
    # moto has no add-ons or insights: one error each for the region, not per cluster. It has
    # no DescribeClusterVersions either, but the shipped calendar covers 1.29: no error.
    addons, insights = run.errors
    assert (addons.account, addons.region, addons.service, addons.operation) == (
        ACCOUNT, REGION, "eks", "ListAddons")
    assert addons.datasets == ("eks.addons", "eks.addon_versions")
    assert (insights.operation, insights.datasets) == ("ListInsights", ("eks.insights",))
    (cluster,) = inventory.eks_clusters
    assert cluster.version_support is None and not cluster.version_calendar_answered


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
                                   "eks.addons", "eks.addon_versions", "eks.insights",
                                   "eks.cluster_versions", "eks.node_amis"}
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


# --------------------------------------------------------------------------- APIs moto lacks


def _described(name: str, version: str) -> dict[str, Any]:
    return {"cluster": {
        "name": name, "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
        "version": version, "status": "ACTIVE",
        "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "vpcId": "vpc-1",
                               "endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
    }}


def _addon(cluster: str, name: str, version: str) -> dict[str, Any]:
    return {"addon": {"addonName": name, "clusterName": cluster, "status": "ACTIVE",
                      "addonVersion": version,
                      "addonArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/{cluster}/{name}/1"}}


def _versions(kubernetes: str, default: str, *others: str) -> dict[str, Any]:
    def version(number: str, is_default: bool) -> dict[str, Any]:
        return {"addonVersion": number, "architecture": ["amd64", "arm64"],
                "compatibilities": [{"clusterVersion": kubernetes, "platformVersions": ["*"],
                                     "defaultVersion": is_default}]}

    return {"addons": [{"addonName": "vpc-cni", "type": "networking", "owner": "aws",
                        "addonVersions": [version(default, True),
                                          *(version(o, False) for o in others)]}]}


def test_add_on_defaults_are_asked_once_per_add_on_and_kubernetes_version(
    scan: Callable[..., Scan],
) -> None:
    run = scan(wanted={"eks.clusters", "eks.addons", "eks.addon_versions"})
    client = run.ctx.client("eks")
    with Stubber(client) as stub:
        stub.add_response("list_clusters", {"clusters": ["blue", "green"]})
        for cluster, version in (("blue", "v1.16.0-eksbuild.1"), ("green", "v1.19.0-eksbuild.1")):
            stub.add_response("describe_cluster", _described(cluster, "1.31"),
                              {"name": cluster})
            stub.add_response("list_addons", {"addons": ["vpc-cni"]}, {"clusterName": cluster})
            stub.add_response("describe_addon", _addon(cluster, "vpc-cni", version),
                              {"clusterName": cluster, "addonName": "vpc-cni"})
        # Both clusters run 1.31: one call answers for both.
        stub.add_response("describe_addon_versions",
                          _versions("1.31", "v1.18.3-eksbuild.2", "v1.19.0-eksbuild.1"),
                          {"kubernetesVersion": "1.31", "addonName": "vpc-cni"})

        inventory = eks.collect(run.ctx)

        stub.assert_no_pending_responses()
    assert run.errors == []
    assert [(a.cluster_name, a.cluster_version, a.version, a.default_version)
            for a in inventory.eks_addons] == [
        ("blue", "1.31", "v1.16.0-eksbuild.1", "v1.18.3-eksbuild.2"),
        ("green", "1.31", "v1.19.0-eksbuild.1", "v1.18.3-eksbuild.2")]


def test_insights_are_listed_per_cluster(scan: Callable[..., Scan]) -> None:
    run = scan(wanted={"eks.insights"})
    client = run.ctx.client("eks")
    with Stubber(client) as stub:
        stub.add_response("list_clusters", {"clusters": ["apps"]})
        stub.add_response("list_insights", {"insights": [{
            "id": "i-1", "name": "Deprecated APIs removed in Kubernetes v1.32",
            "category": "UPGRADE_READINESS", "kubernetesVersion": "1.32",
            "description": "Checks for usage of deprecated APIs.",
            "insightStatus": {"status": "WARNING", "reason": "2 deprecated APIs in use"},
        }]}, {"clusterName": "apps"})

        inventory = eks.collect(run.ctx)

        stub.assert_no_pending_responses()
    (insight,) = inventory.eks_insights
    assert (insight.cluster_name, insight.insight_id, insight.status, insight.reason) == (
        "apps", "i-1", "WARNING", "2 deprecated APIs in use")
    assert insight.arn == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/apps/insight/i-1"
    assert (insight.category, insight.kubernetes_version) == ("UPGRADE_READINESS", "1.32")


def _with_calendar(stub: Stubber, version: str) -> None:
    stub.add_response("list_clusters", {"clusters": ["apps"]})
    stub.add_response("describe_cluster", _described("apps", version), {"name": "apps"})


def test_cluster_versions_come_from_one_call_per_region(scan: Callable[..., Scan]) -> None:
    run = scan(wanted={"eks.clusters", "eks.cluster_versions"})
    client = run.ctx.client("eks")
    with Stubber(client) as stub:
        _with_calendar(stub, "1.31")
        stub.add_response("describe_cluster_versions", {"clusterVersions": [{
            "clusterVersion": "1.31", "clusterType": "eks", "versionStatus": "EXTENDED_SUPPORT",
            "status": "extended-support",
            "endOfStandardSupportDate": datetime(2025, 11, 26, tzinfo=UTC),
            "endOfExtendedSupportDate": datetime(2026, 11, 26, tzinfo=UTC),
        }]}, {"clusterVersions": ["1.31"], "includeAll": True})

        (cluster,) = eks.collect(run.ctx).eks_clusters

        stub.assert_no_pending_responses()
    assert run.errors == []
    assert cluster.version_calendar_answered
    assert cluster.version_support == EksVersionSupport(
        "1.31", "EXTENDED_SUPPORT", datetime(2025, 11, 26, tzinfo=UTC),
        datetime(2026, 11, 26, tzinfo=UTC))


def test_failed_cluster_versions_is_an_error_only_for_versions_the_calendar_lacks(
    scan: Callable[..., Scan],
) -> None:
    for version, recorded in (("1.31", False), ("1.40", True)):
        run = scan(wanted={"eks.clusters", "eks.cluster_versions"})
        client = run.ctx.client("eks")
        with Stubber(client) as stub:
            _with_calendar(stub, version)
            stub.add_client_error("describe_cluster_versions", "AccessDeniedException",
                                  "not authorized", 403)

            (cluster,) = eks.collect(run.ctx).eks_clusters

        assert cluster.version_support is None and not cluster.version_calendar_answered
        if not recorded:
            assert run.errors == []
            continue
        (error,) = run.errors
        assert (error.operation, error.code) == ("DescribeClusterVersions",
                                                 "AccessDeniedException")
        # No dataset is blamed: eks.extended_support judges the versions the calendar has.
        assert error.datasets == ()


def test_a_node_group_deleted_since_it_was_listed_is_dropped(scan: Callable[..., Scan]) -> None:
    _cluster()
    run = scan(wanted={"eks.clusters", "eks.nodegroups", "eks.fargate_profiles"})
    fail_when(run.ctx.client("eks"), "DescribeNodegroup", lambda _: True,
              code="ResourceNotFoundException")
    inventory = eks.collect(run.ctx)
    assert inventory.eks_nodegroups == () and len(inventory.eks_clusters) == 1
    assert run.errors == []


def test_a_node_group_that_cannot_be_described_costs_it_and_its_cluster_only(
    scan: Callable[..., Scan],
) -> None:
    _cluster()
    run = scan(wanted={"eks.clusters", "eks.nodegroups", "eks.fargate_profiles"})
    fail_when(run.ctx.client("eks"), "DescribeNodegroup", lambda _: True,
              code="AccessDeniedException")
    inventory = eks.collect(run.ctx)
    assert len(inventory.fargate_profiles) == 1 and len(inventory.eks_clusters) == 1
    (error,) = run.errors
    assert (error.operation, error.datasets) == ("DescribeNodegroup", ("eks.nodegroups",))
    cluster = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/apps"
    assert error.unread == (f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/apps/general",)
    assert error.resources == (cluster,)


def test_auto_mode_and_the_lifecycle_are_read_from_the_documented_shape(
    scan: Callable[..., Scan],
) -> None:
    """DescribeCluster as AWS documents it for an Auto Mode cluster, and one being deleted."""
    run = scan(wanted={"eks.clusters"})
    with Stubber(run.ctx.client("eks")) as stub:
        stub.add_response("list_clusters", {"clusters": ["auto", "old"]})
        stub.add_response("describe_cluster", {"cluster": {
            "name": "auto", "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/auto",
            "version": "1.33", "status": "ACTIVE",
            "computeConfig": {"enabled": True, "nodePools": ["general-purpose", "system"],
                              "nodeRoleArn": f"arn:aws:iam::{ACCOUNT}:role/auto-nodes"},
            "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "vpcId": "vpc-1"}}})
        stub.add_response("describe_cluster", {"cluster": {
            "name": "old", "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/old",
            "version": "1.29", "status": "DELETING"}})
        inventory = eks.collect(run.ctx)
    (auto,) = inventory.eks_clusters
    assert auto.auto_mode and auto.name == "auto"
    assert [(c.name, c.ended) for c in inventory.ended] == [("old", "DELETING")]


AL2_ARM = "/aws/service/eks/optimized-ami/1.29/amazon-linux-2-arm64/recommended/release_version"
AL2023 = ("/aws/service/eks/optimized-ami/1.29/amazon-linux-2023/x86_64/standard/recommended/"
          "release_version")


def _nodegroups() -> None:
    """`apps` with two AL2 arm64 groups, an AL2023 one, and a Bottlerocket one (no parameter
    read for it), all on Kubernetes 1.29."""
    _cluster()
    client = boto3.client("eks", region_name=REGION)
    general = client.describe_nodegroup(clusterName="apps", nodegroupName="general")["nodegroup"]
    for name, ami_type in (("arm", "AL2_ARM_64"), ("arm-2", "AL2_ARM_64"),
                           ("x86", "AL2023_x86_64_STANDARD"), ("rocket", "BOTTLEROCKET_x86_64")):
        client.create_nodegroup(
            clusterName="apps", nodegroupName=name, subnets=general["subnets"],
            nodeRole=general["nodeRole"], amiType=ami_type, version="1.29",
            releaseVersion="1.29.0-20240202")
    client.delete_nodegroup(clusterName="apps", nodegroupName="general")


def test_recommended_releases_are_read_once_per_version_and_ami_type(
    scan: Callable[..., Scan],
) -> None:
    _nodegroups()
    run = scan(wanted={"eks.node_amis"})
    with Stubber(run.ctx.client("ssm")) as stub:  # moto does not publish AWS's parameters
        stub.add_response("get_parameter", {"Parameter": {
            "Name": AL2_ARM, "Type": "String", "Value": "1.29.15-20250403"}}, {"Name": AL2_ARM})
        stub.add_client_error("get_parameter", "ParameterNotFound", "not found",
                              expected_params={"Name": AL2023})

        inventory = eks.collect(run.ctx)

        stub.assert_no_pending_responses()
    assert run.errors == []  # an unpublished parameter is no failure
    groups = {g.name: g for g in inventory.eks_nodegroups}
    assert {n: (g.release_version, g.recommended_release) for n, g in groups.items()} == {
        "arm": ("1.29.0-20240202", "1.29.15-20250403"),
        "arm-2": ("1.29.0-20240202", "1.29.15-20250403"),
        "x86": ("1.29.0-20240202", None), "rocket": ("1.29.0-20240202", None)}
    assert groups["arm"].release_parameter == AL2_ARM
    assert groups["rocket"].release_parameter is None


def test_a_failed_parameter_read_costs_the_node_groups_sharing_it(
    scan: Callable[..., Scan],
) -> None:
    _nodegroups()
    run = scan(wanted={"eks.node_amis"})
    deny(run.ctx.client("ssm"), "GetParameter")

    inventory = eks.collect(run.ctx)

    arm, x86 = run.errors
    assert (arm.operation, arm.datasets) == ("GetParameter", ("eks.node_amis",))
    names = {g.arn: g.name for g in inventory.eks_nodegroups}
    assert sorted(names[a] for a in arm.resources) == ["arm", "arm-2"]
    assert [names[a] for a in x86.resources] == ["x86"]
    assert len(inventory.eks_nodegroups) == 4
