"""`auditor report FILE` and `auditor diff OLD NEW` on saved reports; reading a file that is
not a report is one clear line and exit 2."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from auditor.findings import Severity
from auditor.report.document import Report, to_dict
from tests.report.conftest import SERVICE_ARN, finding, hostile_report


def save(report: Report, path: Path) -> Path:
    path.write_text(json.dumps(to_dict(report)))
    return path


def auditor(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_report_re_renders_each_format_from_the_json(tmp_path: Path) -> None:
    saved = save(hostile_report(), tmp_path / "audit.json")
    as_json = auditor("report", str(saved), "--format", "json")
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) == json.loads(saved.read_text())
    table = auditor("report", str(saved))
    assert "iam.shared_role" in table.stdout and table.stdout.rstrip().splitlines()[-1].startswith(
        "compute-auditor: 2 findings")
    together = auditor("report", str(saved), "--format", "html", "--format", "sarif")
    assert together.exit_code == 2
    assert together.stderr == ("auditor: error: 2 formats need --output: a directory or "
                               "s3://BUCKET/PREFIX/ (one file each)\n")
    out = tmp_path / "out"
    written = auditor("report", str(saved), "--format", "html", "--format", "sarif",
                      "--output", str(out))
    assert written.exit_code == 0, written.output
    assert sorted(p.suffix for p in out.iterdir()) == [".html", ".sarif"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "not JSON (Expecting value at line 1 column 1); give a report written with "
         "--format json"),
    ("[1, 2]", "not a compute-auditor report: expected a JSON object, got [1, 2]"),
    ('{"version": "2.1.0", "runs": []}', "not a compute-auditor report"),
    ('{"schema_version": 2, "tool": {"name": "compute-auditor"}}',
     "schema_version: 2; this version of compute-auditor reads schema_version 1"),
])
def test_bad_or_foreign_files_are_one_line_exit_2(tmp_path: Path, content: str,
                                                 message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for args in (("report", str(bad)), ("diff", str(bad), str(bad))):
        result = auditor(*args)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"auditor: error: {bad}: {message}")


def test_a_field_of_the_wrong_kind_is_named(tmp_path: Path) -> None:
    document = to_dict(hostile_report())
    document["findings"][1]["severity"] = "urgent"
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(document))
    result = auditor("report", str(bad))
    assert result.stderr.strip() == (
        f"auditor: error: {bad}: findings[1].severity: 'urgent' is not one of critical, high, "
        "medium, low, info")
    document = to_dict(hostile_report())
    document["findings"][0]["resource_arn"] += "-other"
    bad.write_text(json.dumps(document))
    assert "findings[0].fingerprint" in auditor("report", str(bad)).stderr
    missing = auditor("report", str(tmp_path / "none.json"))
    assert missing.exit_code == 2 and "none.json: no such report file" in missing.stderr


@pytest.mark.parametrize(("field", "path"), [
    ("workloads[0].current_monthly_usd", ("workloads", 0, "current_monthly_usd")),
    ("workloads[1].monthly_savings_usd", ("workloads", 1, "monthly_savings_usd")),
    ("workloads[0].options[1].monthly_usd", ("workloads", 0, "options", 1, "monthly_usd")),
    ("workloads[1].options[0].breakdown.compute",
     ("workloads", 1, "options", 0, "breakdown", "compute")),
])
def test_a_number_that_is_not_a_number_is_named(tmp_path: Path, field: str,
                                                path: tuple[str | int, ...]) -> None:
    """Every other corruption is one line and exit 2; a corrupted figure too, for `report`
    in every format and for `diff` (whose exit 1 would mean "a new finding")."""
    document = to_dict(hostile_report())
    parent: Any = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = "x"
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(document))
    good = save(hostile_report(), tmp_path / "good.json")
    for args in (("report", str(bad)), ("report", str(bad), "--format", "html"),
                 ("report", str(bad), "--format", "markdown"),
                 ("diff", str(good), str(bad)), ("diff", str(bad), str(good))):
        result = auditor(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr == f"auditor: error: {bad}: {field}: expected a number, got 'x'\n"


def test_a_figure_that_does_not_add_up_is_named(tmp_path: Path) -> None:
    document = to_dict(hostile_report())
    document["workloads"][0]["options"][0]["monthly_usd"] = 1.0
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(document))
    result = auditor("report", str(bad))
    assert result.exit_code == 2
    assert result.stderr == (f"auditor: error: {bad}: workloads[0].options[0].monthly_usd: 1.00 "
                             "is not the sum of its breakdown (18.67); was the file edited?\n")


def test_diff_lists_new_resolved_and_unchanged_with_the_money(tmp_path: Path) -> None:
    old = hostile_report()
    gone = old.findings[0]
    added = finding("ecs.no_circuit_breaker", SERVICE_ARN, Severity.HIGH,
                    monthly_savings_usd=10.0)
    new = replace(old, findings=(*old.findings[1:], added), workloads=old.workloads[:1])
    result = auditor("diff", str(save(old, tmp_path / "a.json")),
                     str(save(new, tmp_path / "b.json")), "--format", "json")
    assert result.exit_code == 0
    changes = json.loads(result.stdout)
    assert set(changes) == {"new", "resolved", "unchanged", "current_monthly_usd_change",
                            "monthly_savings_usd_change"}
    assert [f["fingerprint"] for f in changes["new"]] == [added.fingerprint]
    assert [f["fingerprint"] for f in changes["resolved"]] == [gone.fingerprint]
    assert changes["unchanged"] == len(old.findings) - 1
    assert changes["current_monthly_usd_change"] == -787.0
    assert changes["monthly_savings_usd_change"] == 10.0
    failing = auditor("diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"),
                      "--fail-on", "high")
    assert failing.exit_code == 1
    assert "NEW (1)" in failing.stdout and "ecs.no_circuit_breaker" in failing.stdout
    assert "spend -787.00 USD/month · savings +10.00 USD/month" in failing.stdout
