"""EKS checks: version support and its price, add-ons, upgrade insights, the API endpoint,
control-plane logs, secrets encryption, clusters too small to carry their control plane, and
node groups behind their AMI release or on x86 where Graviton would do."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param
from auditor.cost.model import extended_support_extra, graviton_types
from auditor.data import SupportWindow, eks_calendar, eks_support_window, version_key
from auditor.findings import Category, Finding, Severity
from auditor.model import ClusterNode, EksCluster, EksNodegroup, FargateProfile, Inventory
from auditor.params import COUNT

_OPEN = ("0.0.0.0/0", "::/0")


def _clusters_by_name(inventory: Inventory) -> dict[tuple[str, str, str], EksCluster]:
    return {(c.account, c.region, c.name): c for c in inventory.eks_clusters}


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment else None


# --------------------------------------------------------------------------- versions


class ExtendedSupport(Check):
    id = "eks.extended_support"
    title = "EKS cluster in (or near) extended support"
    severity = Severity.HIGH
    category = Category.COST
    rationale = (
        "Fourteen months after a Kubernetes version's EKS release, standard support ends and "
        "the cluster moves to extended support, which bills the control plane at $0.60/h "
        "instead of $0.10/h (six times as much) for up to twelve months; after that AWS "
        "upgrades the cluster on its own schedule."
    )
    remediation = (
        "Plan the upgrade: check the cluster's upgrade insights and add-on compatibility, then "
        "upgrade the control plane one minor version at a time (`aws eks update-cluster-version`) "
        "and the node groups after it."
    )
    requires = frozenset({"eks.clusters", "eks.cluster_versions"})
    subject_kinds = ("eks-cluster",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "warn_days": Param(90, "also flag clusters whose standard support ends within this "
                               "many days", COUNT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for cluster in inventory.eks_clusters:
            window = eks_support_window(cluster.version, cluster.version_support)
            if window is not None:
                finding = self._judge(cluster, window, ctx)
            else:
                finding = self._unlisted(cluster, ctx)
            if finding is not None:
                yield finding

    @staticmethod
    def _extra(cluster: EksCluster, ctx: CheckContext) -> tuple[float | None, float,
                                                               dict[str, Any]]:
        """The saving billed now (the cost model's, for this cluster) and what extended
        support adds to a month, with their evidence."""
        extra = extended_support_extra(ctx.prices.in_region(cluster.region))
        estimate = ctx.costs.of(cluster.arn)
        saving = estimate.savings.get("extended_support") if estimate else None
        return saving, extra.usd, {
            "monthly_extra_cost_usd": extra.usd,
            "arithmetic": f"{extra.formula} = ${extra.usd:,.2f}/month",
        }

    def _judge(self, cluster: EksCluster, window: SupportWindow, ctx: CheckContext
               ) -> Finding | None:
        warn_days = int(ctx.number("warn_days"))
        days_left = (window.end_of_standard - ctx.now).days
        saving, extra, cost = self._extra(cluster, ctx)
        standard, extended = _day(window.end_of_standard), _day(window.end_of_extended)
        if ctx.now >= window.end_of_extended:
            state = "past_extended_support"
            message = (f"EKS cluster {cluster.name} runs Kubernetes {cluster.version}, whose "
                       f"extended support ended on {extended}: it is billed at the extended "
                       f"rate until AWS upgrades it, ${extra:,.2f}/month more than standard.")
        elif ctx.now >= window.end_of_standard:
            state = "extended_support"
            message = (f"EKS cluster {cluster.name} runs Kubernetes {cluster.version}, in "
                       f"extended support since {standard} (until {extended}): its control "
                       f"plane costs ${extra:,.2f}/month more than on a standard-support "
                       "version.")
        elif days_left <= warn_days:
            state = "extended_support_soon"
            message = (f"EKS cluster {cluster.name} runs Kubernetes {cluster.version}, whose "
                       f"standard support ends in {days_left} days on {standard} (threshold "
                       f"{warn_days} days); from then its control plane costs "
                       f"${extra:,.2f}/month more.")
        else:
            return None
        billed_now = state != "extended_support_soon"
        return self.finding(
            cluster, message,
            {
                "version": cluster.version,
                "support_state": state,
                "end_of_standard_support": standard,
                "end_of_extended_support": extended,
                "days_until_end_of_standard_support": days_left,
                "api_version_status": (cluster.version_support.status
                                       if cluster.version_support else None),
                "dates_from": window.source,
                "warn_days": warn_days,
                **cost,
            },
            # Only money being spent now counts as a saving; the upcoming case is a warning.
            monthly_savings_usd=saving if billed_now else None,
            savings_kind="extended_support",
        )

    def _unlisted(self, cluster: EksCluster, ctx: CheckContext) -> Finding | None:
        """A version neither the API nor the calendar lists: older than the calendar means
        long past extended support; newer is not flagged, unless the API could not be asked,
        in which case a newer version may simply postdate the calendar."""
        calendar = eks_calendar()
        oldest, newest = calendar.oldest(), calendar.newest()
        evidence = {"version": cluster.version, "calendar": calendar.describe(),
                    "calendar_versions": f"{oldest} to {newest}",
                    "describe_cluster_versions_answered": cluster.version_calendar_answered}
        if cluster.version and version_key(cluster.version) < version_key(oldest):
            saving, extra, cost = self._extra(cluster, ctx)
            ended = _day(calendar.versions[oldest].end_of_extended_support)
            return self.finding(
                cluster,
                f"EKS cluster {cluster.name} runs Kubernetes {cluster.version}, older than "
                f"every version in the support calendar ({oldest}'s extended support ended on "
                f"{ended}): it is past extended support and billed at the extended rate, "
                f"${extra:,.2f}/month more than standard, until AWS upgrades it.",
                {**evidence, "support_state": "past_extended_support", **cost},
                monthly_savings_usd=saving,
                savings_kind="extended_support",
            )
        if cluster.version_calendar_answered:
            return None
        return replace(self.finding(
            cluster,
            f"Could not judge: Kubernetes {cluster.version} is not in the shipped calendar "
            f"(as of {calendar.as_of}, up to {newest}) and eks:DescribeClusterVersions failed.",
            evidence,
            remediation="Grant eks:DescribeClusterVersions (see `auditor iam-policy`) or "
                        "update the auditor for its newer version calendar.",
        ), status="unknown")


# --------------------------------------------------------------------------- add-ons, insights


class OutdatedAddons(Check):
    id = "eks.outdated_addons"
    title = "EKS add-on behind the default version for its cluster"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "EKS marks one version of each add-on as the default for every Kubernetes version: "
        "the one it tested with it. An add-on older than that default misses fixes, and is "
        "the usual blocker when the cluster is upgraded."
    )
    remediation = (
        "Update the add-on to the default version for the cluster's Kubernetes version "
        "(`aws eks update-addon`), after checking its configuration values still apply."
    )
    requires = frozenset({"eks.clusters", "eks.addons", "eks.addon_versions"})
    subject_kinds = ("eks-addon",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for addon in inventory.eks_addons:
            default = addon.default_version
            if not default or version_key(addon.version) >= version_key(default):
                continue
            yield self.finding(
                addon,
                f"Add-on {addon.name} {addon.version} on EKS cluster {addon.cluster_name} "
                f"(Kubernetes {addon.cluster_version}) is behind {default}, the default "
                "version for that Kubernetes version.",
                {
                    "cluster": addon.cluster_name,
                    "addon": addon.name,
                    "installed_version": addon.version,
                    "default_version": default,
                    "kubernetes_version": addon.cluster_version,
                    "status": addon.status,
                    "source": "eks:DescribeAddonVersions (defaultVersion)",
                },
                remediation=(f"aws eks update-addon --cluster-name {addon.cluster_name} "
                             f"--addon-name {addon.name} --addon-version {default} "
                             f"--region {addon.region}; check its configuration values first."),
            )


class UpgradeInsights(Check):
    id = "eks.upgrade_insights"
    title = "EKS insight not passing"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "EKS continuously checks each cluster for what would break on its next Kubernetes "
        "version (deprecated APIs in use, incompatible add-ons, kubelet skew) and for "
        "misconfiguration. An insight that is not passing is a known problem, named by AWS."
    )
    remediation = (
        "Read the insight (`aws eks describe-insight`) for the resources it names and its "
        "recommendation, fix them, and wait for the insight to refresh to PASSING."
    )
    requires = frozenset({"eks.clusters", "eks.insights"})
    subject_kinds = ("eks-cluster",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        clusters = _clusters_by_name(inventory)
        for insight in inventory.eks_insights:
            cluster = clusters.get((insight.account, insight.region, insight.cluster_name))
            if cluster is None or insight.status == "PASSING":
                continue
            reason = f": {insight.reason}" if insight.reason else ""
            yield self.finding(
                cluster,
                f"EKS cluster {cluster.name} (Kubernetes {cluster.version}) has insight "
                f"\"{insight.name}\" in status {insight.status} for Kubernetes "
                f"{insight.kubernetes_version}{reason}",
                {
                    "insight_id": insight.insight_id,
                    "insight": insight.name,
                    "category": insight.category,
                    "status": insight.status,
                    "reason": insight.reason,
                    "description": insight.description,
                    "kubernetes_version": insight.kubernetes_version,
                    "cluster_version": cluster.version,
                },
                sub_key=insight.insight_id,
                remediation=(f"aws eks describe-insight --cluster-name {cluster.name} --id "
                             f"{insight.insight_id} --region {cluster.region}: fix the "
                             "resources it lists, then let it refresh to PASSING."),
            )


# --------------------------------------------------------------------------- configuration


class PublicEndpointOpen(Check):
    id = "eks.public_endpoint_open"
    title = "EKS API endpoint open to the internet"
    severity = Severity.HIGH
    category = Category.SECURITY
    rationale = (
        "A public Kubernetes API endpoint that allows 0.0.0.0/0 can be reached, probed and "
        "brute-forced from anywhere; a leaked credential or an API server flaw is then enough."
    )
    remediation = (
        "Turn on the private endpoint and either turn off public access or limit "
        "publicAccessCidrs to the addresses that need it (`aws eks update-cluster-config "
        "--resources-vpc-config endpointPrivateAccess=true,publicAccessCidrs=...`)."
    )
    requires = frozenset({"eks.clusters"})
    subject_kinds = ("eks-cluster",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for cluster in inventory.eks_clusters:
            open_to = [c for c in cluster.public_access_cidrs if c in _OPEN]
            if not cluster.endpoint_public_access or not open_to:
                continue
            private = ("the private endpoint is on" if cluster.endpoint_private_access
                       else "there is no private endpoint, so nodes use the public one too")
            yield self.finding(
                cluster,
                f"EKS cluster {cluster.name} serves its API publicly to "
                f"{' and '.join(open_to)}; {private}.",
                {
                    "endpoint_public_access": True,
                    "endpoint_private_access": cluster.endpoint_private_access,
                    "public_access_cidrs": list(cluster.public_access_cidrs),
                    "open_cidrs": open_to,
                },
            )


class ControlPlaneLoggingDisabled(Check):
    id = "eks.control_plane_logging_disabled"
    title = "EKS control-plane logs not sent to CloudWatch"
    severity = Severity.LOW
    category = Category.OPERATIONS
    rationale = (
        "Without the API server, audit and authenticator logs there is no record of who "
        "changed what in the cluster, and no way to investigate an incident after the fact."
    )
    remediation = (
        "Enable the missing log types (`aws eks update-cluster-config --logging "
        "'{\"clusterLogging\":[{\"types\":[...],\"enabled\":true}]}'`) and give their log "
        "group a retention period."
    )
    requires = frozenset({"eks.clusters"})
    subject_kinds = ("eks-cluster",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "required_log_types": Param(
            "api,audit,authenticator",
            "comma-separated log types that must be on (api, audit, authenticator, "
            "controllerManager, scheduler)"),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        required = [t.strip() for t in str(ctx.params["required_log_types"]).split(",")
                    if t.strip()]
        for cluster in inventory.eks_clusters:
            missing = [t for t in required if t not in cluster.logging_enabled]
            if not missing:
                continue
            enabled = ", ".join(cluster.logging_enabled) or "none"
            yield self.finding(
                cluster,
                f"EKS cluster {cluster.name} does not log {', '.join(missing)} "
                f"(enabled: {enabled}; required: {', '.join(required)}).",
                {"enabled_log_types": list(cluster.logging_enabled),
                 "required_log_types": required, "missing_log_types": missing},
            )


class SecretsEncryptionDisabled(Check):
    id = "eks.secrets_encryption_disabled"
    title = "EKS secrets not envelope-encrypted with a KMS key"
    severity = Severity.MEDIUM
    category = Category.SECURITY
    rationale = (
        "With a customer-managed KMS key for secrets encryption, Kubernetes secrets in etcd "
        "are encrypted under a key the account controls, audits in CloudTrail and can revoke. "
        "Without it, anyone who obtains an etcd backup or snapshot relies on AWS-owned keys "
        "alone."
    )
    remediation = (
        "Associate a customer-managed KMS key for secrets encryption (`aws eks "
        "associate-encryption-config` with resources [\"secrets\"] and the key ARN); it cannot "
        "be removed afterwards, and the key must stay enabled."
    )
    requires = frozenset({"eks.clusters"})
    subject_kinds = ("eks-cluster",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for cluster in inventory.eks_clusters:
            if cluster.secrets_encrypted:
                continue
            yield self.finding(
                cluster,
                f"EKS cluster {cluster.name} has no KMS key configured for envelope encryption "
                "of Kubernetes secrets.",
                {"encryption_config": "none for resource 'secrets'"},
            )


# --------------------------------------------------------------------------- cost


class UnderusedControlPlane(Check):
    id = "eks.underused_control_plane"
    title = "EKS cluster too small to carry its control plane"
    severity = Severity.INFO
    category = Category.COST
    rationale = (
        "Every EKS cluster pays $73/month for its control plane, however little it runs. "
        "Beside one small node that fee is most of the bill; the same pods on ECS, on a shared "
        "cluster or on Lambda pay no control plane at all. What moving saves is the cost "
        "model's migration estimate (cost.migration_opportunity), counted there once."
    )
    remediation = (
        "Move the workloads onto a shared cluster, or onto ECS or Lambda (see the workload "
        "estimate), and delete the cluster."
    )
    requires = frozenset({"eks.clusters", "eks.nodegroups", "eks.fargate_profiles",
                          "ec2.cluster_nodes"})
    subject_kinds = ("eks-cluster",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_nodes": Param(1, "flag when the cluster runs at most this many nodes (managed "
                              "node groups' desired sizes, plus Auto Mode, Karpenter and "
                              "self-managed nodes seen in EC2)", COUNT),
        "max_fargate_profiles": Param(0, "and the cluster has at most this many Fargate "
                                         "profiles (their pods are not visible to the check)",
                                      COUNT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        nodegroups: dict[tuple[str, str, str], list[EksNodegroup]] = defaultdict(list)
        for group in inventory.eks_nodegroups:
            nodegroups[(group.account, group.region, group.cluster_name)].append(group)
        profiles: dict[tuple[str, str, str], list[FargateProfile]] = defaultdict(list)
        for profile in inventory.fargate_profiles:
            profiles[(profile.account, profile.region, profile.cluster_name)].append(profile)
        # Managed node groups are counted by their desired size; the instances they launched
        # carry their tag too, and are not counted twice.
        others: dict[tuple[str, str, str], list[ClusterNode]] = defaultdict(list)
        for node in inventory.cluster_nodes:
            if node.provisioner != "managed-nodegroup":
                others[(node.account, node.region, node.cluster_name)].append(node)
        for cluster in inventory.eks_clusters:
            if cluster.status == "CREATING":
                continue  # its node groups may not exist yet
            key = (cluster.account, cluster.region, cluster.name)
            finding = self._judge(cluster, nodegroups[key], others[key], profiles[key], ctx)
            if finding is not None:
                yield finding

    def _judge(self, cluster: EksCluster, groups: list[EksNodegroup], others: list[ClusterNode],
               profiles: list[FargateProfile], ctx: CheckContext) -> Finding | None:
        nodes = sum(g.desired_size for g in groups) + len(others)
        max_nodes, max_profiles = ctx.number("max_nodes"), ctx.number("max_fargate_profiles")
        if nodes > max_nodes or len(profiles) > max_profiles:
            return None
        estimate = ctx.costs.of(cluster.arn)
        line = estimate.current.line("control_plane") if estimate else None
        if line is None:
            return None
        control_plane = line.usd
        instance_types = sorted({t for g in groups for t in g.instance_types}
                                | {n.instance_type for n in others})
        shapes = Counter(n.provisioner for n in others)
        parts = ([f"{sum(g.desired_size for g in groups)} in {len(groups)} managed node "
                  "group(s)"] if groups else []) + [
            f"{count} {provisioner}" for provisioner, count in sorted(shapes.items())]
        runs = (f"{nodes} node(s) ({', '.join(instance_types) or 'instance type not set'}: "
                f"{'; '.join(parts)})" if nodes else "no nodes")
        mode = " in EKS Auto Mode" if cluster.auto_mode else ""
        return self.finding(
            cluster,
            f"EKS cluster {cluster.name}{mode} runs {runs} and {len(profiles)} Fargate "
            f"profile(s) (thresholds: at most {max_nodes:g} node(s), {max_profiles:g} "
            f"profile(s)), yet pays ${control_plane:,.2f}/month for its control plane.",
            {
                "nodes": nodes,
                "nodegroups": {g.name: g.desired_size for g in groups},
                "other_nodes": {n.instance_id: {"provisioner": n.provisioner,
                                                "instance_type": n.instance_type,
                                                "node_pool": n.node_pool}
                                for n in others},
                "auto_mode": cluster.auto_mode,
                "instance_types": instance_types,
                "fargate_profiles": [p.name for p in profiles],
                "thresholds": {k: ctx.params[k] for k in self.parameters},
                "control_plane_monthly_usd": control_plane,
                "arithmetic": f"{line.formula} = ${control_plane:,.2f}",
                "not_visible": "pods on Fargate",
                # What moving off the cluster saves is counted once, by the cost model's
                # migration (cost.migration_opportunity), not again here.
                "saving_counted_by": "cost.migration_opportunity",
            },
        )


# --------------------------------------------------------------------------- node groups


class NodeAmiOutdated(Check):
    id = "eks.node_ami_outdated"
    title = "EKS node group behind the recommended AMI release"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "EKS publishes a new optimized AMI release every few weeks, with the kernel, "
        "container runtime and kubelet patches of its Kubernetes version. A managed node group "
        "keeps the release it was last updated to: its nodes miss those fixes until someone "
        "updates it, and the longer it waits, the larger the jump. The recommended release "
        "is read from the SSM public parameters EKS publishes for each Kubernetes version and "
        "AMI type. Node groups on custom AMIs (AMI type CUSTOM, from a launch template) are not "
        "judged: their image is whatever the launch template names."
    )
    remediation = (
        "Update the node group to the latest AMI release (`aws eks update-nodegroup-version "
        "--cluster-name <cluster> --nodegroup-name <group>` with no release version takes the "
        "latest for its Kubernetes version); EKS replaces the nodes in a rolling update that "
        "respects pod disruption budgets."
    )
    requires = frozenset({"eks.nodegroups", "eks.node_amis"})
    subject_kinds = ("eks-nodegroup",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_days_behind": Param(30, "flag when the recommended release was built at least "
                                     "this many days after the node group's", COUNT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for group in inventory.eks_nodegroups:
            if group.ami_type == "CUSTOM":
                continue
            reason = _unjudged_release(group)
            if reason is not None:
                yield self.unknown(group, reason, {"ami_type": group.ami_type,
                                                   "release_version": group.release_version,
                                                   "parameter": group.release_parameter})
                continue
            finding = self._judge(group, ctx)
            if finding is not None:
                yield finding

    def _judge(self, group: EksNodegroup, ctx: CheckContext) -> Finding | None:
        current, recommended = group.release_version or "", group.recommended_release or ""
        if version_key(current) >= version_key(recommended):
            return None
        days = _days_between(current, recommended)
        threshold = ctx.number("min_days_behind")
        if days is not None and days < threshold:
            return None
        behind = f"{days} days" if days is not None else "an unknown number of days"
        return self.finding(
            group,
            f"Node group {group.name} of EKS cluster {group.cluster_name} runs AMI release "
            f"{current}; the recommended release for Kubernetes {group.version} "
            f"({group.ami_type}) is {recommended}, built {behind} later (threshold "
            f"{threshold:g} days).",
            {
                "cluster": group.cluster_name,
                "kubernetes_version": group.version,
                "ami_type": group.ami_type,
                "release_version": current,
                "recommended_release": recommended,
                "days_behind": days,
                "min_days_behind": threshold,
                "source": f"SSM public parameter {group.release_parameter}",
            },
        )


def _unjudged_release(group: EksNodegroup) -> str | None:
    """Why the node group's release cannot be compared, or None when it can."""
    if group.release_parameter is None:
        return (f"node group {group.name} runs AMI type {group.ami_type or 'unknown'} on "
                f"Kubernetes {group.version or 'unknown'}, for which EKS publishes no "
                "recommended release parameter the auditor reads")
    if group.recommended_release is None:
        return (f"SSM does not publish {group.release_parameter} (recommended release for "
                f"node group {group.name})")
    if not group.release_version:
        return f"node group {group.name} reports no AMI release version"
    return None


def _days_between(older: str, newer: str) -> int | None:
    """Days between the build dates release versions end with (`1.31.3-20250103`)."""
    dates = [_build_date(v) for v in (older, newer)]
    if dates[0] is None or dates[1] is None:
        return None
    return (dates[1] - dates[0]).days


def _build_date(release: str) -> datetime | None:
    stamp = release.rsplit("-", 1)[-1]
    try:
        return datetime.strptime(stamp, "%Y%m%d")
    except ValueError:
        return None


class GravitonCandidate(Check):
    id = "eks.graviton_candidate"
    title = "x86 EKS node group that could run on Graviton for less"
    severity = Severity.LOW
    category = Category.COST
    rationale = (
        "Graviton (arm64) instances cost about 20% less than the x86 instances of the same "
        "size and class, and most containerised services run on them unchanged once their "
        "images are built for arm64. A managed node group on an x86 family with a Graviton "
        "counterpart pays the difference on every node, every hour; the saving is the cost "
        "model's (on-demand groups: its desired size of its first instance type, on the "
        "Graviton type's price). The auditor does not read the Kubernetes API: the pods a node "
        "group runs, and whether their images have arm64 builds, cannot be seen, so it is "
        "judged on its instance types alone, and the finding says so."
    )
    remediation = (
        "Check that the workloads' images are multi-architecture (`docker buildx imagetools "
        "inspect <image>` lists linux/arm64), then add a node group on the Graviton type with "
        "an arm64 AMI type (AL2023_ARM_64_STANDARD), move the workloads over with node "
        "affinity or by draining, and remove the x86 group."
    )
    requires = frozenset({"eks.clusters", "eks.nodegroups"})
    subject_kinds = ("eks-nodegroup",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_monthly_savings_usd": Param(1.0, "flag an on-demand node group when the monthly "
                                              "saving is at least this", COUNT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        clusters = _clusters_by_name(inventory)
        for group in inventory.eks_nodegroups:
            if not group.instance_types and "ARM_64" not in (group.ami_type or ""):
                yield self.unknown(group, f"node group {group.name} names no instance type "
                                          "(its launch template does, which is not read)")
                continue
            arm = graviton_types(group.ami_type, group.instance_types)
            cluster = clusters.get((group.account, group.region, group.cluster_name))
            if arm is None or cluster is None:
                continue
            finding = self._judge(group, cluster, arm, ctx)
            if finding is not None:
                yield finding

    def _judge(self, group: EksNodegroup, cluster: EksCluster, arm: Mapping[str, str],
               ctx: CheckContext) -> Finding | None:
        threshold = ctx.number("min_monthly_savings_usd")
        saving, arithmetic = None, None
        if group.capacity_type != "SPOT":
            estimate = ctx.costs.of(cluster.arn)
            priced = estimate.usage.get("graviton", {}) if estimate else {}
            if estimate is None or group.name not in priced:
                return None
            # The cluster's arm64 saving, shared among its groups by what each saves.
            total = sum(g["exact"] for g in priced.values())
            saving = estimate.savings.get("arm64", 0.0) * priced[group.name]["exact"] / total
            arithmetic = priced[group.name]["arithmetic"]
            if saving < threshold:
                return None
        how = (f"${saving:,.2f}/month less (threshold ${threshold:g})" if saving is not None
               else "less (a Spot group: the Graviton type's Spot price is not read, so the "
                    "saving is not priced)")
        types = ", ".join(f"{t} -> {a}" for t, a in arm.items())
        return self.finding(
            group,
            f"Node group {group.name} of EKS cluster {group.cluster_name} runs "
            f"{group.desired_size} x86 node(s) ({types}); on the Graviton types of the same "
            f"size it would cost {how}. Its workloads cannot be seen: judged on its instance "
            "types only; check their images have arm64 builds first.",
            {
                "cluster": group.cluster_name,
                "cluster_arn": cluster.arn,
                "ami_type": group.ami_type,
                "capacity_type": group.capacity_type,
                "desired_size": group.desired_size,
                "arm64_equivalents": dict(arm),
                "monthly_saving_usd": None if saving is None else round(saving, 2),
                "arithmetic": arithmetic,
                "threshold_usd": threshold,
                "not_seen": "the pods it runs and whether their images have arm64 builds "
                            "(the Kubernetes API is not read)",
            },
            monthly_savings_usd=saving,
            savings_kind="arm64",
        )
