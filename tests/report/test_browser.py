"""The HTML report in a real browser: headless Chromium opens `auditor scan --demo --format
html`, runs its script, makes no network request, and shows the counts the JSON has.

Chromium is Debian's (`apt-get install chromium`; `.ci/run` installs it). Only its absence
skips these tests. Every run gets a fresh profile and a host resolver that resolves nothing,
so even the browser's own background requests never leave the machine; the network log tells
the page's requests (top frame `file://`) from the browser's.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.findings import SEVERITIES
from auditor.report import html
from tests.report.conftest import SCRIPT_TAG, hostile_report
from tests.shared_demo import SharedDemo

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed; .ci/run installs it "
                             "(apt-get install chromium)")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND")


def chromium(tmp_path: Path, page: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    done = subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args,
                           page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked for (its top frame is the file:// report)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [event["params"]["url"] for event in log["events"]
            if event["type"] == start and "url" in event.get("params", {})
            and str(event["params"].get("network_isolation_key", "")).startswith("file://")
            and not event["params"]["url"].startswith(("file:", "data:"))]


class Dom(HTMLParser):
    """Elements with their attributes and the text inside each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self.text_by_summary: dict[str, str] = {}
        self._open: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = (tag, {k: v or "" for k, v in attrs})
        self.elements.append(element)
        if tag not in ("br", "meta", "input", "rect", "img", "hr"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, attrs in self._open:
            if "id" in attrs:
                self.text_by_id[attrs["id"]] = self.text_by_id.get(attrs["id"], "") + data
            if "data-summary" in attrs:
                key = attrs["data-summary"]
                self.text_by_summary[key] = self.text_by_summary.get(key, "") + data

    def rows(self, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == "tr" and a.get("class") == cls]


def dom_of(text: str) -> Dom:
    dom = Dom()
    dom.feed(text)
    return dom


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def demo_pages(tmp_path_factory: pytest.TempPathFactory, shared_demo: SharedDemo
               ) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo-report")
    with pytest.MonkeyPatch.context() as patch:
        # `demo_cli` for a module: the command scans the account seeded once per process.
        patch.setattr("auditor.demo.demo_environment", shared_demo.environment)
        result = CliRunner().invoke(main, ["scan", "--demo", "--format", "html", "--format",
                                           "json", "--output", str(out)])
    assert result.exit_code == 0, result.output
    [page] = out.glob("*.html")
    [document] = out.glob("report-*Z.json")
    return page, json.loads(document.read_text())


def test_demo_report_in_chromium_shows_the_jsons_counts_without_network(
        demo_pages: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    page, document = demo_pages
    netlog = tmp_path / "net.json"
    dom = dom_of(chromium(tmp_path, page, f"--log-net-log={netlog}", "--dump-dom"))

    assert page_requests(netlog) == [], "the report must not load anything"
    summary = document["summary"]
    active = [f for f in document["findings"] if not f["suppressed"] and not f.get("baselined")]
    # The page's script ran: it wrote the filter counter.
    assert dom.text_by_id["shown"] == f"{len(active)} of {len(active)} findings shown"

    rows = dom.rows("finding")
    counted = Counter((r["data-status"], r["data-severity"]) for r in rows)
    for severity in SEVERITIES:
        assert counted[("fail", severity)] == summary["findings_by_severity"][severity]
        assert counted[("unknown", severity)] == summary["unknown_by_severity"][severity]
        assert dom.text_by_summary[severity] == str(summary["findings_by_severity"][severity])
    assert {r["data-fingerprint"] for r in rows} == {f["fingerprint"] for f in active}
    assert dom.text_by_summary["errors"] == str(len(document["errors"]))
    assert dom.text_by_summary["savings"] == f"${summary['total_monthly_savings_usd']:,.2f}"
    assert len(dom.rows("workload")) == len(document["workloads"])
    assert len(dom.rows("error")) == len(document["errors"])

    bars = {a["data-label"].lower(): float(a["data-value"]) for t, a in dom.elements
            if t == "rect" and a.get("data-series") == "findings"}
    assert bars == {s: summary["findings_by_severity"][s] for s in SEVERITIES}
    savings = sum(float(a["data-value"]) for t, a in dom.elements
                  if t == "rect" and a.get("data-series") == "savings")
    assert round(savings, 2) == pytest.approx(summary["total_monthly_savings_usd"], abs=0.05)


def test_demo_report_screenshot(demo_pages: tuple[Path, dict[str, Any]],
                                tmp_path: Path) -> None:
    page, _ = demo_pages
    shot = tmp_path / "demo-report.png"
    chromium(tmp_path, page, "--window-size=1400,5200", f"--screenshot={shot}")
    assert png_size(shot) == (1400, 5200)
    assert shot.stat().st_size > 50_000, "a blank page compresses to almost nothing"


MEASURE = ("<script>var found = [];"
           "document.querySelectorAll('.scroll').forEach(function (box) {"
           "  if (box.scrollWidth > box.clientWidth) {"
           "    found.push(box.querySelector('table').id + ' ' + box.scrollWidth + '>' +"
           "               box.clientWidth); } });"
           "document.body.setAttribute('data-overflow', found.join(', '));</script>")


def test_no_table_of_the_demo_report_scrolls_sideways_at_1400_px(
        demo_pages: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """Measured in the page: the copy lets one more script run (no CSP) to say which table's
    box is wider than the window leaves it."""
    page, _ = demo_pages
    measured = tmp_path / "measured.html"
    text = page.read_text()
    measured.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
                        .replace("</body>", MEASURE + "</body>"))
    dom = dom_of(chromium(tmp_path, measured, "--window-size=1400,1000", "--dump-dom"))
    [body] = [a for t, a in dom.elements if t == "body"]
    assert "data-overflow" in body, "the measuring script ran"
    assert body["data-overflow"] == ""


def test_account_text_cannot_run_script_in_the_browser(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(html.render(hostile_report()))
    dom = dom_of(chromium(tmp_path, page, "--dump-dom"))
    [body] = [a for t, a in dom.elements if t == "body"]
    assert "data-pwned" not in body
    assert SCRIPT_TAG in dom.text_by_id["findings"]
    assert dom.text_by_id["shown"] == "3 of 3 findings shown"


def test_the_network_check_sees_a_page_that_loads_from_outside(tmp_path: Path) -> None:
    """The detector works: a page with an external image and fetch is caught (the host
    resolver fails every lookup, so nothing leaves the machine)."""
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><img src="http://leak.invalid/x.png">'
                    '<script>fetch("https://leak.invalid/f").catch(function(){})</script>')
    netlog = tmp_path / "net.json"
    chromium(tmp_path, page, f"--log-net-log={netlog}", "--dump-dom")
    assert set(page_requests(netlog)) == {"http://leak.invalid/x.png", "https://leak.invalid/f"}
