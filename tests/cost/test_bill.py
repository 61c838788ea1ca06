"""The model set against the bill (`auditor.cost.bill`): a bill the model explains, one it
cannot and why, the month it is scaled to, the effective discount, what could not be read, and
shard reports merged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pytest

from auditor.collect.billing import EC2, EKS, ELB, LAMBDA, Bill, BilledCost
from auditor.cost.bill import Billing, combine, explained, reconcile
from auditor.cost.model import Line, Option
from auditor.cost.priced import Confidence, PricedWorkload

ACCOUNT = "123456789012"
OTHER = "210987654321"
START, END = date(2026, 11, 9), date(2026, 11, 23)
DAYS = 14
MONTH = 730 / 24
"""Days in a 730-hour month: a daily cost times this is its month."""


def daily(service: str, usd: float, region: str = "us-east-1", usage_type: str = "",
          unblended: float | None = None, quantity: float = 0.0,
          days: Iterable[date] | None = None) -> list[BilledCost]:
    """`usd` net amortized every day of the window (or of `days`)."""
    every = days if days is not None else (START + timedelta(n) for n in range(DAYS))
    return [BilledCost(region, service, usage_type, day, usd,
                       usd if unblended is None else unblended, quantity) for day in every]


def bill(*costs: list[BilledCost], account: str = ACCOUNT, unread: dict[str, str] | None = None,
         calls: int = 4) -> Bill:
    return Bill(account, ("us-east-1", "eu-west-1"), START, END, calls,
                tuple(c for group in costs for c in group), unread or {})


def workload(platform: str, account: str = ACCOUNT, region: str = "us-east-1",
             **lines: float) -> PricedWorkload:
    current = Option(platform, tuple(Line(name, usd, "") for name, usd in lines.items()))
    return PricedWorkload(
        arn=f"arn:aws:x:{region}:{account}:{platform}/{sorted(lines)}", name="w",
        platform=platform, account=account, region=region,
        current_monthly_usd=current.monthly_usd, current=current, options=(),
        recommended_platform=platform, monthly_savings_usd=0.0, confidence=Confidence.HIGH,
        assumptions=())


def row(billing: Billing, platform: str, region: str = "us-east-1") -> Any:
    [found] = [r for r in billing.by_platform if (r.platform, r.region) == (platform, region)]
    return found


def test_a_bill_the_model_explains() -> None:
    # $50 a day is $1,520.83 a month; the model prices $1,450 of it.
    billing = reconcile([bill(daily(LAMBDA, 50.0))],
                        [workload("lambda", requests=450.0, duration=1000.0)], START, END)
    lam = row(billing, "lambda")
    assert (lam.billed_usd, lam.modelled_usd) == (round(50 * MONTH, 2), 1450.0)
    assert lam.explained_ratio == pytest.approx(1450 / (50 * MONTH), abs=1e-4)
    assert lam.explained_ratio >= 0.9
    assert explained(lam) == ("The model explains 95% of billed Lambda in us-east-1 "
                              "($1,450.00 of $1,520.83 a month)")
    assert billing.notes == ()
    assert billing.calls == 4


def test_a_bill_the_model_cannot_explain_says_why() -> None:
    # Two node-group nodes the model prices ($140.16), and four instances no node group
    # holds: $900 a month the model cannot see.
    nodes = 140.16 / MONTH
    billing = reconcile(
        [bill(daily(EC2, nodes, usage_type="BoxUsage:m6i.large", quantity=48),
              daily(EC2, 900 / MONTH, usage_type="BoxUsage:m5.2xlarge", quantity=96),
              daily(EC2, 0.1, usage_type="CPUCredits:t3"))],
        [workload("eks", control_plane=73.0, nodes=140.16)], START, END)
    ec2 = row(billing, "ec2")
    assert ec2.explained_ratio is not None and ec2.explained_ratio < 0.5
    assert ec2.modelled_usd == 140.16
    assert billing.notes == (
        # The cluster's control plane is EKS's, and the bill shows none.
        f"Cost Explorer shows no EKS cost in {ACCOUNT}/us-east-1 for the window, though the "
        "model prices $73.00/month there: resources newer than the bill's last day, or "
        "credits that cover them.",
        "EC2 instance hours not in any node group or ECS cluster: $900.00/month in "
        f"{ACCOUNT}/us-east-1 (instance hours billed $1,040.16/month, 2,016 hours in the "
        "window; the node groups and container instances the model prices $140.16).",
        f"EC2 compute other than instance hours (CPU credits and the like) in {ACCOUNT}/"
        "us-east-1: $3.04/month, not modelled.")
    assert row(billing, "eks").explained_ratio is None


def test_each_workload_line_is_set_against_the_service_that_bills_it() -> None:
    workloads = [workload("lambda", requests=2.0, duration=6.67, load_balancer=21.2,
                          api_gateway=10.0),
                 workload("ecs-ec2", compute=55.5, load_balancer=10.0),
                 workload("eks", control_plane=438.0, nodes=140.16)]
    billing = reconcile([bill(daily(LAMBDA, 1.0))], workloads, START, END)
    modelled = {r.platform: r.modelled_usd for r in billing.by_platform}
    assert modelled == {"lambda": 8.67, "eks": 438.0, "ec2": 195.66, "api-gateway": 10.0,
                        "elb": 31.2}
    assert sum(modelled.values()) == pytest.approx(
        sum(w.current_monthly_usd for w in workloads), abs=0.01)


def test_a_platform_billed_from_mid_window_is_scaled_over_its_own_days() -> None:
    """As the model scales a workload's usage over the hours it was seen."""
    last_week = [END - timedelta(days=n) for n in range(1, 8)]
    billing = reconcile([bill(daily(ELB, 2.0, days=last_week))], [], START, END)
    assert row(billing, "elb").billed_usd == round(2.0 * MONTH, 2)
    assert billing.notes[0].startswith("No workloads were priced in this scan")


def test_the_effective_discount_is_read_from_net_amortized_against_unblended() -> None:
    billing = reconcile([bill(daily(LAMBDA, 8.8, unblended=10.0),
                              daily(LAMBDA, 0.9, region="eu-west-1", unblended=1.0),
                              # Above unblended (a Savings Plan's fee billed apart): no
                              # discount to read.
                              daily(EKS, 3.0, unblended=2.4))],
                        [workload("lambda", duration=300.0)], START, END)
    assert billing.effective_discount == {"lambda": pytest.approx(1 - 9.7 / 11, abs=1e-4)}
    assert billing.discounts() == ("Billed below unblended cost (Savings Plans, Reserved "
                                   "Instances, credits or private pricing): Lambda 12%.")


def test_what_cost_explorer_could_not_read_is_not_reconciled_and_says_so() -> None:
    failed = "GetCostAndUsage failed: AccessDeniedException"
    billing = reconcile(
        [bill(daily(LAMBDA, 10.0), unread={EC2: failed})],
        [workload("lambda", duration=300.0), workload("eks", control_plane=73.0, nodes=30.37)],
        START, END)
    assert {r.platform for r in billing.by_platform} == {"lambda", "eks"}
    assert (f"Cost Explorer could not be read for account {ACCOUNT} ({EC2}): {failed}. Not "
            "reconciled; see errors.") in billing.notes


def test_merged_shards_join_their_rows_and_recompute_the_discount() -> None:
    one = reconcile([bill(daily(LAMBDA, 9.0, unblended=10.0))],
                    [workload("lambda", duration=250.0)], START, END)
    two = reconcile([bill(daily(LAMBDA, 3.0, unblended=6.0), account=OTHER, calls=3)],
                    [workload("lambda", OTHER, duration=80.0)], START, END)
    merged = combine([one, two, None])
    assert merged is not None
    assert [(r.account, r.platform) for r in merged.by_platform] == [(ACCOUNT, "lambda"),
                                                                      (OTHER, "lambda")]
    assert merged.calls == 7
    # What both accounts paid against what they would have: 12 of 16 a day.
    assert merged.effective_discount == {"lambda": pytest.approx(0.25, abs=1e-3)}
    assert merged.notes == ("1 of 3 reports carry no billing (scanned without --bill): their "
                            "accounts and regions are not reconciled.",)
    assert merged.sentences()[1].startswith(
        f"The model explains 88% of billed Lambda in {OTHER}/us-east-1")
    assert combine([None, None]) is None
