"""Check discovery, selection, thresholds and the unknown-not-pass rule."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from auditor.check import Check, CheckContext
from auditor.config import CustomCheckSpec
from auditor.custom import build
from auditor.engine import Registry, instantiate, run_checks
from auditor.errors import CheckLoadError, ConfigError
from auditor.findings import Category, Finding, Severity
from auditor.metrics import MetricQuery, MetricStore, lambda_query
from auditor.model import CollectionError, Inventory, Scope
from auditor.pricing.book import PriceBook
from checks.iam import SharedRole
from checks.network import PrivateSubnetNoEgress
from tests import factories as f

SCOPE = Scope(f.ACCOUNT, f.REGION)


def run(checks: list, inventory: Inventory) -> list:  # type: ignore[type-arg]
    return list(run_checks(checks, inventory, MetricStore(), f.NOW, 14, PriceBook()).findings)


def test_select_with_globs_and_skips() -> None:
    registry = Registry.build(include_entry_points=False)
    ids = [c.id for c in registry.select(["network.*", "iam.*"], ["iam.*"])]
    assert ids == ["network.cross_az_nat", "network.idle_nat_gateway",
                   "network.private_subnet_no_egress", "network.single_az"]


def test_a_glob_matching_nothing_is_a_config_error_with_a_hint() -> None:
    registry = Registry.build(include_entry_points=False)
    with pytest.raises(ConfigError, match=r"did you mean iam\.shared_role"):
        registry.select(["iam.shared_rol"])


def test_unknown_threshold_name_is_rejected_with_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'cpu_max_percent'"):
        instantiate([Registry.build().get("ecs.task_overprovisioned")],
                    {"ecs.task_overprovisioned": {"cpu_max_percnt": 30}})


def test_threshold_of_the_wrong_type_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"cpu_max_percent must be a number, got 'forty'"):
        instantiate([Registry.build().get("ecs.task_overprovisioned")],
                    {"ecs.task_overprovisioned": {"cpu_max_percent": "forty"}})


def test_checks_dir_modules_are_discovered(tmp_path: Path) -> None:
    (tmp_path / "team_checks.py").write_text(textwrap.dedent('''
        from auditor.check import Check
        from auditor.findings import Category, Severity

        class BigLambda(Check):
            id = "team.big_lambda"
            title = "Lambda with more than 4 GB"
            severity = Severity.LOW
            category = Category.COST
            rationale = "Team rule."
            remediation = "Shrink it."
            requires = frozenset({"lambda.functions"})
            subject_kinds = ("lambda-function",)

            def evaluate(self, inventory, ctx):
                for fn in inventory.lambda_functions:
                    if fn.memory_mb > 4096:
                        yield self.finding(fn, f"{fn.name} has {fn.memory_mb} MB", {})
    '''))
    registry = Registry.build([tmp_path], include_entry_points=False)
    check_class = registry.get("team.big_lambda")
    assert registry.source("team.big_lambda") == str(tmp_path / "team_checks.py")
    big = f.function("big", "arn:aws:iam::123456789012:role/r", memory=8192)
    small = f.function("small", "arn:aws:iam::123456789012:role/r", memory=512)
    findings = run([check_class()], Inventory(lambda_functions=(big, small)))
    assert [x.resource_arn for x in findings] == [big.arn]


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dup.py").write_text(textwrap.dedent('''
        from checks.iam import SharedRole

        class Again(SharedRole):
            pass
    '''))
    with pytest.raises(CheckLoadError, match="defined twice"):
        Registry.build([tmp_path], include_entry_points=False)


def test_broken_user_module_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import nonexistent_module_xyz\n")
    with pytest.raises(CheckLoadError, match=r"broken\.py: failed to import"):
        Registry.build([tmp_path], include_entry_points=False)


def test_entry_point_checks_are_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import engine

    class FakeEntryPoint:
        name = "team"
        value = "checks.iam"
        dist = None

        def load(self) -> object:
            import checks.iam
            return checks.iam

    installed = engine.metadata.entry_points
    monkeypatch.setattr(engine.metadata, "entry_points",
                        lambda group: [*installed(group=group), FakeEntryPoint()])
    # The module's check is already built in, so loading it again must be refused by id.
    with pytest.raises(CheckLoadError, match="defined twice"):
        Registry.build()


def test_a_plugin_class_that_misdeclares_itself_is_one_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import engine

    class NoTitle(PrivateSubnetNoEgress):
        id = "team.no_title"
        requires = frozenset({"no.such_dataset"})

    class FakeEntryPoint:
        name = "team"
        value = "team_checks:NoTitle"
        dist = None

        def load(self) -> object:
            return NoTitle

    installed = engine.metadata.entry_points
    monkeypatch.setattr(engine.metadata, "entry_points",
                        lambda group: [*installed(group=group), FakeEntryPoint()])
    with pytest.raises(CheckLoadError, match=r"^entry point team \(team_checks:NoTitle\): "
                                             r"check team.no_title requires unknown datasets"):
        Registry.build()
    # The class was not changed by the attempt.
    assert "source" not in vars(NoTitle)


def custom_spec(condition: str = "memory_mb > `4096`") -> CustomCheckSpec:
    return CustomCheckSpec("custom.big_lambda", "Big Lambda", "low", "cost", "lambda-function",
                           condition, "Function has more than 4 GB", "Shrink it.", "Team rule.")


def test_declarative_check_matches_with_jmespath() -> None:
    check = build(custom_spec())()
    big = f.function("big", "arn:aws:iam::123456789012:role/r", memory=8192)
    small = f.function("small", "arn:aws:iam::123456789012:role/r", memory=512)
    [finding] = run([check], Inventory(lambda_functions=(big, small)))
    assert finding.resource_arn == big.arn
    assert finding.evidence == {"condition": "memory_mb > `4096`",
                                "resource_type": "lambda-function"}
    # The functions' tags too: `auditor:ignore` and tag suppressions apply to its findings.
    assert check.iam_actions == {"lambda:ListFunctions", "tag:GetResources"}


def test_declarative_check_with_bad_jmespath_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid JMESPath"):
        build(custom_spec("memory_mb >>> 3"))


def test_declarative_check_never_echoes_environment_values() -> None:
    check = build(custom_spec("environment.DB_PASSWORD != null"))()
    fn = f.function("leaky", "arn:aws:iam::123456789012:role/r")
    fn = replace(fn, environment={"DB_PASSWORD": "hunter2-xyz"})
    [finding] = run([check], Inventory(lambda_functions=(fn,)))
    assert "hunter2-xyz" not in repr(finding)


def network_inventory(errors: tuple[CollectionError, ...]) -> Inventory:
    td = f.task_definition()
    return Inventory(scopes=(SCOPE,), subnets=(f.subnet("subnet-1"),), task_definitions=(td,),
                     ecs_services=(f.service("orders", td),), errors=errors)


def failure(dataset: str, service: str = "ec2", region: str = f.REGION) -> CollectionError:
    return CollectionError(f.ACCOUNT, region, service, "DescribeRouteTables", "AccessDenied",
                           "not authorized", (dataset,))


def test_failed_dependency_makes_the_subject_unknown_never_a_pass() -> None:
    [finding] = run([PrivateSubnetNoEgress()], network_inventory((failure("ec2.network"),)))
    assert finding.status == "unknown"
    assert finding.resource_arn.endswith("service/prod/orders")
    assert "ec2:DescribeRouteTables AccessDenied" in finding.message
    assert finding.evidence["missing_datasets"] == ["ec2.network"]


def test_failed_subject_listing_yields_one_unknown_for_the_scope() -> None:
    inventory = Inventory(scopes=(SCOPE,), errors=(failure("ecs.services", "ecs"),))
    [finding] = run([PrivateSubnetNoEgress()], inventory)
    assert finding.status == "unknown"
    assert finding.resource_arn == f"arn:aws:ecs:{f.REGION}:{f.ACCOUNT}:ecs-service/*"


def test_failure_of_an_unrelated_dataset_changes_nothing() -> None:
    clean = run([PrivateSubnetNoEgress()], network_inventory(()))
    unrelated = run([PrivateSubnetNoEgress()], network_inventory((failure("eks.clusters"),)))
    assert [x.fingerprint for x in clean] == [x.fingerprint for x in unrelated]


def test_account_wide_subjects_go_unknown_when_any_region_failed() -> None:
    shared = f.role("r")
    inventory = Inventory(scopes=(SCOPE,), iam_roles=(shared,),
                          errors=(failure("lambda.functions", "lambda"),))
    [finding] = run([SharedRole()], inventory)
    assert finding.status == "unknown" and finding.resource_arn == shared.arn


def test_a_check_that_raises_is_recorded_and_its_subjects_are_unknown() -> None:
    class Exploding(PrivateSubnetNoEgress):
        def evaluate(self, inventory, ctx):  # type: ignore[no-untyped-def]
            raise RuntimeError("bug")

    result = run_checks([Exploding()], network_inventory(()), MetricStore(), f.NOW, 14,
                        PriceBook())
    [error] = result.errors
    assert error.code == "RuntimeError"
    assert [x.status for x in result.findings] == ["unknown"]


def test_subject_requires_must_name_a_subject_kind_and_required_datasets() -> None:
    class Narrowed(PrivateSubnetNoEgress):
        subject_requires: ClassVar[Mapping[str, frozenset[str]]] = {
            "ecs-service": frozenset({"rds.databases"})}

    with pytest.raises(TypeError, match="subject_requires"):
        Narrowed.validate_declaration()
    PrivateSubnetNoEgress.validate_declaration()
    assert PrivateSubnetNoEgress().requires_for("lambda-function") == frozenset(
        {"lambda.functions", "ec2.network", "ec2.vpc_endpoints"})
    assert SharedRole().requires_for("iam-role") == SharedRole.requires


# --------------------------------------------------------------------------- one item fails


def two_services_inventory(errors: tuple[CollectionError, ...]) -> Inventory:
    """Two services in a subnet with no way out: the egress check fails both when all is read."""
    td = f.task_definition()
    table = f.route_table("rtb-1", [f.route("10.0.0.0/16", "local", "local")], ["subnet-1"])
    return Inventory(scopes=(SCOPE,), subnets=(f.subnet("subnet-1"),), route_tables=(table,),
                     task_definitions=(td,),
                     ecs_services=(f.service("orders", td), f.service("billing", td)),
                     errors=errors)


def test_a_per_resource_failure_makes_only_that_resource_unknown() -> None:
    clean = run([PrivateSubnetNoEgress()], two_services_inventory(()))
    assert sorted(x.status for x in clean) == ["fail", "fail"]
    orders = next(x.resource_arn for x in clean if x.resource_arn.endswith("/orders"))
    error = CollectionError(f.ACCOUNT, f.REGION, "ecs", "DescribeTaskDefinition",
                            "AccessDeniedException", "no", ("ecs.task_definitions",),
                            resources=(orders,))
    verdicts = {x.resource_arn: x for x in run([PrivateSubnetNoEgress()],
                                                two_services_inventory((error,)))}
    assert verdicts[orders].status == "unknown"
    assert "ecs:DescribeTaskDefinition AccessDeniedException" in verdicts[orders].message
    billing = next(arn for arn in verdicts if arn.endswith("/billing"))
    assert verdicts[billing].status == "fail"


def test_a_resource_whose_own_describe_failed_is_unknown_though_it_was_never_read() -> None:
    gone = f"arn:aws:ecs:{f.REGION}:{f.ACCOUNT}:task-definition/batch:3"
    error = CollectionError(f.ACCOUNT, f.REGION, "ecs", "DescribeTaskDefinition",
                            "ThrottlingException", "slow down", ("ecs.task_definitions",),
                            unread=(gone,))
    from checks.ecs import SecretsInEnvironment as EcsSecrets

    [finding] = run([EcsSecrets()], Inventory(scopes=(SCOPE,), errors=(error,)))
    assert (finding.status, finding.resource_arn) == ("unknown", gone)
    assert finding.resource_type == "ecs-task-definition"


class ReadsDuration(Check):
    id = "test.reads_duration"
    title = "reads Duration Maximum"
    severity = Severity.LOW
    category = Category.RELIABILITY
    rationale = remediation = "test"
    requires = frozenset({"lambda.functions", "cloudwatch.metrics"})
    subject_kinds = ("lambda-function",)
    undeclared = False

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        if self.undeclared:
            return ()
        return (lambda_query(fn, "Duration", "Maximum") for fn in inventory.lambda_functions)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for fn in inventory.lambda_functions:
            series = ctx.metrics.get(lambda_query(fn, "Duration", "Maximum"))
            if series is not None and (series.maximum() or 0) > 1000:
                yield self.finding(fn, "slow", {})


def test_a_failed_series_makes_only_its_subject_unknown() -> None:
    fast, slow = (f.function(name, "arn:aws:iam::123456789012:role/r") for name in ("a", "b"))
    inventory = Inventory(scopes=(SCOPE,), lambda_functions=(fast, slow))
    failed = MetricStore({lambda_query(slow, "Duration", "Maximum"): f.hourly([5000.0])},
                         failed={lambda_query(fast, "Duration", "Maximum"): "Forbidden"})
    result = run_checks([ReadsDuration()], inventory, failed, f.NOW, 14, PriceBook())
    by_arn = {x.resource_arn: x for x in result.findings}
    assert by_arn[slow.arn].status == "fail"
    assert by_arn[fast.arn].status == "unknown"
    assert "Duration Maximum: Forbidden" in by_arn[fast.arn].message


def test_reading_an_undeclared_series_is_loud_never_a_quiet_pass() -> None:
    check = ReadsDuration()
    check.undeclared = True
    fn = f.function("a", "arn:aws:iam::123456789012:role/r")
    result = run_checks([check], Inventory(scopes=(SCOPE,), lambda_functions=(fn,)),
                        MetricStore(), f.NOW, 14, PriceBook())
    [error] = result.errors
    assert error.code == "UndeclaredMetricRead" and "without declaring it" in error.message
    assert [x.status for x in result.findings] == ["unknown"]


def test_a_subject_that_needs_less_than_its_kind_is_not_blocked_by_the_rest() -> None:
    from checks.lambda_ import DbConnectionStorm

    outside = f.function("outside", "arn:aws:iam::123456789012:role/r")
    inside = replace(f.function("inside", "arn:aws:iam::123456789012:role/r"),
                     vpc_id="vpc-a", subnet_ids=("subnet-1",), security_group_ids=("sg-1",),
                     reserved_concurrency_known=True)
    rds_down = failure("rds.databases", "rds")
    findings = run([DbConnectionStorm()], Inventory(
        scopes=(SCOPE,), lambda_functions=(outside, inside), errors=(rds_down,)))
    assert [(x.resource_arn, x.status) for x in findings] == [(inside.arn, "unknown")]


def test_a_check_may_say_unknown_itself_and_it_is_kept() -> None:
    class Undecided(ReadsDuration):
        def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
            for fn in inventory.lambda_functions:
                yield self.unknown(fn, "the runtime table does not know it")

    fn = f.function("a", "arn:aws:iam::123456789012:role/r")
    [finding] = run([Undecided()], Inventory(scopes=(SCOPE,), lambda_functions=(fn,)))
    assert finding.status == "unknown"
    assert finding.message == "Could not judge: the runtime table does not know it."


def test_resources_whose_lifecycle_ended_are_neither_judged_nor_listed() -> None:
    deleting = replace(f.eks_cluster("old"), status="DELETING")
    live = f.eks_cluster("new")
    inventory = Inventory(scopes=(SCOPE,), eks_clusters=(deleting, live))
    assert inventory.eks_clusters == (live,)
    assert inventory.ended == (deleting,)
    assert inventory.get(deleting.arn) is None
    assert [r.arn for r in inventory.of_kind("eks-cluster")] == [live.arn]


def test_the_built_in_checks_are_found_as_plugins_are_and_plugins_can_be_left_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor import engine

    class Plugin:
        name = "team"
        value = "team_checks"
        dist = None

        def load(self) -> object:
            raise ImportError("team_checks is broken")

    installed = engine.metadata.entry_points
    monkeypatch.setattr(engine.metadata, "entry_points",
                        lambda group: [*installed(group=group), Plugin()])
    built_in = Registry.build(include_entry_points=False)
    assert {built_in.source(check_id) for check_id in built_in.ids} == {"built-in"}
    assert "network.private_subnet_no_egress" in built_in.ids
    with pytest.raises(CheckLoadError, match=r"^entry point team \(team_checks\) in group "
                                             r"auditor.checks failed to load: ImportError"):
        Registry.build()


def test_a_selection_that_leaves_no_check_is_an_error_not_a_green_run() -> None:
    with pytest.raises(ConfigError, match="leaves no check to run"):
        Registry.build(include_entry_points=False).select(["*"], ["*"])
