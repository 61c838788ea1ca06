"""Suppressions: by check, ARN glob and tags, with a reason and an expiry; the resource tag
`auditor:ignore`; and what the config accepts."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.config import Config, parse
from auditor.errors import ConfigError
from auditor.findings import Finding, Severity
from auditor.model import Inventory
from auditor.report import json_
from auditor.scan import scan
from auditor.suppress import Suppression, apply_suppressions, ignored_checks, resource_tags
from tests import factories
from tests.conftest import isolated_ecs_service
from tests.report.conftest import FN_ARN, ROLE_ARN, SERVICE_ARN, finding

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OVERSIZED = finding("ecs.task_overprovisioned", SERVICE_ARN, Severity.MEDIUM)
SHARED = finding("iam.shared_role", ROLE_ARN, Severity.HIGH)
IDLE_PC = finding("lambda.provisioned_concurrency_waste", FN_ARN, Severity.MEDIUM)
ALL = (OVERSIZED, SHARED, IDLE_PC)


def suppressed(findings: tuple[Finding, ...]) -> dict[str, str | None]:
    return {f.check_id: f.suppression_reason for f in findings if f.suppressed}


def test_by_check_glob_with_the_reason_and_expiry_shown() -> None:
    rule = Suppression("sized for the launch", checks=("ecs.*",), expires=date(2026, 12, 31))
    out = apply_suppressions(ALL, [rule], {}, NOW)
    assert suppressed(out) == {"ecs.task_overprovisioned": "sized for the launch "
                                                           "(until 2026-12-31)"}
    assert [f.fingerprint for f in out] == [f.fingerprint for f in ALL], "nothing dropped"


def test_by_arn_glob_and_by_tag_must_all_match() -> None:
    by_arn = Suppression("prod services are reviewed", resources=("arn:aws:ecs:*:service/prod/*",))
    by_tag = Suppression("the data team owns this", tags={"team": "data*"})
    both = Suppression("both", checks=("iam.*",), tags={"team": "data"})
    tags = {ROLE_ARN: {"team": "payments"}, SERVICE_ARN: {"team": "data-eng"}}
    assert set(suppressed(apply_suppressions(ALL, [by_arn], tags, NOW))) == {
        "ecs.task_overprovisioned"}
    assert set(suppressed(apply_suppressions(ALL, [by_tag], tags, NOW))) == {
        "ecs.task_overprovisioned"}
    assert suppressed(apply_suppressions(ALL, [both], tags, NOW)) == {}


def test_the_first_matching_rule_wins() -> None:
    rules = [Suppression("first", checks=("iam.shared_role",)),
             Suppression("second", checks=("iam.*",))]
    assert suppressed(apply_suppressions(ALL, rules, {}, NOW)) == {"iam.shared_role": "first"}


def test_a_suppression_holds_through_its_expiry_day_and_then_reports_again_with_a_note() -> None:
    rule = Suppression("waiting for the migration", checks=("iam.shared_role",),
                       expires=date(2026, 11, 23))
    assert suppressed(apply_suppressions(ALL, [rule], {}, NOW)) == {
        "iam.shared_role": "waiting for the migration (until 2026-11-23)"}
    later = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    [back] = [f for f in apply_suppressions(ALL, [rule], {}, later)
              if f.check_id == "iam.shared_role"]
    assert not back.suppressed
    assert back.suppression_reason == ("suppression expired on 2026-11-23: "
                                       "waiting for the migration")


def test_an_active_rule_beats_an_expired_one() -> None:
    rules = [Suppression("old", checks=("iam.*",), expires=date(2025, 1, 1)),
             Suppression("renewed", checks=("iam.*",), expires=date(2027, 1, 1))]
    [shared] = [f for f in apply_suppressions(ALL, rules, {}, NOW) if f.check_id.startswith("iam")]
    assert shared.suppressed and shared.suppression_reason == "renewed (until 2027-01-01)"


@pytest.mark.parametrize(("value", "ignored"), [
    ("ecs.task_overprovisioned,iam.shared_role", {"ecs.task_overprovisioned"}),
    ("ecs.task_overprovisioned lambda.provisioned_concurrency_waste", {
        "ecs.task_overprovisioned"}),
    ("ecs.*", {"ecs.task_overprovisioned"}),
    ("all", {"ecs.task_overprovisioned"}),
    ("network.single_az", set()),
])
def test_the_resource_tag_auditor_ignore(value: str, ignored: set[str]) -> None:
    tags = {SERVICE_ARN: {"auditor:ignore": value}}
    out = apply_suppressions(ALL, [], tags, NOW)
    assert set(suppressed(out)) == ignored
    assert all(reason == "resource tag auditor:ignore" for reason in suppressed(out).values())


def test_a_qualified_lambda_arn_has_its_functions_tags() -> None:
    function_arn = FN_ARN.rsplit(":", 1)[0]
    out = apply_suppressions(ALL, [], {function_arn: {"auditor:ignore": "lambda.*"}}, NOW)
    assert set(suppressed(out)) == {"lambda.provisioned_concurrency_waste"}


def test_ignored_checks_splits_on_commas_and_spaces() -> None:
    assert ignored_checks({"auditor:ignore": " a.b, c.d  e.f ,"}) == ("a.b", "c.d", "e.f")
    assert ignored_checks({}) == ()


def test_resource_tags_come_from_the_inventory_by_arn() -> None:
    role = factories.role("app-role")
    tagged = Inventory(iam_roles=(replace(role, tags={"team": "a"}),))
    found = finding("iam.shared_role", role.arn, Severity.HIGH)
    assert resource_tags(tagged, [found, OVERSIZED]) == {role.arn: {"team": "a"}}


def config(text: str) -> tuple[Suppression, ...]:
    return parse(tomllib.loads(text), "auditor.toml").suppressions


def test_config_suppressions_parse() -> None:
    [rule] = config('[[suppressions]]\nchecks = ["ecs.*"]\nresources = ["arn:aws:ecs:*"]\n'
                    'tags = { env = "dev" }\nreason = "dev is sized by hand"\n'
                    "expires = 2027-01-31\n")
    assert rule == Suppression("dev is sized by hand", ("ecs.*",), ("arn:aws:ecs:*",),
                               {"env": "dev"}, date(2027, 1, 31))
    [dated] = config('[[suppressions]]\nchecks = ["a.b"]\nreason = "r"\nexpires = "2027-01-31"\n')
    assert dated.expires == date(2027, 1, 31)


@pytest.mark.parametrize(("text", "message"), [
    ('[[suppressions]]\nchecks = ["a.b"]\n', "suppressions[0] needs a reason"),
    ('[[suppressions]]\nreason = "r"\n', "matches every finding; give checks, resources or tags"),
    ('[[suppressions]]\nreason = "r"\ncheck = ["a.b"]\n', "unknown key 'check'; did you mean "
                                                        "'checks'?"),
    ('[[suppressions]]\nreason = "r"\nchecks = "a.b"\n', "checks must be a list of globs"),
    ('[[suppressions]]\nreason = "r"\nchecks = ["a"]\nexpires = "soon"\n',
     "expires must be a date, YYYY-MM-DD, got 'soon'"),
    ('[[suppressions]]\nreason = "r"\ntags = { env = 1 }\n', "tags.env must be a string"),
    ('suppressions = ["x"]\n', "suppressions[0] must be a table"),
])
def test_bad_suppressions_are_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^auditor\.toml: ") as caught:
        config(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.usefixtures("aws")
def test_the_library_scan_returns_the_report_the_command_prints(tmp_path: Path) -> None:
    """Suppressions and the baseline are applied by `auditor.scan.scan()`, not by the CLI."""
    service = isolated_ecs_service()
    config = Config(regions=("us-east-1",), checks=("network.private_subnet_no_egress",))
    first = scan(config)
    [plain] = [f for f in first.findings if f.status == "fail"]
    assert not plain.suppressed and first.baselined == frozenset()

    accepted = replace(config, suppressions=(Suppression("a batch job", resources=(service,)),))
    [held] = [f for f in scan(accepted).findings if f.status == "fail"]
    assert (held.suppressed, held.suppression_reason) == (True, "a batch job")

    last = tmp_path / "last.json"
    last.write_text(json_.render(first))
    assert scan(replace(config, baseline=str(last))).baselined == {plain.fingerprint}
    printed = CliRunner().invoke(main, ["scan", "--region", "us-east-1", "--checks",
                                        "network.private_subnet_no_egress", "--baseline",
                                        str(last), "--format", "json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["summary"]["baselined"] == 1
