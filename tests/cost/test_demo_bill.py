"""The demo sets its model against its bill, as `auditor scan --demo` does: billed figures from
the emulated Cost Explorer (moto, answering from `auditor.demo.billing`), modelled figures the
workloads' own, a platform the model explains and one it cannot, with the reason."""

from __future__ import annotations

from collections import defaultdict

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.collect.billing import MAX_CALLS
from auditor.cost.bill import SERVICE_PLATFORMS, Billing
from auditor.demo.billing import DEMO_BILL, DISCOUNT
from auditor.report.document import Report


@pytest.fixture(scope="module")
def billing(demo_report: Report) -> Billing:
    assert demo_report.billing is not None
    return demo_report.billing


def test_the_demo_reads_its_bill_from_the_emulated_cost_explorer(
        demo_report: Report, billing: Billing) -> None:
    assert billing.source.endswith("(emulated)")
    assert billing.days == demo_report.lookback_days
    assert 0 < billing.calls <= MAX_CALLS
    assert demo_report.stats.api_calls_by_operation["ce:GetCostAndUsage"] == billing.calls
    # Every day of the window is billed: each day's cost times the days in a 730-hour month.
    daily: dict[tuple[str, str], float] = defaultdict(float)
    for cost in DEMO_BILL:
        daily[(cost.region, SERVICE_PLATFORMS[cost.service])] += cost.unblended_usd
    billed = {(row.region, row.platform): row.billed_usd for row in billing.by_platform}
    assert billed == {key: pytest.approx(usd * (1 - DISCOUNT) * 730 / 24, abs=0.01)
                      for key, usd in daily.items()}
    assert billing.effective_discount == dict.fromkeys(billing.effective_discount,
                                                       pytest.approx(DISCOUNT))


def test_the_modelled_figures_are_the_workloads_own(demo_report: Report,
                                                    billing: Billing) -> None:
    modelled: dict[tuple[str, str], float] = defaultdict(float)
    for row in billing.by_platform:
        modelled[(row.account, row.region)] += row.modelled_usd
    workloads: dict[tuple[str, str], float] = defaultdict(float)
    for workload in demo_report.workloads:
        workloads[(workload.account, workload.region)] += workload.current_monthly_usd
    assert modelled == {scope: pytest.approx(usd, rel=0.01) for scope, usd in workloads.items()}


def test_the_model_explains_lambda_and_says_why_it_cannot_explain_ec2(billing: Billing) -> None:
    ratio = {(row.region, row.platform): row.explained_ratio for row in billing.by_platform}
    assert ratio[("us-east-1", "lambda")] >= 0.9
    assert ratio[("us-east-1", "ec2")] < 0.5
    assert any(note.startswith("EC2 instance hours not in any node group or ECS cluster: $")
               for note in billing.notes)


@pytest.mark.usefixtures("demo_cli")
def test_auditor_scan_demo_says_it_in_words() -> None:
    result = CliRunner().invoke(main, ["scan", "--demo", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "The model explains 95% of billed Lambda in us-east-1" in result.stdout
    assert "EC2 instance hours not in any node group or ECS cluster" in result.stdout
