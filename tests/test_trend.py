"""`auditor trend` over five generated nightly reports: one point per report per series,
ordered by report time whatever the order given, from files, a directory or S3; the HTML
page in headless Chromium makes no request."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.findings import SEVERITIES, Finding, Severity
from auditor.report import json_
from auditor.report.document import Report, Stats
from auditor.report.output import file_name
from tests.report.conftest import ACCOUNT, finding, option, workload
from tests.report.test_browser import CHROMIUM, chromium, dom_of, page_requests

NIGHTS = 5
SERIES = (*SEVERITIES, "spend", "savings")


def night(index: int) -> Report:
    """Night i: i+1 high findings saving $10 each, one medium, spend growing with a workload
    from night 2, one suppressed finding that never counts."""
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC) + timedelta(days=index)
    findings: list[Finding] = [
        finding("ecs.task_overprovisioned", f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/p/s{i}",
                Severity.HIGH, resource_type="ecs-service", monthly_savings_usd=10.0)
        for i in range(index + 1)]
    findings.append(finding("ecs.no_autoscaling", f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/p/m",
                            Severity.MEDIUM, resource_type="ecs-service"))
    findings.append(finding("ecs.single_task", f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/p/x",
                            Severity.LOW, suppressed=True, suppression_reason="accepted"))
    workloads = [workload("checkout", "lambda", [option("lambda", ("requests", 20.0 + index))])]
    if index >= 2:
        workloads.append(workload("orders", "ecs-fargate", [option("ecs-fargate",
                                                                   ("compute", 100.0))]))
    return Report(at, (ACCOUNT,), ("us-east-1",), 14, tuple(findings), (),
                  Stats(1, {}, 0.1, 1, 0), ("ecs.task_overprovisioned",), {"source": "embedded"},
                  workloads=tuple(workloads))


@pytest.fixture
def reports(tmp_path: Path) -> list[Path]:
    out = tmp_path / "nightly"
    out.mkdir()
    paths = []
    for index in range(NIGHTS):
        report = night(index)
        path = out / file_name(report, "json")
        path.write_text(json_.render(report))
        paths.append(path)
    return paths


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["trend", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_json_has_one_point_per_report_in_time_order(reports: list[Path]) -> None:
    shuffled = [str(p) for p in (reports[3], reports[0], reports[4], reports[2], reports[1])]
    points = json.loads(run(*shuffled, "--format", "json"))["points"]
    assert [p["generated_at"] for p in points] == [
        f"2026-11-{20 + i}T02:00:00Z" for i in range(NIGHTS)]
    assert [p["findings_by_severity"]["high"] for p in points] == [1, 2, 3, 4, 5]
    assert all(p["findings_by_severity"]["medium"] == 1 for p in points)
    assert all(p["findings_by_severity"]["low"] == 0 for p in points), "suppressed: not open"
    assert [p["total_monthly_savings_usd"] for p in points] == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert [p["total_current_monthly_usd"] for p in points] == [20.0, 21.0, 122.0, 123.0, 124.0]
    assert [p["source"] for p in points] == [str(p) for p in reports]


def test_csv_and_a_directory_source(reports: list[Path]) -> None:
    (reports[0].parent / "report-20261120T020000Z.ocsf.json").write_text("[]")
    (reports[0].parent / "report-20261120T020000Z-shard-1-of-4.json").write_text("{}")
    rows = list(csv.DictReader(io.StringIO(run(str(reports[0].parent), "--format", "csv"))))
    assert len(rows) == NIGHTS, "OCSF and shard files are not nights"
    assert list(rows[0])[:8] == ["generated_at", *SEVERITIES, "findings",
                                 "total_current_monthly_usd"]
    assert [r["findings"] for r in rows] == ["2", "3", "4", "5", "6"]
    assert rows[-1]["total_monthly_savings_usd"] == "50.00"


def points_by_series(page: str) -> dict[str, list[float]]:
    dom = dom_of(page)
    found: dict[str, list[float]] = {}
    for tag, attrs in dom.elements:
        if tag == "circle" and "point" in attrs.get("class", ""):
            found.setdefault(attrs["data-series"], []).append(float(attrs["data-value"]))
    return found


def test_html_draws_one_point_per_report_per_series(reports: list[Path], tmp_path: Path
                                                     ) -> None:
    out = tmp_path / "trend.html"
    run(*map(str, reports), "--output", str(out))
    page = out.read_text()
    found = points_by_series(page)
    assert set(found) == set(SERIES)
    assert all(len(values) == NIGHTS for values in found.values())
    assert found["high"] == [1, 2, 3, 4, 5] and found["savings"] == [10, 20, 30, 40, 50]
    assert "default-src &#x27;none&#x27;" in page, "the report's Content-Security-Policy"
    assert "http://" not in page and "https://" not in page


@pytest.mark.usefixtures("aws")
def test_an_s3_prefix_reads_every_report_under_it(reports: list[Path]) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="reports")
    for path in reports:
        s3.put_object(Bucket="reports", Key=f"nightly/{path.name}", Body=path.read_bytes())
    s3.put_object(Bucket="reports", Key="nightly/report-20261120T020000Z.html", Body=b"<html>")
    s3.put_object(Bucket="reports", Key="other/report-20261101T020000Z.json", Body=b"{}")
    points = json.loads(run("s3://reports/nightly/", "--format", "json"))["points"]
    assert [p["source"] for p in points] == [
        f"s3://reports/nightly/{p.name}" for p in reports]


def test_a_file_that_is_not_a_report_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text('{"hello": 1}')
    result = CliRunner().invoke(main, ["trend", str(bad)])
    assert result.exit_code == 2
    assert "not a compute-auditor report" in result.output
    assert result.output.count("\n") == 1


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                             "chromium); the DOM test needs a browser")
def test_the_trend_page_in_chromium_has_five_points_per_series_and_no_request(
        reports: list[Path], tmp_path: Path) -> None:
    page = tmp_path / "trend.html"
    run(*map(str, reports), "--output", str(page))
    netlog = tmp_path / "net.json"
    found = points_by_series(chromium(tmp_path, page, f"--log-net-log={netlog}", "--dump-dom"))
    assert {series: len(values) for series, values in found.items()} == dict.fromkeys(
        SERIES, NIGHTS)
    assert page_requests(netlog) == [], "the trend page must not load anything"
