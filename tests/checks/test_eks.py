"""EKS checks: version support and its cost, add-ons, insights, endpoint, logging, secrets
encryption and underused control planes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from auditor.check import Check
from auditor.data import eks_calendar
from auditor.engine import run_checks
from auditor.findings import Finding, Severity
from auditor.metrics import MetricStore
from auditor.model import (
    ClusterNode,
    CollectionError,
    EksAddon,
    EksCluster,
    EksInsight,
    EksVersionSupport,
    FargateProfile,
    NodeProvisioner,
    Scope,
)
from auditor.model import Inventory as Inv
from auditor.pricing.book import PriceBook
from checks.eks import (
    ControlPlaneLoggingDisabled,
    ExtendedSupport,
    GravitonCandidate,
    NodeAmiOutdated,
    OutdatedAddons,
    PublicEndpointOpen,
    SecretsEncryptionDisabled,
    UnderusedControlPlane,
    UpgradeInsights,
)
from tests import factories as f


def run(check: Check, inventory: Inv) -> list[Finding]:
    return list(check.evaluate(inventory, f.context(check, inventory=inventory)))


def cluster(version: str = "1.34", **changes: object) -> EksCluster:
    fields: dict[str, object] = {"version_calendar_answered": True, **changes}
    return replace(f.eks_cluster(), version=version, **fields)  # type: ignore[arg-type]


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --------------------------------------------------------------------------- extended support
# f.NOW is 2026-11-23.


@pytest.mark.fires("eks.extended_support")
def test_version_in_extended_support_costs_the_difference() -> None:
    [finding] = run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.32", status="ACTIVE"),)))
    # 1.32: standard support ended 2026-03-23, extended support runs to 2027-03-23.
    assert finding.evidence["support_state"] == "extended_support"
    assert finding.monthly_savings_usd == pytest.approx((0.60 - 0.10) * 730)
    assert finding.evidence["arithmetic"] == "($0.60 - $0.10)/h x 730 h = $365.00/month"
    assert finding.evidence["dates_from"].startswith("shipped calendar")
    assert "2026-03-23" in finding.message and "$365.00/month" in finding.message


def test_past_extended_support_is_still_billed_at_the_extended_rate() -> None:
    [finding] = run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.29"),)))
    assert finding.evidence["support_state"] == "past_extended_support"
    assert finding.monthly_savings_usd == 365.0


def test_within_90_days_of_extended_support_warns_without_a_saving() -> None:
    # 1.34: standard support ends 2026-12-02, 9 days after f.NOW.
    [finding] = run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.34"),)))
    assert finding.evidence["support_state"] == "extended_support_soon"
    assert finding.evidence["days_until_end_of_standard_support"] == 8
    assert finding.monthly_savings_usd is None
    assert finding.severity == Severity.HIGH


@pytest.mark.quiet("eks.extended_support")
def test_version_in_standard_support_beyond_the_warning_is_quiet() -> None:
    # 1.35: standard support until 2027-03-27, 124 days away.
    assert run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.35"),))) == []
    assert run(ExtendedSupport({"warn_days": 130}), Inv(eks_clusters=(cluster("1.35"),)))


def test_api_dates_win_over_the_shipped_calendar() -> None:
    api = EksVersionSupport("1.35", "EXTENDED_SUPPORT", day("2026-10-01"), day("2027-10-01"))
    [finding] = run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.35", version_support=api),)))
    assert finding.evidence["dates_from"] == "eks:DescribeClusterVersions"
    assert finding.evidence["api_version_status"] == "EXTENDED_SUPPORT"
    assert finding.evidence["end_of_standard_support"] == "2026-10-01"


def test_unknown_older_version_is_flagged_and_unknown_newer_is_not() -> None:
    [old] = run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.21"),)))
    assert old.evidence["support_state"] == "past_extended_support"
    assert old.monthly_savings_usd == 365.0
    assert "older than every version" in old.message
    assert run(ExtendedSupport(), Inv(eks_clusters=(cluster("1.40"),))) == []


def test_failed_api_leaves_only_versions_the_calendar_lacks_unknown() -> None:
    failed = {"version_calendar_answered": False}
    covered, newer = cluster("1.35", **failed), cluster("1.40", name="next", **failed)
    newer = replace(newer, arn=newer.arn.replace("platform", "next"))
    [finding] = run(ExtendedSupport(), Inv(eks_clusters=(covered, newer)))
    assert finding.status == "unknown" and finding.resource_arn == newer.arn
    assert "DescribeClusterVersions failed" in finding.message
    assert finding.evidence["calendar"] == eks_calendar().describe()


def test_the_calendar_names_its_source_and_matches_the_spec() -> None:
    calendar = eks_calendar()
    assert calendar.source and calendar.as_of
    window = calendar.versions["1.31"]
    assert (window.end_of_standard_support, window.end_of_extended_support) == (
        day("2025-11-26"), day("2026-11-26"))


# --------------------------------------------------------------------------- add-ons, insights


def addon(name: str, version: str, default: str | None) -> EksAddon:
    return EksAddon(f"arn:aws:eks:{f.REGION}:{f.ACCOUNT}:addon/platform/{name}/1", f.ACCOUNT,
                    f.REGION, name, "platform", version, "ACTIVE", cluster_version="1.31",
                    default_version=default)


@pytest.mark.fires("eks.outdated_addons")
def test_addon_behind_its_default_is_flagged_with_the_update_command() -> None:
    [finding] = run(OutdatedAddons(), Inv(eks_addons=(
        addon("vpc-cni", "v1.16.0-eksbuild.1", "v1.18.3-eksbuild.2"),)))
    assert finding.evidence["default_version"] == "v1.18.3-eksbuild.2"
    assert "--addon-version v1.18.3-eksbuild.2" in finding.remediation
    assert "Kubernetes 1.31" in finding.message


@pytest.mark.quiet("eks.outdated_addons")
def test_addon_at_or_past_its_default_or_without_one_is_quiet() -> None:
    addons = (addon("coredns", "v1.11.3-eksbuild.2", "v1.11.3-eksbuild.2"),
              addon("kube-proxy", "v1.31.3-eksbuild.2", "v1.31.2-eksbuild.3"),
              addon("custom", "v0.1.0", None))
    assert run(OutdatedAddons(), Inv(eks_addons=addons)) == []


def test_build_numbers_compare_as_numbers() -> None:
    assert run(OutdatedAddons(), Inv(eks_addons=(
        addon("coredns", "v1.11.1-eksbuild.9", "v1.11.1-eksbuild.10"),)))


def insight(status: str, insight_id: str = "i-1") -> EksInsight:
    return EksInsight(f"arn:aws:eks:{f.REGION}:{f.ACCOUNT}:cluster/platform/insight/{insight_id}",
                      f.ACCOUNT, f.REGION, "platform", insight_id, "Deprecated APIs",
                      "UPGRADE_READINESS", "1.32", status, "2 deprecated APIs in use", "")


@pytest.mark.fires("eks.upgrade_insights")
def test_each_insight_not_passing_is_a_finding_on_its_cluster() -> None:
    inventory = Inv(eks_clusters=(cluster(),),
                    eks_insights=(insight("ERROR"), insight("WARNING", "i-2")))
    findings = run(UpgradeInsights(), inventory)
    assert {x.sub_key for x in findings} == {"i-1", "i-2"}
    assert {x.resource_arn for x in findings} == {cluster().arn}
    assert "2 deprecated APIs in use" in findings[0].message
    assert len({x.fingerprint for x in findings}) == 2


@pytest.mark.quiet("eks.upgrade_insights")
def test_passing_insights_are_quiet() -> None:
    assert run(UpgradeInsights(), Inv(eks_clusters=(cluster(),),
                                      eks_insights=(insight("PASSING"),))) == []


# --------------------------------------------------------------------------- configuration


@pytest.mark.fires("eks.public_endpoint_open")
def test_public_endpoint_open_to_everyone() -> None:
    [finding] = run(PublicEndpointOpen(), Inv(eks_clusters=(cluster(),)))
    assert finding.evidence["open_cidrs"] == ["0.0.0.0/0"]
    assert "private endpoint is on" in finding.message


@pytest.mark.quiet("eks.public_endpoint_open")
def test_restricted_or_private_endpoint_is_quiet() -> None:
    restricted = cluster(public_access_cidrs=("203.0.113.0/24",))
    private = cluster(endpoint_public_access=False)
    assert run(PublicEndpointOpen(), Inv(eks_clusters=(restricted,))) == []
    assert run(PublicEndpointOpen(), Inv(eks_clusters=(private,))) == []


@pytest.mark.fires("eks.control_plane_logging_disabled")
def test_missing_log_types_are_named() -> None:
    [finding] = run(ControlPlaneLoggingDisabled(),
                    Inv(eks_clusters=(cluster(logging_enabled=("api",)),)))
    assert finding.evidence["missing_log_types"] == ["audit", "authenticator"]


@pytest.mark.quiet("eks.control_plane_logging_disabled")
def test_required_log_types_on_is_quiet_and_the_list_is_configurable() -> None:
    logged = cluster(logging_enabled=("api", "audit", "authenticator"))
    assert run(ControlPlaneLoggingDisabled(), Inv(eks_clusters=(logged,))) == []
    check = ControlPlaneLoggingDisabled({"required_log_types": "api, audit, scheduler"})
    [finding] = run(check, Inv(eks_clusters=(logged,)))
    assert finding.evidence["missing_log_types"] == ["scheduler"]


@pytest.mark.fires("eks.secrets_encryption_disabled")
def test_no_kms_key_for_secrets() -> None:
    assert run(SecretsEncryptionDisabled(), Inv(eks_clusters=(cluster(secrets_encrypted=False),)))


@pytest.mark.quiet("eks.secrets_encryption_disabled")
def test_kms_encrypted_secrets_are_quiet() -> None:
    assert run(SecretsEncryptionDisabled(), Inv(eks_clusters=(cluster(),))) == []


def test_deleting_clusters_are_not_judged() -> None:
    assert run(PublicEndpointOpen(), Inv(eks_clusters=(cluster(status="DELETING"),))) == []


# --------------------------------------------------------------------------- underused


def profile(name: str = "jobs") -> FargateProfile:
    return FargateProfile(f"arn:aws:eks:{f.REGION}:{f.ACCOUNT}:fargateprofile/platform/{name}/1",
                          f.ACCOUNT, f.REGION, name, "platform", ("subnet-1",),
                          f"arn:aws:iam::{f.ACCOUNT}:role/pods", ("jobs",))


@pytest.mark.fires("eks.underused_control_plane")
def test_one_node_cluster_pays_mostly_for_its_control_plane() -> None:
    one = replace(f.nodegroup(), desired_size=1, min_size=1)
    [finding] = run(UnderusedControlPlane(), Inv(eks_clusters=(cluster(),),
                                                 eks_nodegroups=(one,)))
    # What moving saves is the cost model's migration, claimed once by
    # cost.migration_opportunity: this finding claims nothing beside it.
    assert finding.monthly_savings_usd is None
    assert finding.evidence["control_plane_monthly_usd"] == 73.0
    assert finding.evidence["nodes"] == 1
    assert finding.evidence["instance_types"] == ["m6i.large"]
    assert "$73.00/month" in finding.message


@pytest.mark.quiet("eks.underused_control_plane")
def test_clusters_with_more_nodes_or_fargate_pods_are_quiet() -> None:
    assert run(UnderusedControlPlane(), Inv(eks_clusters=(cluster(),),
                                            eks_nodegroups=(f.nodegroup(),))) == []
    assert run(UnderusedControlPlane(), Inv(eks_clusters=(cluster(),),
                                            fargate_profiles=(profile(),))) == []
    check = UnderusedControlPlane({"max_nodes": 2})
    assert run(check, Inv(eks_clusters=(cluster(),), eks_nodegroups=(f.nodegroup(),)))


def test_a_cluster_with_no_nodes_at_all_is_flagged_and_says_what_it_cannot_see() -> None:
    [finding] = run(UnderusedControlPlane(), Inv(eks_clusters=(cluster(),)))
    assert "runs no nodes" in finding.message
    assert finding.evidence["not_visible"] == "pods on Fargate"
    assert run(UnderusedControlPlane(), Inv(eks_clusters=(cluster(status="CREATING"),))) == []


def node(instance_id: str, provisioner: NodeProvisioner, pool: str | None = None
         ) -> ClusterNode:
    return ClusterNode(f"arn:aws:ec2:{f.REGION}:{f.ACCOUNT}:instance/{instance_id}", f.ACCOUNT,
                       f.REGION, instance_id, "m7g.large", "platform", provisioner,
                       "general" if provisioner == "managed-nodegroup" else None, pool, False,
                       "running")


def test_auto_mode_and_karpenter_nodes_count_as_nodes() -> None:
    # Recorded shape: an Auto Mode cluster (computeConfig.enabled) lists no node groups; its
    # nodes are EC2 instances tagged eks:eks-cluster-name and eks:kubernetes-node-pool-name.
    auto = cluster(auto_mode=True)
    pools = (node("i-1", "auto-mode", "general-purpose"), node("i-2", "auto-mode", "system"),
             node("i-3", "karpenter", "batch"))
    assert run(UnderusedControlPlane(), Inv(eks_clusters=(auto,), cluster_nodes=pools)) == []
    [small] = run(UnderusedControlPlane(), Inv(eks_clusters=(auto,), cluster_nodes=pools[:1]))
    assert "in EKS Auto Mode runs 1 node(s)" in small.message
    assert small.evidence["other_nodes"]["i-1"]["node_pool"] == "general-purpose"


def test_a_managed_node_groups_instances_are_not_counted_twice() -> None:
    one = replace(f.nodegroup(), desired_size=1, min_size=1)
    [finding] = run(UnderusedControlPlane(), Inv(
        eks_clusters=(cluster(),), eks_nodegroups=(one,),
        cluster_nodes=(node("i-1", "managed-nodegroup"),)))
    assert finding.evidence["nodes"] == 1


def test_a_cluster_whose_nodes_could_not_be_read_is_unknown_not_nodeless() -> None:
    denied = CollectionError(f.ACCOUNT, f.REGION, "ec2", "DescribeInstances",
                             "UnauthorizedOperation", "no", ("ec2.cluster_nodes",))
    inventory = Inv(scopes=(Scope(f.ACCOUNT, f.REGION),), errors=(denied,),
                    eks_clusters=(cluster(auto_mode=True),))
    [finding] = run_checks([UnderusedControlPlane()], inventory, MetricStore(), f.NOW, 14,
                           PriceBook()).findings
    assert finding.status == "unknown" and finding.monthly_savings_usd is None
    assert "ec2:DescribeInstances UnauthorizedOperation" in finding.message


# --------------------------------------------------------------------------- node_ami_outdated

AL2_PARAMETER = "/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/release_version"


def amis(release: str | None, recommended: str | None = "1.31.7-20250505",
         **changes: object) -> list[Finding]:
    fields = {"release_parameter": AL2_PARAMETER, **changes}
    group = replace(f.nodegroup(), release_version=release, recommended_release=recommended,
                    **fields)  # type: ignore[arg-type]
    return run(NodeAmiOutdated(), Inv(eks_nodegroups=(group,)))


@pytest.mark.fires("eks.node_ami_outdated")
def test_a_node_group_months_behind_the_recommended_release_is_flagged() -> None:
    [finding] = amis("1.31.2-20250103")
    assert finding.status == "fail"
    assert finding.evidence["days_behind"] == 122
    assert finding.evidence["recommended_release"] == "1.31.7-20250505"
    assert AL2_PARAMETER in finding.evidence["source"]
    assert "122 days later (threshold 30 days)" in finding.message


@pytest.mark.quiet("eks.node_ami_outdated")
def test_current_recent_or_custom_node_groups_are_quiet() -> None:
    assert amis("1.31.7-20250505") == []
    assert amis("1.31.7-20250420") == []  # 15 days behind, under the threshold
    assert amis("1.19.8-20210414", ami_type="CUSTOM", release_parameter=None) == []


@pytest.mark.parametrize(("release", "recommended", "changes", "cause"), [
    ("1.31.2-20250103", None, {}, "SSM does not publish"),
    ("1.31.2-20250103", None, {"ami_type": "BOTTLEROCKET_x86_64", "release_parameter": None},
     "BOTTLEROCKET_x86_64"),
    (None, "1.31.7-20250505", {}, "reports no AMI release version"),
])
def test_what_cannot_be_compared_is_unknown_never_a_pass(
        release: str | None, recommended: str | None, changes: dict[str, object],
        cause: str) -> None:
    [finding] = amis(release, recommended, **changes)
    assert finding.status == "unknown" and cause in finding.message


# --------------------------------------------------------------------------- graviton_candidate


def graviton(*types: str, **changes: object) -> list[Finding]:
    group = replace(f.nodegroup(), instance_types=types, **changes)  # type: ignore[arg-type]
    return run(GravitonCandidate(), Inv(eks_clusters=(cluster(),), eks_nodegroups=(group,)))


@pytest.mark.fires("eks.graviton_candidate")
def test_an_x86_group_with_a_graviton_counterpart_is_priced_by_the_cost_model() -> None:
    [finding] = graviton("m6i.large")  # two nodes
    book = PriceBook()
    m6i, m6g = book.instance_hour("m6i.large"), book.instance_hour("m6g.large")
    assert m6i is not None and m6g is not None
    assert finding.monthly_savings_usd == pytest.approx(2 * 730 * (m6i - m6g), abs=0.01)
    assert finding.savings_kind == "arm64"
    assert finding.evidence["arm64_equivalents"] == {"m6i.large": "m6g.large"}
    assert "workloads cannot be seen" in finding.message
    assert "arm64 builds" in finding.evidence["not_seen"]
    assert finding.evidence["arithmetic"] == (
        f"2 x 730 h x (${m6i:g} m6i.large - ${m6g:g} m6g.large)")
    [spot] = graviton("t3.medium", "t3a.medium", capacity_type="SPOT")
    assert spot.monthly_savings_usd is None and "not priced" in spot.message


@pytest.mark.quiet("eks.graviton_candidate")
def test_arm64_windows_gpu_and_tiny_groups_are_quiet() -> None:
    assert graviton("m7g.large", ami_type="AL2023_ARM_64_STANDARD") == []
    assert graviton("m6i.large", ami_type="WINDOWS_CORE_2022_x86_64") == []
    assert graviton("g5.xlarge", ami_type="AL2_x86_64_GPU") == []
    assert graviton("m6i.large", "g5.xlarge") == []  # not every type has a counterpart
    assert graviton("t3.nano", desired_size=1) == []  # $0.73/month, under $1


def test_a_group_whose_instance_types_are_not_seen_is_unknown() -> None:
    [finding] = graviton()
    assert finding.status == "unknown" and "launch template" in finding.message


def test_the_groups_of_one_cluster_share_its_arm64_saving_and_add_up_to_it() -> None:
    groups = (replace(f.nodegroup("a"), instance_types=("m6i.large",)),
              replace(f.nodegroup("b"), instance_types=("c6i.xlarge",), desired_size=3))
    inventory = Inv(eks_clusters=(cluster(),), eks_nodegroups=groups)
    check = GravitonCandidate()
    ctx = f.context(check, inventory=inventory)
    found = list(check.evaluate(inventory, ctx))
    estimate = ctx.costs.of(cluster().arn)
    assert estimate is not None and len(found) == 2
    assert sum(x.monthly_savings_usd or 0 for x in found) == pytest.approx(
        estimate.savings["arm64"], abs=0.01)
