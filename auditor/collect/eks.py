"""EKS clusters, their managed node groups, Fargate profiles and add-ons.

EKS has no batch describe: each cluster, node group, profile and add-on costs one call. Only
clusters the listing returned are walked, so a failed `ListClusters` leaves every wanted EKS
dataset unknown.
"""

from __future__ import annotations

from typing import Any

from auditor.collect.base import ScopeCollector, paginate, parse_time, tag_map
from auditor.model import EksAddon, EksCluster, EksNodegroup, FargateProfile, Inventory

_DATASETS = ("eks.clusters", "eks.nodegroups", "eks.fargate_profiles", "eks.addons")


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(*_DATASETS):
        return Inventory()
    eks = ctx.client("eks")
    acct, region = ctx.scope.account, ctx.scope.region
    names: list[str] = []
    clusters: list[EksCluster] = []
    nodegroups: list[EksNodegroup] = []
    profiles: list[FargateProfile] = []
    addons: list[EksAddon] = []

    with ctx.loading(tuple(d for d in _DATASETS if ctx.wants(d)), "eks", "ListClusters"):
        names = list(paginate(eks, "list_clusters", "clusters"))
    if ctx.wants("eks.clusters"):
        with ctx.loading("eks.clusters", "eks", "DescribeCluster"):
            for name in names:
                clusters.append(_cluster(eks.describe_cluster(name=name)["cluster"], name, ctx))
    if ctx.wants("eks.nodegroups"):
        with ctx.loading("eks.nodegroups", "eks", "ListNodegroups"):
            for cluster in names:
                for name in paginate(eks, "list_nodegroups", "nodegroups", clusterName=cluster):
                    raw = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)
                    nodegroups.append(_nodegroup(raw["nodegroup"], cluster, ctx))
    if ctx.wants("eks.fargate_profiles"):
        with ctx.loading("eks.fargate_profiles", "eks", "ListFargateProfiles"):
            for cluster in names:
                for name in paginate(eks, "list_fargate_profiles", "fargateProfileNames",
                                     clusterName=cluster):
                    raw = eks.describe_fargate_profile(clusterName=cluster,
                                                       fargateProfileName=name)
                    profiles.append(_profile(raw["fargateProfile"], cluster, ctx))
    if ctx.wants("eks.addons"):
        with ctx.loading("eks.addons", "eks", "ListAddons"):
            for cluster in names:
                for name in paginate(eks, "list_addons", "addons", clusterName=cluster):
                    addon = eks.describe_addon(clusterName=cluster, addonName=name)["addon"]
                    addons.append(EksAddon(
                        addon.get("addonArn", _arn(acct, region, "addon", cluster, name)),
                        acct, region, addon.get("addonName", name), cluster,
                        addon.get("addonVersion", ""), addon.get("status", "UNKNOWN"),
                    ))
    return Inventory(eks_clusters=tuple(clusters), eks_nodegroups=tuple(nodegroups),
                     fargate_profiles=tuple(profiles), eks_addons=tuple(addons))


def _arn(account: str, region: str, kind: str, *path: str) -> str:
    return f"arn:aws:eks:{region}:{account}:{kind}/{'/'.join(path)}"


def _cluster(raw: dict[str, Any], listed: str, ctx: ScopeCollector) -> EksCluster:
    acct, region = ctx.scope.account, ctx.scope.region
    name = raw.get("name", listed)
    vpc = raw.get("resourcesVpcConfig", {})
    groups = list(vpc.get("securityGroupIds", []))
    cluster_group = vpc.get("clusterSecurityGroupId")
    if cluster_group and cluster_group not in groups:
        groups.append(cluster_group)
    # Absent flags mean the EKS defaults: a public endpoint open to everyone, no private one.
    public = bool(vpc.get("endpointPublicAccess", True))
    cidrs = vpc.get("publicAccessCidrs", ["0.0.0.0/0"] if public else [])
    logging = raw.get("logging", {}).get("clusterLogging", [])
    return EksCluster(
        raw.get("arn", _arn(acct, region, "cluster", name)), acct, region,
        name=name,
        version=raw.get("version", ""),
        status=raw.get("status", "UNKNOWN"),
        vpc_id=vpc.get("vpcId", ""),
        subnet_ids=tuple(vpc.get("subnetIds", [])),
        security_group_ids=tuple(groups),
        endpoint_public_access=public,
        endpoint_private_access=bool(vpc.get("endpointPrivateAccess", False)),
        public_access_cidrs=tuple(cidrs),
        logging_enabled=tuple(kind for entry in logging if entry.get("enabled")
                              for kind in entry.get("types", [])),
        secrets_encrypted=any("secrets" in config.get("resources", [])
                              for config in raw.get("encryptionConfig", [])),
        role_arn=raw.get("roleArn", ""),
        created_at=parse_time(raw.get("createdAt")),
        tags=tag_map(raw.get("tags")),
    )


def _nodegroup(raw: dict[str, Any], cluster: str, ctx: ScopeCollector) -> EksNodegroup:
    acct, region = ctx.scope.account, ctx.scope.region
    name = raw.get("nodegroupName", "")
    scaling = raw.get("scalingConfig", {})
    return EksNodegroup(
        raw.get("nodegroupArn", _arn(acct, region, "nodegroup", cluster, name)), acct, region,
        name=name,
        cluster_name=raw.get("clusterName", cluster),
        status=raw.get("status", "UNKNOWN"),
        subnet_ids=tuple(raw.get("subnets", [])),
        instance_types=tuple(raw.get("instanceTypes") or ()),
        capacity_type=raw.get("capacityType", "ON_DEMAND"),
        desired_size=int(scaling.get("desiredSize", 0)),
        min_size=int(scaling.get("minSize", 0)),
        max_size=int(scaling.get("maxSize", 0)),
        node_role_arn=raw.get("nodeRole", ""),
        version=raw.get("version"),
        ami_type=raw.get("amiType"),
    )


def _profile(raw: dict[str, Any], cluster: str, ctx: ScopeCollector) -> FargateProfile:
    acct, region = ctx.scope.account, ctx.scope.region
    name = raw.get("fargateProfileName", "")
    return FargateProfile(
        raw.get("fargateProfileArn", _arn(acct, region, "fargateprofile", cluster, name)),
        acct, region,
        name=name,
        cluster_name=raw.get("clusterName", cluster),
        subnet_ids=tuple(raw.get("subnets", [])),
        pod_execution_role_arn=raw.get("podExecutionRoleArn", ""),
        namespaces=tuple(s["namespace"] for s in raw.get("selectors", []) if "namespace" in s),
    )
