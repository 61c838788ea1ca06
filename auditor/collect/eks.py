"""EKS clusters, their managed node groups, Fargate profiles, add-ons and insights, and the
support calendar of the Kubernetes versions they run.

EKS has no batch describe: each cluster, node group, profile and add-on costs one call. Only
clusters the listing returned are walked, so a failed `ListClusters` leaves every wanted EKS
dataset unknown. The calls that are not per resource are made once for what they share:
`DescribeAddonVersions` once per distinct (add-on, Kubernetes version), `DescribeClusterVersions`
once per region for the versions its clusters run, the node groups' recommended AMI release
once per (Kubernetes version, AMI type) (`auditor.collect.ssm`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from botocore import xform_name

from auditor.collect import ssm
from auditor.collect.base import (
    Recorder,
    ScopeCollector,
    identifiers,
    paginate,
    parse_time,
    tag_map,
)
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
_NEED_NODEGROUPS = ("eks.nodegroups", ssm.DATASET)
_DATASETS = (*_NEED_DESCRIBED, *_NEED_NODEGROUPS, "eks.fargate_profiles", "eks.addons",
             "eks.insights")
T = TypeVar("T")


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(*_DATASETS):
        return Inventory()
    eks = ctx.client("eks")
    names: list[str] = []
    clusters: list[EksCluster] = []
    nodegroups: list[EksNodegroup] = []
    profiles: list[FargateProfile] = []
    addons: list[EksAddon] = []
    insights: list[EksInsight] = []

    with ctx.loading(ctx.wanted_among(_DATASETS), "eks", "ListClusters"):
        names = identifiers(paginate(eks, "list_clusters", "clusters"))
    # EKS has no batch describe: every cluster, and every part of one, is a call of its own,
    # and its failure costs that cluster (or part) alone. A part listing that fails leaves the
    # cluster and every part of that kind of it (`.../nodegroup/CLUSTER/*`) unknown.
    for name in names:
        if ctx.wants(*_NEED_DESCRIBED):
            clusters += _described_cluster(ctx, eks, name)
        if ctx.wants(*_NEED_NODEGROUPS):
            nodegroups += _parts(ctx, eks, ctx.wanted_among(_NEED_NODEGROUPS), name,
                                 _NODEGROUPS, _nodegroup)
        if ctx.wants("eks.fargate_profiles"):
            profiles += _parts(ctx, eks, "eks.fargate_profiles", name, _PROFILES, _profile)
        if ctx.wants(*_NEED_ADDONS):
            addons += _parts(ctx, eks, ctx.wanted_among(_NEED_ADDONS), name, _ADDONS, _addon)
        if ctx.wants("eks.insights"):
            insights += _insights(ctx, eks, name)
    versions = {c.name: c.version for c in clusters}
    addons = [replace(a, cluster_version=versions.get(a.cluster_name)) for a in addons]
    if ctx.wants("eks.addon_versions") and addons:
        addons = _with_default_versions(ctx, eks, addons)
    if ctx.wants("eks.cluster_versions") and clusters:
        clusters = _with_version_support(ctx, eks, clusters)
    if ctx.wants(ssm.DATASET) and nodegroups:
        nodegroups = ssm.with_recommended_releases(ctx, nodegroups)
    return Inventory(eks_clusters=tuple(clusters), eks_nodegroups=tuple(nodegroups),
                     fargate_profiles=tuple(profiles), eks_addons=tuple(addons),
                     eks_insights=tuple(insights))


def _described_cluster(ctx: ScopeCollector, eks: Any, name: str) -> list[EksCluster]:
    """The cluster, or nothing when it cannot be described. Its parts are read all the same,
    but without the cluster their verdicts (an add-on's default version, a node group's
    endpoint needs) cannot be reached."""
    acct, region = ctx.scope.account, ctx.scope.region
    parts = tuple(_arn(acct, region, part.arn_kind, name, "*")
                  for part in (_NODEGROUPS, _PROFILES, _ADDONS))
    found: list[EksCluster] = []
    with ctx.describing(ctx.wanted_among(_NEED_DESCRIBED), "eks", "DescribeCluster",
                        unread=(_arn(acct, region, "cluster", name),), resources=parts):
        found.append(_cluster(eks.describe_cluster(name=name)["cluster"], name, ctx))
    return found


def _insights(ctx: ScopeCollector, eks: Any, cluster: str) -> list[EksInsight]:
    found: list[EksInsight] = []
    cluster_arn = _arn(ctx.scope.account, ctx.scope.region, "cluster", cluster)
    with ctx.describing("eks.insights", "eks", "ListInsights", resources=(cluster_arn,)):
        found.extend(_insight(raw, cluster, ctx) for raw in paginate(
            eks, "list_insights", "insights", clusterName=cluster))
    return found


@dataclass(frozen=True)
class _Part:
    """A kind of cluster part and the two calls that read it."""

    arn_kind: str
    list_operation: str
    list_key: str
    describe_operation: str
    name_param: str
    result_key: str


_NODEGROUPS = _Part("nodegroup", "ListNodegroups", "nodegroups", "DescribeNodegroup",
                    "nodegroupName", "nodegroup")
_PROFILES = _Part("fargateprofile", "ListFargateProfiles", "fargateProfileNames",
                  "DescribeFargateProfile", "fargateProfileName", "fargateProfile")
_ADDONS = _Part("addon", "ListAddons", "addons", "DescribeAddon", "addonName", "addon")


def _parts(ctx: ScopeCollector, eks: Any, datasets: str | tuple[str, ...], cluster: str,
           part: _Part, parse: Callable[[dict[str, Any], str, ScopeCollector], T]) -> list[T]:
    """One cluster's node groups, Fargate profiles or add-ons: listed, then each described.
    A describe that fails costs that part and its cluster's verdicts that count parts; a part
    deleted in between is dropped."""
    acct, region = ctx.scope.account, ctx.scope.region
    cluster_arn = _arn(acct, region, "cluster", cluster)
    names: list[str] = []
    with ctx.describing(datasets, "eks", part.list_operation, resources=(cluster_arn,),
                        unread=(_arn(acct, region, part.arn_kind, cluster, "*"),)):
        names = identifiers(paginate(eks, xform_name(part.list_operation), part.list_key,
                                     clusterName=cluster))
    found: list[T] = []
    describe = getattr(eks, xform_name(part.describe_operation))
    for name in names:
        with ctx.describing(datasets, "eks", part.describe_operation,
                            unread=(_arn(acct, region, part.arn_kind, cluster, name),),
                            resources=(cluster_arn,)):
            response = describe(clusterName=cluster, **{part.name_param: name})
            found.append(parse(response[part.result_key], cluster, ctx))
    return found


def _arn(account: str, region: str, kind: str, *path: object) -> str:
    return f"arn:aws:eks:{region}:{account}:{kind}/{'/'.join(map(str, path))}"


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
        auto_mode=bool((raw.get("computeConfig") or {}).get("enabled")),
    )


def _addon(raw: dict[str, Any], cluster: str, ctx: ScopeCollector) -> EksAddon:
    acct, region = ctx.scope.account, ctx.scope.region
    name = raw.get("addonName", "")
    return EksAddon(raw.get("addonArn") or _arn(acct, region, "addon", cluster, name), acct,
                    region, name, cluster, raw.get("addonVersion", ""),
                    raw.get("status", "UNKNOWN"))


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
        release_version=raw.get("releaseVersion"),
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
        status=raw.get("status", "ACTIVE"),
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
