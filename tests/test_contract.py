"""Contract tests over the registries: unique IDs, documented, tested, permissions declared,
and every declared action read-only."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from auditor.datasets import ACCOUNT_ACTIONS, DATASETS
from auditor.engine import Registry, plan_metrics
from auditor.model import Inventory
from auditor.pricing.book import PriceBook
from auditor.report.document import Report
from auditor.session import is_read_only

ROOT = Path(__file__).resolve().parent.parent


def _marked(kind: str) -> set[str]:
    """Check IDs named by @pytest.mark.<kind>("id") on the tests under tests/checks/."""
    found: set[str] = set()
    for path in sorted((ROOT / "tests" / "checks").glob("test_*.py")):
        module = importlib.import_module(f"tests.checks.{path.stem}")
        for name, test in vars(module).items():
            if name.startswith("test_"):
                for mark in getattr(test, "pytestmark", []):
                    if mark.name == kind:
                        found.update(mark.args)
    return found
REGISTRY = Registry.build(include_entry_points=False)


def test_ids_are_unique_and_namespaced() -> None:
    ids = REGISTRY.ids
    assert len(ids) == len(set(ids))
    for check_id in ids:
        assert re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", check_id), check_id


@pytest.mark.parametrize("check", REGISTRY.checks, ids=REGISTRY.ids)
def test_every_check_is_documented_tested_and_declares_permissions(check: type) -> None:
    instance = check()
    for attr in ("title", "rationale", "remediation"):
        assert len(getattr(check, attr)) > 10, attr
    assert check.subject_kinds, "a check must say which resources it judges"
    assert instance.iam_actions, "a check must declare the IAM actions it needs"
    for name, param in check.parameters.items():
        assert param.description, name


def test_every_check_has_a_test_that_fires_it_and_one_that_keeps_it_quiet() -> None:
    ids = set(REGISTRY.ids)
    assert ids - _marked("fires") == set(), "checks with no @pytest.mark.fires test"
    assert ids - _marked("quiet") == set(), "checks with no @pytest.mark.quiet test"


def test_every_declared_action_is_read_only() -> None:
    actions = set(ACCOUNT_ACTIONS)
    for dataset in DATASETS.values():
        actions |= set(dataset.calls)
    for action in sorted(actions):
        service, operation = action.split(":")
        assert is_read_only(service, operation), action


def test_no_check_reads_a_series_it_did_not_declare(demo_report: Report) -> None:
    """Every check runs on the demo, which plants a problem for each; a series read without
    being declared was never fetched, and reading it as "no data" would be a quiet pass, so
    it raises, and the check's verdicts go unknown with an error naming it."""
    assert set(demo_report.checks_run) == set(REGISTRY.ids)
    undeclared = [e for e in demo_report.errors if e.code == "UndeclaredMetricRead"]
    assert undeclared == []
    assert not [f for f in demo_report.findings if f.status == "unknown"]


def test_every_metric_query_names_the_subject_it_is_read_for() -> None:
    """A failed series makes only its subject's verdict unknown: the query must say whose."""
    from tests import factories as f

    fn = f.function("fn", "arn:aws:iam::123456789012:role/r")
    td = f.task_definition()
    inventory = Inventory(lambda_functions=(fn,), task_definitions=(td,),
                          ecs_services=(f.service("svc", td),), eks_clusters=(f.eks_cluster(),),
                          provisioned_concurrency=(f.provisioned(fn),))
    plan = plan_metrics([c() for c in REGISTRY.checks], inventory, f.NOW, 14, PriceBook())
    assert plan.queries()
    assert all(q.subject for q in plan.queries())
