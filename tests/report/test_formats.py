"""Every format from the same report: each validates against its published schema where one
exists (SARIF 2.1.0, OCSF Detection Finding, our JSON Schema), they all name the same
findings as the JSON, and text from the account cannot break out of any of them."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

from auditor.config import FORMATS
from auditor.cost.model import Family, Option
from auditor.cost.optimizer import OptimizerEvidence
from auditor.cost.priced import PricedWorkload
from auditor.errors import ReportError
from auditor.report import csv_, html, markdown, ocsf, sarif, table
from auditor.report.document import Delivery, Report, to_dict
from auditor.report.json_ import schema
from auditor.report.output import RENDERERS, render
from auditor.report.read import from_dict, parse
from auditor.report.table import short_arn
from tests.report.conftest import HOSTILE_TAGS, ROLE_ARN, SCRIPT_TAG, hostile_report, option

SARIF_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "sarif-2.1.0-rtm.5.json").read_text())


@pytest.fixture(params=["hostile", "demo"])
def report(request: pytest.FixtureRequest) -> Report:
    if request.param == "hostile":
        return hostile_report()
    demo: Report = request.getfixturevalue("demo_report")
    return demo


def every(report: Report) -> set[str]:
    return {f["fingerprint"] for f in to_dict(report)["findings"]}


def reported(report: Report) -> set[str]:
    """What the human formats list: not suppressed, not baselined."""
    return {f["fingerprint"] for f in to_dict(report)["findings"]
            if not f["suppressed"] and not f.get("baselined")}


def test_every_config_format_has_a_renderer() -> None:
    assert set(FORMATS) == set(RENDERERS)


def test_json_validates_and_reads_back_to_the_same_document(report: Report) -> None:
    document = to_dict(report)
    jsonschema.Draft202012Validator(schema()).validate(document)
    assert to_dict(from_dict(json.loads(json.dumps(document)))) == document


def test_the_json_written_to_a_file_is_the_rendered_text(report: Report) -> None:
    """The file is written one finding and workload at a time; it must read exactly as the
    text printed to standard output, with hostile strings and with empty lists."""
    for each in (report, replace(report, findings=(), workloads=())):
        written = io.StringIO()
        RENDERERS["json"].write(each, written)
        assert written.getvalue() == render(each, "json")
        assert json.loads(written.getvalue()) == to_dict(each)


def test_workloads_keep_their_types_from_the_scan_and_from_the_json(
        demo_report: Report, optimizer_report: Report) -> None:
    """The formats render typed workloads whether the report was scanned or read back, and
    reading keeps every field (Compute Optimizer's evidence too)."""
    for scanned in (demo_report, optimizer_report):
        document = to_dict(scanned)
        read = from_dict(json.loads(json.dumps(document)))
        assert to_dict(read) == document
        for workload in (*scanned.workloads, *read.workloads):
            assert isinstance(workload, PricedWorkload)
            assert all(isinstance(o, Option) for o in workload.options)
        assert [w.family for w in read.workloads] == [w.family for w in scanned.workloads]
        assert set(w.family for w in read.workloads) == set(Family)
    read = from_dict(to_dict(optimizer_report))
    assert all(isinstance(w.compute_optimizer, OptimizerEvidence) for w in read.workloads)
    assert table.render(read) == table.render(optimizer_report)
    assert html.spend_by_platform(read) == html.spend_by_platform(optimizer_report)


def test_a_report_with_its_deliveries_reads_back_as_written(demo_report: Report) -> None:
    delivered = replace(demo_report, delivery=(
        Delivery("slack+https://hooks.slack.com/…/****", "failed", "HTTP 500", 4),
        Delivery("sns:arn:aws:sns:us-east-1:123456789012:nightly", "sent", "", 1)))
    document = to_dict(delivered)
    assert to_dict(from_dict(json.loads(json.dumps(document)))) == document
    with pytest.raises(ReportError, match=r"delivery\[0\]\.status"):
        document["delivery"][0]["status"] = "lost"
        parse(json.dumps(document), "night.json")


def test_savings_are_charted_by_the_family_of_their_workload_or_resource() -> None:
    spend = html.spend_by_platform(hostile_report())
    # The provisioned-concurrency saving is on an alias, not a workload: its kind says Lambda.
    assert spend == {"lambda": (18.67, 394.21), "ecs": (787.0, 0.0)}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("width", [80, 100, 200])
def test_the_table_fits_the_terminal(demo_report: Report, width: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for text in (table.render(demo_report, width), table.render(hostile_report(), width)):
        assert max(len(line) for line in text.splitlines()) <= width
    # Each finding is still there with its whole message, wrapped at spaces (a word wider
    # than its column, an ARN, is broken).
    text = table.render(demo_report, width)
    words = set(text.split())
    for finding in demo_report.active_findings:
        assert finding.check_id in words
        assert {word for word in finding.message.split() if len(word) <= 30} <= words
    squeezed = "".join(text.split())
    assert text.startswith("compute-auditor: the demo account")
    assert "(thedemoaccount)" in squeezed
    # The terminal's width, when standard output is one (COLUMNS is what it says).
    monkeypatch.setenv("COLUMNS", str(width))
    assert table.terminal_width(_Terminal()) == width
    assert table.terminal_width(io.StringIO()) is None


def test_the_table_keeps_each_row_on_one_line_when_not_a_terminal() -> None:
    """A file or a pipe (a scheduler's log) gets a finding to a line, for grep."""
    text = table.render(hostile_report())
    message = "Role app-role <img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
    [line] = [line for line in text.splitlines() if line.startswith("iam.shared_role")]
    assert message in line
    assert "demo account" not in text


def test_sarif_validates_against_the_sarif_2_1_0_schema(report: Report) -> None:
    document = json.loads(sarif.render(report))
    validator = jsonschema.Draft4Validator(
        SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    validator.validate(document)
    [run] = document["runs"]
    results = run["results"]
    assert {r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in results} == every(report)
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    by_fingerprint = {f.fingerprint: f for f in report.findings}
    for result in results:
        found = by_fingerprint[result["partialFingerprints"][sarif.FINGERPRINT_KEY]]
        assert result["kind"] == ("fail" if found.status == "fail" else "open")
        assert ("suppressions" in result) is found.suppressed
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == \
            found.resource_arn
    if report.baselined:
        states = {r["partialFingerprints"][sarif.FINGERPRINT_KEY]: r["baselineState"]
                  for r in results}
        assert {k for k, v in states.items() if v == "unchanged"} == set(report.baselined)
    assert len(run["invocations"][0]["toolExecutionNotifications"]) == len(report.errors)


def test_a_broken_sarif_document_fails_the_schema() -> None:
    """The schema really is checked: a level SARIF does not know is refused."""
    document = json.loads(sarif.render(hostile_report()))
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)


def test_ocsf_events_are_lossless_detection_findings(report: Report) -> None:
    """Each event parses as py-ocsf-models' DetectionFinding (OCSF 1.5.0) and dumps back to
    exactly itself: no field the model does not know, none of the wrong type."""
    events = json.loads(ocsf.render(report))
    for event in events:
        model = DetectionFinding.model_validate(event)
        assert model.model_dump(mode="json", exclude_none=True) == event
        assert (event["class_uid"], event["category_uid"], event["type_uid"]) == \
            (2004, 2, 200401)
    assert {e["finding_info"]["uid"] for e in events} == every(report)
    suppressed = {f.fingerprint for f in report.findings if f.suppressed}
    assert {e["finding_info"]["uid"] for e in events if e["status_id"] == 3} == suppressed
    severity_ids = {e["finding_info"]["uid"]: e["severity_id"] for e in events}
    assert all(severity_ids[f.fingerprint] == f.severity.rank + 1 for f in report.findings)


def test_ocsf_validation_catches_a_field_the_class_does_not_have() -> None:
    [event, *_] = json.loads(ocsf.render(hostile_report()))
    event["severity_id"] = 42
    with pytest.raises(ValueError, match="severity_id"):
        DetectionFinding.model_validate(event)
    event["severity_id"], event["not_an_ocsf_field"] = 4, 1
    assert DetectionFinding.model_validate(event).model_dump(
        mode="json", exclude_none=True) != event


def csv_rows(report: Report) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_.render(report))))


def test_csv_has_one_row_per_finding_matching_the_json(report: Report) -> None:
    rows = csv_rows(report)
    assert [r["fingerprint"] for r in rows] == [f["fingerprint"]
                                                for f in to_dict(report)["findings"]]
    for row, finding in zip(rows, to_dict(report)["findings"], strict=True):
        assert row["check_id"] == finding["check_id"]
        assert row["severity"] == finding["severity"]
        assert row["suppressed"] == str(finding["suppressed"]).lower()
        assert row["baselined"] == str(finding.get("baselined", False)).lower()
        assert row["resource_arn"] == finding["resource_arn"]


def test_csv_cells_cannot_run_as_spreadsheet_formulas() -> None:
    rows = csv_rows(hostile_report())
    [role] = [r for r in rows if r["resource_arn"] == ROLE_ARN]
    assert "cost-centre==HYPERLINK" in role["resource_tags"]
    [unknown] = [r for r in rows if r["status"] == "unknown"]
    assert unknown["message"] == "'-2+3 metrics failed to load."
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())


def markdown_rows(text: str) -> list[list[str]]:
    """The findings table's body rows, split on unescaped pipes."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| **"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([c.strip() for c in cells])
    return rows


def test_markdown_lists_the_reported_findings(report: Report) -> None:
    rows = markdown_rows(markdown.render(report))
    assert all(len(row) == 7 for row in rows), "an escaped pipe split a row"
    listed = sorted((row[2].strip("`"), row[3].split("<br>")[0].strip("`")) for row in rows)
    expected = sorted((f.check_id, short_arn(f.resource_arn)) for f in report.findings
                      if f.fingerprint in reported(report))
    assert listed == expected


def test_markdown_neutralises_account_text() -> None:
    text = markdown.render(hostile_report())
    # Code spans show their content literally (no HTML, no links, no mentions); outside them
    # nothing from the account may be markup.
    outside = re.sub(r"`[^`]*`", "", text)
    assert "<script" not in outside and "<img" not in outside and "<b>" not in outside
    assert "&lt;img src=x" in outside
    assert "@" not in outside, "account text must not mention anyone"
    # Tags sit in code spans: a URL there is never a link, a pipe never a column.
    assert "`notify=@security-team [docs](http://evil.example/) \\| not a column`" in text
    assert "suppression expired on 2026-01-31" in text
    assert "1 suppressed and 1 baselined findings are not listed." in text


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


def parsed(report: Report) -> Collect:
    parser = Collect()
    parser.feed(html.render(report))
    return parser


def test_html_rows_are_the_reported_findings(report: Report) -> None:
    page = parsed(report)
    rows = [attrs for tag, attrs in page.tags if tag == "tr" and attrs.get("class") == "finding"]
    assert {r["data-fingerprint"] for r in rows} == reported(report)
    workloads = [a for t, a in page.tags if t == "tr" and a.get("class") == "workload"]
    assert len(workloads) == len(report.workloads)


def test_html_escapes_everything_from_the_account() -> None:
    page = parsed(hostile_report())
    text = "".join(page.text)
    assert SCRIPT_TAG in text, "the tag value is shown, as text"
    assert len(page.scripts) == 1, "the page's own script is the only one"
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs
                if name.startswith("on")], "no event handler attribute anywhere"
    assert not [attrs for tag, attrs in page.tags if tag in ("img", "iframe", "object")]
    for key, value in HOSTILE_TAGS.items():
        assert f"{key}={value}" in text


def test_html_is_self_contained_and_its_csp_allows_only_its_own_script_and_style() -> None:
    page_html = html.render(hostile_report())
    page = parsed(hostile_report())
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            assert name not in attrs, f"<{tag} {name}=...> could load something"
    assert "url(" not in "".join(page.styles) and "@import" not in "".join(page.styles)
    [meta] = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    policy = meta["content"] or ""
    assert "default-src 'none'" in policy
    assert html._hash(page.scripts[0]) in policy and html._hash(page.styles[0]) in policy
    assert "unsafe-inline" not in policy
    assert page_html.count("<script>") == 1


def test_html_shows_workload_options_with_their_breakdown() -> None:
    page = html.render(hostile_report())
    assert page.count('class="option"') == 4
    assert "compute $72.08 · load_balancer $21.20" in page
    assert 'data-series="spend"' in page and 'data-series="savings"' in page


def test_html_says_an_infeasible_option_is_not_feasible_rather_than_free() -> None:
    report = hostile_report()
    orders = report.workloads[1]
    worker = option("lambda", ("requests", 0.0), ("duration", 0.0),
                    blockers=("not behind a load balancer: a worker",))
    spot = option("ecs-fargate-spot", ("compute", 21.62), blockers=("Spot can be stopped",))
    report = replace(report, workloads=(replace(orders, options=(*orders.options, worker,
                                                                 spot)),))
    rows = html.render(report).split('<tr class="option"')[1:]
    assert len(rows) == 4
    [unpriced] = [r for r in rows if 'data-platform="lambda" data-feasible="false"' in r]
    assert '<td class="num muted">not feasible</td>' in unpriced and "$0.00" not in unpriced
    assert "not feasible: not behind a load balancer: a worker" in unpriced
    [priced] = [r for r in rows if 'data-platform="ecs-fargate-spot"' in r]
    assert "not feasible</td>" in priced and "compute $21.62" in priced


def test_human_formats_say_how_much_of_the_bill_the_model_explains() -> None:
    report = hostile_report()
    said = "The model explains 90% of billed ECS on Fargate in us-east-1 ($720.80 of $800.00"
    for text in (table.render(report), markdown.render(report), html.render(report)):
        assert said in text
        assert "The model explains 0% of billed EC2 instances in us-east-1" in text
        assert "EC2 instance hours not in any node group or ECS cluster: $912.50/month" in text
        assert "ECS on Fargate 12%" in text, "the effective discount"
        assert "4 Cost Explorer request(s) ($0.04)" in text
    rows = [a for t, a in parsed(report).tags if t == "tr" and a.get("class") == "bill"]
    assert [r["data-platform"] for r in rows] == ["lambda", "ecs-fargate", "ec2"]


def test_a_report_without_the_bill_says_nothing_of_it() -> None:
    report = replace(hostile_report(), billing=None)
    assert "billing" not in to_dict(report)
    for text in (table.render(report), markdown.render(report), html.render(report)):
        assert "Cost Explorer" not in text and "explains" not in text


def test_html_renders_an_empty_report() -> None:
    report = hostile_report()
    empty = Report(report.generated_at, (), (), 14, (), (), report.stats, (), {})
    page = parsed(empty)
    assert "No findings" in "".join(page.text)
    assert not [a for t, a in page.tags if t == "tr" and a.get("class") == "finding"]


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_every_format_renders_an_empty_and_a_full_report(fmt: str) -> None:
    report = hostile_report()
    empty = Report(report.generated_at, (), (), 14, (), (), report.stats, (), {})
    assert render(empty, fmt)
    assert render(report, fmt)


def _load(fmt: str, text: str) -> Any:
    return json.loads(text) if fmt in ("json", "sarif", "ocsf") else text


@pytest.mark.parametrize("fmt", ["json", "sarif", "ocsf", "csv", "markdown", "html"])
def test_no_format_leaks_the_planted_secret(demo_report: Report, fmt: str) -> None:
    assert "hunter2" not in render(demo_report, fmt)
    assert _load(fmt, render(demo_report, fmt))
