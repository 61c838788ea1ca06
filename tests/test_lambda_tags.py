"""Suppressions reach Lambda findings (issue 16): the functions' tags are read, so a tag
suppression and the `auditor:ignore` tag work on them as on every other resource, and a
failed tag listing costs only what rests on the tags."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import boto3
from click.testing import CliRunner

from auditor import custom
from auditor.cli import main
from auditor.config import Config, CustomCheckSpec
from auditor.demo import Demo
from auditor.findings import Finding
from auditor.report.document import Report
from auditor.scan import Environment, scan
from auditor.suppress import IGNORE_TAG, Suppression, apply_suppressions
from tests.fidelity.hooks import Answer, denied
from tests.fidelity.operations import Operation
from tests.shared_demo import SharedDemo

TAGGING = Operation("resourcegroupstaggingapi", "GetResources")
DEMO_TAG = Suppression("demo resources", tags={"demo": "true"})
UNTAGGED_APP = CustomCheckSpec(
    id="custom.untagged_app", title="Functions without an app tag", severity="low",
    category="operations", resource_type="lambda-function", condition="tags.app == null",
    message="no app tag", remediation="Tag it with its app.",
    rationale="Costs are shown by app.")


def _lambda(findings: tuple[Finding, ...]) -> list[Finding]:
    return [f for f in findings if f.resource_type.startswith("lambda-")]


def _suppressed(report: Report, *rules: Suppression) -> tuple[Finding, ...]:
    """What `auditor scan` applies after the scan, with these `[[suppressions]]`."""
    return apply_suppressions(report.findings, rules, report.resource_tags,
                              report.generated_at)


def test_a_tag_suppression_silences_every_lambda_finding_of_the_demo(
        demo_report: Report) -> None:
    lambda_findings = _lambda(_suppressed(demo_report, DEMO_TAG))
    # Functions, a provisioned-concurrency alias and an event source mapping.
    assert {f.resource_type for f in lambda_findings} >= {
        "lambda-function", "lambda-provisioned-concurrency", "lambda-event-source-mapping"}
    assert len(lambda_findings) >= 10
    assert [f for f in lambda_findings if not f.suppressed] == []
    assert {f.suppression_reason for f in lambda_findings} == {"demo resources"}
    # One listing a region, not a call a function.
    assert demo_report.stats.api_calls_by_operation[str(TAGGING)] == len(demo_report.regions)


@contextmanager
def _tagged(demo: Demo, function: str, tags: Mapping[str, str]) -> Iterator[None]:
    """The shared demo account with one function tagged for the block."""
    arn = demo.account.arns[f"lambda.function.{function}"]
    client = boto3.client("lambda", region_name=arn.split(":")[3])
    client.tag_resource(Resource=arn, Tags=dict(tags))
    try:
        yield
    finally:
        client.untag_resource(Resource=arn, TagKeys=list(tags))


def _scan(demo: Demo, config: Config, *hooks: tuple[str, Any]) -> Report:
    config = replace(config, regions=demo.account.regions)
    return scan(config, Environment(hooks=(*demo.extra_hooks, *hooks), demo=True),
                demo.account.now)


def test_auditor_ignore_on_one_function_suppresses_its_findings_only(
        shared_demo: SharedDemo) -> None:
    ignored = ("lambda.secrets_in_environment", "lambda.x86_arm64_candidate")
    with shared_demo.active() as demo, _tagged(demo, "user-sync",
                                                {IGNORE_TAG: " ".join(ignored)}):
        report = _scan(demo, Config(checks=("lambda.*",)))
    user_sync = shared_demo.account.arns["lambda.function.user-sync"]
    findings = _suppressed(report)
    silenced = {(f.check_id, f.resource_arn) for f in findings if f.suppressed}
    assert silenced == {(check, user_sync) for check in ignored}
    assert all(f.suppression_reason == f"resource tag {IGNORE_TAG}"
               for f in findings if f.suppressed)
    # Its other finding, and the same checks on other functions, still report.
    assert ("lambda.long_running_candidate", user_sync) in {
        (f.check_id, f.resource_arn) for f in findings if f.status == "fail"}
    assert any(f.check_id == "lambda.x86_arm64_candidate" and f.resource_arn != user_sync
               and not f.suppressed for f in findings)


def _refuse_tagging(model: Any, **_: Any) -> Answer | None:
    if (model.service_model.service_name, model.name) == (TAGGING.service, TAGGING.name):
        return denied(TAGGING).answer()
    return None


def test_a_failed_tag_listing_leaves_only_what_reads_tags_unknown(
        shared_demo: SharedDemo) -> None:
    config = Config(checks=("lambda.*", "custom.*"), custom_checks=(UNTAGGED_APP,))
    with shared_demo.active() as demo:
        clean = _scan(demo, config)
        failed = _scan(demo, config, ("before-call.*.*", _refuse_tagging))

    assert clean.errors == ()
    assert not [f for f in clean.findings if f.check_id == UNTAGGED_APP.id]  # all tagged
    entries = [e for e in failed.errors if (e.service, e.operation) == (TAGGING.service,
                                                                        TAGGING.name)]
    assert len(entries) == len(failed.regions) and len(failed.errors) == len(entries)
    assert {e.checks_affected for e in entries} == {(UNTAGGED_APP.id,)}
    # The check on tags cannot judge: unknown, never a fail for tags it did not see.
    custom = [f for f in failed.findings if f.check_id == UNTAGGED_APP.id]
    assert custom and {f.status for f in custom} == {"unknown"}
    # Every other verdict stands, and no function is lost.
    others = {(f.check_id, f.resource_arn, f.status) for f in failed.findings
              if f.check_id != UNTAGGED_APP.id}
    assert others == {(f.check_id, f.resource_arn, f.status) for f in clean.findings}
    assert failed.stats.resources == clean.stats.resources
    # Untagged for all the scan knows, the findings are not suppressed by tag.
    assert not any(f.suppressed for f in _suppressed(failed, DEMO_TAG))


def test_a_custom_check_on_tags_rests_on_them_and_one_on_other_fields_does_not() -> None:
    assert "lambda.tags" in custom.build(UNTAGGED_APP).requires
    on_memory = replace(UNTAGGED_APP, id="custom.big", condition="memory_mb > `1024`")
    assert "lambda.tags" not in custom.build(on_memory).requires
    # ECS services carry their own tags: their listing is all a check on them rests on.
    on_ecs = replace(UNTAGGED_APP, id="custom.ecs_app", resource_type="ecs-service")
    assert "lambda.tags" not in custom.build(on_ecs).requires


def test_the_policy_grants_the_tag_listing_only_to_checks_judging_lambda() -> None:
    def actions(*checks: str) -> set[str]:
        result = CliRunner().invoke(main, ["iam-policy", "--checks", ",".join(checks)])
        assert result.exit_code == 0, result.output
        return set(json.loads(result.output)["Statement"][0]["Action"])

    assert "tag:GetResources" in actions("lambda.deprecated_runtime")
    assert "tag:GetResources" in actions("lambda.unbounded_event_source_scaling")
    assert "tag:GetResources" not in actions("ecs.*", "eks.*", "iam.*")
