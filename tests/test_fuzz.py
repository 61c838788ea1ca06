"""Hostile input: whatever a config file, a custom check or a policy document holds, the
auditor answers with a result or one clear error, never a traceback.

Fixed seed (derandomize) and small budgets keep this fast and repeatable in CI.
"""

from __future__ import annotations

import contextlib
import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.config import load, parse
from auditor.custom import build
from auditor.errors import AuditorError, ConfigError
from auditor.model import Inventory, PolicyDocument, PolicyStatement
from auditor.policy import allows
from tests import factories as f

FUZZ = settings(max_examples=150, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

KEYS = st.sampled_from(["regions", "profile", "lookback_days", "checks", "skip_checks",
                        "checks_dirs", "format", "output", "fail_on", "max_workers",
                        "max_attempts", "thresholds", "custom_checks", "bogus", "lookbak_days"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True), st.text(max_size=20))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)


@FUZZ
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_config_parse_gives_a_config_or_one_clear_error(raw: dict[str, Any]) -> None:
    try:
        parse(raw, "fuzz.toml")
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml") and "\n" not in message


@FUZZ
@given(st.text(max_size=200))
def test_any_file_content_loads_or_fails_cleanly(tmp_path_factory: Any, text: str) -> None:
    path = Path(tmp_path_factory.mktemp("cfg")) / "auditor.toml"
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(ConfigError):
        load(path)


JMES_ALPHABET = string.ascii_letters + string.digits + " .[]*?@|&!=<>`'\"(){}:,-_"


@FUZZ
@given(st.text(alphabet=JMES_ALPHABET, max_size=40))
def test_custom_condition_compiles_or_is_refused_and_never_breaks_a_scan(condition: str) -> None:
    from auditor.config import CustomCheckSpec

    spec = CustomCheckSpec("custom.fuzz", "Fuzz", "low", "operations", "lambda-function",
                           condition, "matched", "none", "fuzz")
    try:
        check = build(spec)()
    except AuditorError:
        return
    fn = f.function("fn", "arn:aws:iam::123456789012:role/r")
    findings = list(check.evaluate(Inventory(lambda_functions=(fn,)), f.context(check)))
    assert all(x.resource_arn == fn.arn for x in findings)


PATTERNS = st.text(alphabet="ab:*?", min_size=1, max_size=6)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["Allow", "Deny"]), st.lists(PATTERNS, max_size=3),
                          st.lists(PATTERNS, max_size=2), st.lists(PATTERNS, max_size=2),
                          st.booleans()), max_size=5),
       PATTERNS, PATTERNS)
def test_policy_evaluation_is_total_and_deny_always_wins(
        statements: list[tuple[str, list[str], list[str], list[str], bool]],
        action: str, resource: str) -> None:
    documents = [PolicyDocument("fuzz", tuple(
        PolicyStatement(effect, tuple(actions), tuple(not_actions), tuple(resources), (), cond)
        for effect, actions, not_actions, resources, cond in statements))]
    allowed = allows(documents, action, resource)
    blanket_deny = PolicyStatement("Deny", ("*",), (), ("*",), (), False)
    assert not allows([*documents, PolicyDocument("deny", (blanket_deny,))], action, resource)
    everything = PolicyStatement("Allow", ("*",), (), ("*",), (), False)
    if not any(s[0] == "Deny" and not s[4] for s in statements):
        assert allows([*documents, PolicyDocument("all", (everything,))], action, resource)
    assert isinstance(allowed, bool)


def _valid_report_document() -> dict[str, Any]:
    from auditor.findings import Category, Finding, Severity
    from auditor.report.document import Report, Stats, to_dict

    finding = Finding("iam.shared_role", "Shared", Severity.HIGH, Category.IAM, "fail",
                      "arn:aws:iam::123456789012:role/r", "iam-role", "123456789012", "global",
                      "m", {"used_by": ["a", "b"]}, "r", 12.5)
    report = Report(f.NOW, ("123456789012",), ("us-east-1",), 14, (finding,), (),
                    Stats(3, {"ecs:ListClusters": 3}, 1.0, 1, 0), ("iam.shared_role",),
                    {"source": "embedded"})
    return to_dict(report)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=16)


@FUZZ
@given(JSON_VALUES)
def test_report_reader_gives_a_report_or_one_clear_error_on_any_json(value: Any) -> None:
    import json

    from auditor.errors import ReportError
    from auditor.report.read import parse

    with contextlib.suppress(ReportError):
        parse(json.dumps(value), "fuzz.json")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["drop", "retype"]), st.integers(0, 10**6),
                          JSON_VALUES), min_size=1, max_size=4))
def test_report_reader_on_corrupted_reports(edits: list[tuple[str, int, Any]]) -> None:
    """Damage a valid report at random places (a key dropped, a value of the wrong type):
    the reader, and diff/merge on top of it, answer with a report or one ReportError."""
    import json

    from auditor.baseline import diff
    from auditor.errors import ReportError
    from auditor.merge import merge
    from auditor.report.read import parse

    document = _valid_report_document()
    for action, start, value in edits:
        target: Any = document
        pick = start
        while isinstance(target, dict | list) and target:
            keys = list(target) if isinstance(target, dict) else list(range(len(target)))
            key = keys[pick % len(keys)]
            child = target[key]
            if not isinstance(child, dict | list) or not child or pick % 3 == 0:
                if action == "drop" and isinstance(target, dict):
                    del target[key]
                else:
                    target[key] = value
                break
            target, pick = child, pick // 7 + 1
    try:
        report = parse(json.dumps(document), "fuzz.json")
    except ReportError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.json")
        return
    diff(report, report)
    merge([report, report])
