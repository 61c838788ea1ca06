"""`--compute-optimizer` end to end: the switch, and the demo account, whose emulated Compute
Optimizer answers for a few of its functions and services, read beside ours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.config import Config, parse
from auditor.errors import ConfigError
from auditor.report.document import Report, Stats, to_dict
from auditor.report.json_ import schema
from auditor.report.table import render


def test_the_switch_is_off_by_default_and_set_by_the_flag_or_the_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def scanned(config: Config, hooks: Any, demo: bool) -> Report:
        seen.append(config.compute_optimizer)
        return Report(datetime(2026, 11, 23, tzinfo=UTC), ("123456789012",), ("us-east-1",),
                      14, (), (), Stats(0, {}, 0.0, 0, 0), (), {})

    monkeypatch.setattr("auditor.cli.scan._scan", scanned)
    config = tmp_path / "auditor.toml"
    config.write_text("[compute_optimizer]\nenabled = true\n")
    for args in ([], ["--compute-optimizer"], ["--config", str(config)],
                 ["--config", str(config), "--no-compute-optimizer"]):
        result = CliRunner().invoke(main, ["scan", "--quiet", *args])
        assert result.exit_code == 0, result.output
    assert seen == [False, True, True, False]
    with pytest.raises(ConfigError, match=r"\[compute_optimizer\]: unknown key 'enable'; did "
                                          r"you mean 'enabled'\?"):
        parse({"compute_optimizer": {"enable": True}})


def test_the_demo_sets_its_recommendations_beside_ours(optimizer_report: Report,
                                                       demo_report: Report) -> None:
    assert optimizer_report.errors == ()
    document = to_dict(optimizer_report)
    jsonschema.Draft202012Validator(schema()).validate(document)
    entries = {w["name"]: w["compute_optimizer"] for w in document["workloads"]}

    reporting = entries["reporting"]
    assert (reporting["status"], reporting["finding"]) == ("recommendation", "Overprovisioned")
    assert reporting["estimated_monthly_savings"] == {"amount": 72.08, "currency": "USD",
                                                      "percent": 50.0}
    assert reporting["explanation"].startswith(
        "Compute Optimizer recommends 1 vCPU / 2 GB tasks (from 2 vCPU / 4 GB), saving "
        "$72.08/month (50%); our model recommends right-sizing to ")
    checkout = entries["checkout-api"]
    assert checkout["explanation"].startswith(
        "Compute Optimizer recommends 512 MB (from 1,024 MB), saving $41.60/month (7.9%); our "
        "model recommends trimming provisioned concurrency ($")
    assert entries["events-ingest"]["finding"] == "Optimized"
    # Left out of the answer unless asked for by name, as AWS does.
    assert entries["edge-auth"]["finding"] == "Unavailable"
    assert entries["platform"]["status"] == "not_covered"
    summary = document["summary"]["compute_optimizer"]
    assert summary["workloads"]["recommendation"] == 6
    assert sum(summary["workloads"].values()) == len(document["workloads"])
    assert summary["notes"] == []

    # Evidence, not ours: the same verdicts, workloads and one savings total as without it.
    assert ({(f.fingerprint, f.status, f.monthly_savings_usd) for f in optimizer_report.findings}
            == {(f.fingerprint, f.status, f.monthly_savings_usd) for f in demo_report.findings})
    assert [replace(w, compute_optimizer=None)
            for w in optimizer_report.workloads] == list(demo_report.workloads)
    assert optimizer_report.total_monthly_savings_usd == demo_report.total_monthly_savings_usd

    table = render(optimizer_report)
    assert "COMPUTE OPTIMIZER (6): its recommendations beside ours" in table
    assert "COMPUTE OPTIMIZER" not in render(demo_report)
