"""A real HTTP receiver for webhook payloads, and a night's pair of reports: last night's
baseline and tonight's, one finding resolved and one new between them."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from auditor.findings import Finding, Severity
from auditor.report.document import Report, Stats
from tests.report.conftest import ACCOUNT, finding

LAST_NIGHT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
TONIGHT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def arn(name: str) -> str:
    return f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/{name}"


STAYING = finding("ecs.no_autoscaling", arn("orders"), Severity.MEDIUM,
                  resource_type="ecs-service")
RESOLVED = finding("ecs.task_overprovisioned", arn("billing"), Severity.HIGH,
                   resource_type="ecs-service", monthly_savings_usd=40.0)
NEW = finding("network.private_subnet_no_egress", arn("checkout"), Severity.HIGH,
              resource_type="ecs-service", remediation="Add a NAT gateway route.")
SUPPRESSED = finding("ecs.single_task", arn("cron"), Severity.LOW, resource_type="ecs-service",
                     suppressed=True, suppression_reason="a cron job")


def report(findings: tuple[Finding, ...], at: datetime = TONIGHT,
           regions: tuple[str, ...] = ("us-east-1",)) -> Report:
    """Every night runs the same checks: those of the four findings above, and any other the
    findings given come from."""
    checks = {f.check_id for f in (STAYING, RESOLVED, NEW, SUPPRESSED, *findings)}
    return Report(at, (ACCOUNT,), regions, 14, findings, (), Stats(1, {}, 0.1, 1, 0),
                  tuple(sorted(checks)), {"source": "embedded"})


@pytest.fixture
def baseline() -> Report:
    return report((STAYING, RESOLVED), LAST_NIGHT)


@pytest.fixture
def tonight() -> Report:
    return report((STAYING, NEW, SUPPRESSED))


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (then 200) and keeps what it got."""

    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[int, tuple[str, str]] = field(default_factory=dict)
    """A header to answer with, by status."""

    @property
    def accepted(self) -> list[Any]:
        """The payloads answered with a 2xx: the messages the channel shows."""
        return [r["json"] for r in self.requests if 200 <= r["status"] < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve() as got:
        yield got


@contextmanager
def serve() -> Iterator[Receiver]:
    """A receiver on a free port of this machine, for the block."""
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = got.script.pop(0) if got.script else 200
            got.requests.append({"path": self.path, "status": status,
                                 "content_type": self.headers["Content-Type"],
                                 "json": json.loads(body)})
            self.send_response(status)
            if status in got.headers:
                self.send_header(*got.headers[status])
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no_service")

        def log_message(self, *_: Any) -> None:
            """Quiet: the test asserts what arrived."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXXSECRET"
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
