"""The containment oracle on hand-made reports: it passes a contained failure and names each
way one can spread (so a green containment run means something)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.findings import Category, Finding, Severity
from auditor.report.document import Report, Stats
from tests.fidelity.containment import Blast, Case, Outcome, changes, judge
from tests.fidelity.operations import Operation

ACCOUNT = "123456789012"
SERVICE = f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/"
DESCRIBE = Case(Operation("ecs", "DescribeTaskDefinition"), "denied", "first resource")
EVERYWHERE = Case(Operation("ecs", "DescribeTaskDefinition"), "denied", "every call")
ONE = Blast(owns=lambda arn: arn == SERVICE + "a", kinds=frozenset({"ecs-service"}))


def verdict(arn: str, status: str = "fail", check: str = "ecs.idle_service") -> Finding:
    return Finding(check_id=check, title="t", severity=Severity.HIGH,
                   category=Category.RELIABILITY, status=status,  # type: ignore[arg-type]
                   resource_arn=arn, resource_type="ecs-service", account=ACCOUNT,
                   region="us-east-1", message="m", evidence={}, remediation="r")


def report(*findings: Finding) -> Report:
    return Report(generated_at=datetime(2026, 11, 23, tzinfo=UTC), accounts=(ACCOUNT,),
                  regions=("us-east-1",), lookback_days=14, findings=findings, errors=(),
                  stats=Stats(0, {}, 0.0, 0, 0), checks_run=(), pricing={})


def violations(case: Case, before: Report, after: Report, blast: Blast = ONE,
               **entry: Any) -> list[str]:
    """Judged with one errors entry under the failed operation: by default one naming the
    failed resource in `resources` (the JSON leaves the key out when it names none)."""
    errors = [{"service": "ecs", "operation": "DescribeTaskDefinition", "code": "AccessDenied",
               "checks_affected": ["ecs.idle_service"], "resources": [SERVICE + "a"], **entry}]
    errors = [{k: v for k, v in e.items() if v is not None} for e in errors]
    outcome = Outcome(case, entries=errors, changes=changes(before, after))
    judge(outcome, blast, after, before)
    return outcome.violations


CLEAN = report(verdict(SERVICE + "a"), verdict(SERVICE + "b"))


def test_a_contained_failure_passes() -> None:
    after = report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b"))
    assert violations(DESCRIBE, CLEAN, after) == []


@pytest.mark.parametrize(("after", "entry", "found"), [
    (report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b", "unknown")), {},
     "other resources of the same kinds"),
    (report(verdict(f"arn:aws:ecs:us-east-1:{ACCOUNT}:ecs-service/*", "unknown")), {},
     "whole dataset"),
    (report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b")),
     {"resources": [SERVICE + "b"]}, "not in the errors entry's resources"),
    (report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b")), {"resources": None},
     "lists no resources"),
    (report(verdict(SERVICE + "b")), {}, "fail verdicts disappeared"),
    (report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b"), verdict(SERVICE + "c")),
     {}, "became fail"),
    (report(verdict(SERVICE + "a", "unknown", "ecs.other"), verdict(SERVICE + "a", "unknown"),
            verdict(SERVICE + "b")), {}, "not list in checks_affected"),
], ids=["sibling", "scope-wide", "outside-resources", "empty-resources", "fail-lost",
        "clean-to-fail", "unlisted-check"])
def test_each_way_a_failure_spreads_is_named(after: Report, entry: dict[str, Any],
                                            found: str) -> None:
    judged = violations(DESCRIBE, CLEAN, after, **entry)
    assert any(found in v for v in judged), judged


def test_a_failure_filed_under_the_listing_around_it_is_named() -> None:
    after = report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b"))
    outcome = Outcome(DESCRIBE, others=[{"service": "ecs", "operation": "ListServices",
                                         "code": "ReadTimeoutError"}],
                      changes=changes(CLEAN, after))
    judge(outcome, ONE, after, CLEAN)
    assert "no errors entry under DescribeTaskDefinition (errors name: ListServices " \
           "ReadTimeoutError)" in outcome.violations


def test_a_scope_wide_unknown_stands_for_the_fails_it_hides_when_every_call_fails() -> None:
    after = report(verdict(f"arn:aws:ecs:us-east-1:{ACCOUNT}:ecs-service/*", "unknown"))
    assert violations(EVERYWHERE, CLEAN, after, blast=Blast()) == []


def test_a_deleted_resource_may_vanish_without_an_entry() -> None:
    gone = Case(DESCRIBE.operation, "not-found", "first resource")
    outcome = Outcome(gone, changes=changes(CLEAN, report(verdict(SERVICE + "b"))))
    judge(outcome, ONE, report(verdict(SERVICE + "b")), CLEAN)
    assert outcome.violations == []


ROLE = f"arn:aws:iam::{ACCOUNT}:role/"


def role_verdict(name: str, status: str = "fail") -> Finding:
    return Finding(check_id="ecs.idle_service", title="t", severity=Severity.HIGH,
                   category=Category.IAM, status=status,  # type: ignore[arg-type]
                   resource_arn=ROLE + name, resource_type="iam-role", account=ACCOUNT,
                   region="global", message="m", evidence={"used_by": [SERVICE + "a"]},
                   remediation="r")


def test_account_wide_verdicts_may_go_unknown_for_a_failure_their_check_rests_on() -> None:
    before = report(verdict(SERVICE + "a"), role_verdict("shared"))
    unknown = report(verdict(SERVICE + "a", "unknown"), role_verdict("shared", "unknown"),
                     role_verdict("alone", "unknown"))
    assert violations(DESCRIBE, before, unknown) == []
    assert any("not list in checks_affected" in v for v in violations(
        DESCRIBE, before, unknown, checks_affected=["ecs.other"]))


def test_a_prefix_in_resources_covers_what_is_under_it() -> None:
    after = report(verdict(SERVICE + "a", "unknown"), verdict(SERVICE + "b", "unknown"))
    assert violations(DESCRIBE, CLEAN, after, resources=[SERVICE + "*"]) == []


def test_a_verdict_naming_a_deleted_resource_goes_with_it() -> None:
    gone = Case(DESCRIBE.operation, "not-found", "first resource")
    before = report(verdict(SERVICE + "a"), role_verdict("shared"))
    after = report()
    outcome = Outcome(gone, changes=changes(before, after))
    judge(outcome, ONE, after, before)
    assert outcome.violations == []
