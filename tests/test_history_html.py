"""`auditor scan --history`: the scan's own HTML report carries the trend over the earlier
reports and itself, one point per report per series in headless Chromium, with no request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.report import json_
from auditor.report.document import Report
from auditor.report.output import file_name
from tests.report.test_browser import CHROMIUM, chromium, page_requests
from tests.test_trend import NIGHTS, SERIES, night, points_by_series


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install "
                                             "chromium); the DOM test needs a browser")
def test_the_scans_html_shows_the_trend_over_its_history_and_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "nightly"
    history.mkdir()
    for index in range(NIGHTS - 1):
        earlier = night(index)
        (history / file_name(earlier, "json")).write_text(json_.render(earlier))

    def tonight(*_: Any) -> Report:
        return night(NIGHTS - 1)

    monkeypatch.setattr("auditor.cli.scan._scan", tonight)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["scan", "--format", "html", "--output", str(page),
                                       "--history", str(history)])
    assert result.exit_code == 0, result.output
    netlog = tmp_path / "net.json"
    found = points_by_series(chromium(tmp_path, page, f"--log-net-log={netlog}", "--dump-dom"))
    assert {series: len(values) for series, values in found.items()} == dict.fromkeys(
        SERIES, NIGHTS)
    assert found["high"] == [1.0, 2.0, 3.0, 4.0, 5.0], "tonight is the last point"
    assert page_requests(netlog) == [], "the report must not load anything"
