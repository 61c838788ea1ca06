"""EKS clusters, their managed node groups, Fargate profiles, add-ons and insights, and the
support calendar of the Kubernetes versions they run.

EKS has no batch describe: each cluster, node group, profile and add-on costs one call. Only
clusters the listing returned are walked, so a failed `ListClusters` leaves every wanted EKS
dataset unknown. The calls that are not per resource are made once for what they share:
`DescribeAddonVersions` once per distinct (add-on, Kubernetes version), `DescribeClusterVersions`
once per region for the versions its clusters run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.collect.base import Recorder, ScopeCollector, paginate, parse_time, tag_map
from auditor.data import eks_calendar
from auditor.model import (
    EksAddon,
    EksCluster,
    EksInsight,
    EksNodegroup,
    EksVersionSupport,
    FargateProfile,
    Inventory,
)

# Datasets that need each cluster described (the add-on defaults and the support calendar
# depend on the cluster's version), and those that need the add-ons listed.
_NEED_DESCRIBED = ("eks.clusters", "eks.addon_versions", "eks.cluster_versions")
_NEED_ADDONS = ("eks.addons", "eks.addon_versions")
_DATASETS = (*_NEED_DESCRIBED, "eks.nodegroups", "eks.fargate_profiles", "eks.addons",
             "eks.insights")


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
    insights: list[EksInsight] = []

    with ctx.loading(ctx.wanted_among(_DATASETS), "eks", "ListClusters"):
        names = list(paginate(eks, "list_clusters", "clusters"))
    if ctx.wants(*_NEED_DESCRIBED):
        with ctx.loading(ctx.wanted_among(_NEED_DESCRIBED), "eks", "DescribeCluster"):
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
    if ctx.wants(*_NEED_ADDONS):
        versions = {c.name: c.version for c in clusters}
        with ctx.loading(ctx.wanted_among(_NEED_ADDONS), "eks", "ListAddons"):
            for cluster in names:
                for name in paginate(eks, "list_addons", "addons", clusterName=cluster):
                    addon = eks.describe_addon(clusterName=cluster, addonName=name)["addon"]
                    addons.append(EksAddon(
                        addon.get("addonArn", _arn(acct, region, "addon", cluster, name)),
                        acct, region, addon.get("addonName", name), cluster,
                        addon.get("addonVersion", ""), addon.get("status", "UNKNOWN"),
                        cluster_version=versions.get(cluster),
                    ))
    if ctx.wants("eks.addon_versions") and addons:
        addons = _with_default_versions(ctx, eks, addons)
    if ctx.wants("eks.insights"):
        with ctx.loading("eks.insights", "eks", "ListInsights"):
            for cluster in names:
                insights.extend(_insight(raw, cluster, ctx) for raw in paginate(
                    eks, "list_insights", "insights", clusterName=cluster))
    if ctx.wants("eks.cluster_versions") and clusters:
        clusters = _with_version_support(ctx, eks, clusters)
    return Inventory(eks_clusters=tuple(clusters), eks_nodegroups=tuple(nodegroups),
                     fargate_profiles=tuple(profiles), eks_addons=tuple(addons),
                     eks_insights=tuple(insights))


def _arn(account: str, region: str, kind: str, *path: str) -> str:
    return f"arn:aws:eks:{region}:{account}:{kind}/{'/'.join(path)}"


def _with_default_versions(ctx: ScopeCollector, eks: Any, addons: list[EksAddon]
                           ) -> list[EksAddon]:
    """One `DescribeAddonVersions` per distinct (add-on, Kubernetes version), however many
    clusters share it."""
    defaults: dict[tuple[str, str], str] = {}
    wanted = sorted({(a.name, a.cluster_version) for a in addons if a.cluster_version})
    with ctx.loading("eks.addon_versions", "eks", "DescribeAddonVersions"):
        for name, kubernetes in wanted:
            for entry in paginate(eks, "describe_addon_versions", "addons",
                                  kubernetesVersion=kubernetes, addonName=name):
                for version in entry.get("addonVersions", []):
                    if any(c.get("clusterVersion") == kubernetes and c.get("defaultVersion")
                           for c in version.get("compatibilities", [])):
                        defaults[(name, kubernetes)] = version.get("addonVersion", "")
    return [replace(a, default_version=defaults.get((a.name, a.cluster_version or "")))
            for a in addons]


def _with_version_support(ctx: ScopeCollector, eks: Any, clusters: list[EksCluster]
                          ) -> list[EksCluster]:
    """The support window of each version the region's clusters run, in one call.

    The shipped calendar (`auditor/data/eks_versions.json`) stands in when the call fails,
    so the failure is recorded only when that calendar lacks one of the versions: only then
    can a cluster not be judged. It blames no dataset, because the clusters the calendar does
    cover are judged all the same; `eks.extended_support` reports the others as unknown.
    """
    versions = sorted({c.version for c in clusters if c.version})
    found: dict[str, EksVersionSupport] = {}
    failures = Recorder()
    answered = False
    with failures.loading(ctx.scope, (), "eks", "DescribeClusterVersions"):
        for raw in paginate(eks, "describe_cluster_versions", "clusterVersions",
                            clusterVersions=versions, includeAll=True):
            version = raw.get("clusterVersion", "")
            found[version] = EksVersionSupport(
                version,
                raw.get("versionStatus") or str(raw.get("status", "")).upper().replace("-", "_"),
                parse_time(raw.get("endOfStandardSupportDate")),
                parse_time(raw.get("endOfExtendedSupportDate")),
            )
        answered = True
    if any(v not in eks_calendar().versions for v in versions):
        for error in failures.errors:
            ctx.recorder.add(error)
    return [replace(c, version_support=found.get(c.version), version_calendar_answered=answered)
            for c in clusters]


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


def _insight(raw: dict[str, Any], cluster: str, ctx: ScopeCollector) -> EksInsight:
    acct, region = ctx.scope.account, ctx.scope.region
    insight_id = raw.get("id", "")
    status = raw.get("insightStatus") or {}
    # Insights have no ARN of their own; this one keeps them apart in the inventory.
    return EksInsight(
        _arn(acct, region, "cluster", cluster, "insight", insight_id), acct, region,
        cluster_name=cluster,
        insight_id=insight_id,
        name=raw.get("name", ""),
        category=raw.get("category", ""),
        kubernetes_version=raw.get("kubernetesVersion", ""),
        status=status.get("status", "UNKNOWN"),
        reason=status.get("reason", ""),
        description=raw.get("description", ""),
    )
