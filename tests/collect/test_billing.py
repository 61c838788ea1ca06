"""Cost Explorer (`auditor.collect.billing`): one daily request per service group over the
scan's window, pages within 8 requests an account ($0.01 each), and what could not be read an
`errors` entry. moto does not page Cost Explorer, so pages are AWS's documented response shape
through botocore's Stubber; a denial goes through moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from botocore.stub import Stubber

from auditor.collect.billing import (
    API_GATEWAY,
    DATASET,
    EC2,
    ECS,
    EKS,
    ELB,
    LAMBDA,
    MAX_CALLS,
    QUERIES,
    Bill,
    BilledCost,
    collect_bill,
    collect_bills,
)
from auditor.collect.runner import Target
from auditor.config import Config
from auditor.model import GLOBAL_REGION
from auditor.scan import billing_datasets
from tests.collect.conftest import ACCOUNT, NOW, Scan, deny, make_scan

START, END = date(2026, 11, 9), date(2026, 11, 23)
REGIONS = ("us-east-1", "eu-west-1")
OPERATION = "ce:GetCostAndUsage"


def group(first: str, second: str, net: str, unblended: str, quantity: str = "1"
          ) -> dict[str, Any]:
    return {"Keys": [first, second], "Metrics": {
        "NetAmortizedCost": {"Amount": net, "Unit": "USD"},
        "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
        "UsageQuantity": {"Amount": quantity, "Unit": "N/A"}}}


def page(day: str, *groups: dict[str, Any], token: str | None = None,
         by_usage_type: bool = True) -> dict[str, Any]:
    """One page of GetCostAndUsage as AWS answers it: one day's groups."""
    keys = ("REGION", "USAGE_TYPE") if by_usage_type else ("SERVICE", "REGION")
    following = int(day[-2:]) + 1
    answer: dict[str, Any] = {
        "GroupDefinitions": [{"Type": "DIMENSION", "Key": key} for key in keys],
        "ResultsByTime": [{"TimePeriod": {"Start": day, "End": f"{day[:-2]}{following:02d}"},
                           "Total": {}, "Groups": list(groups), "Estimated": False}],
        "DimensionValueAttributes": []}
    if token:
        answer["NextPageToken"] = token
    return answer


def request(services: tuple[str, ...], by_usage_type: bool, token: str | None = None
            ) -> dict[str, Any]:
    keys = ("REGION", "USAGE_TYPE") if by_usage_type else ("SERVICE", "REGION")
    asked: dict[str, Any] = {
        "TimePeriod": {"Start": "2026-11-09", "End": "2026-11-23"}, "Granularity": "DAILY",
        "Metrics": ["NetAmortizedCost", "UnblendedCost", "UsageQuantity"],
        "Filter": {"And": [{"Dimensions": {"Key": "SERVICE", "Values": list(services)}},
                           {"Dimensions": {"Key": "REGION", "Values": list(REGIONS)}}]},
        "GroupBy": [{"Type": "DIMENSION", "Key": key} for key in keys]}
    if token:
        asked["NextPageToken"] = token
    return asked


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Scan, Stubber]]:
    """An account's collector context with Cost Explorer answered by a Stubber."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    scan = make_scan(region=GLOBAL_REGION)
    with Stubber(scan.ctx.client("ce")) as stubber:
        yield scan, stubber
        stubber.assert_no_pending_responses()


def read(scan: Scan) -> Bill:
    return collect_bill(scan.ctx, REGIONS, START, END)


def paged(stubber: Stubber, query_index: int, pages: int) -> None:
    """The query's answer over `pages` pages, a group on each."""
    query = QUERIES[query_index]
    for n in range(pages):
        token = f"page-{query_index}-{n + 1}" if n + 1 < pages else None
        keys = ("us-east-1", f"USE1-usage-{n}") if query.by_usage_type else (
            query.services[0], "us-east-1")
        stubber.add_response(
            "get_cost_and_usage",
            page(f"2026-11-{9 + n:02d}", group(*keys, "1.0", "1.25"), token=token,
                 by_usage_type=query.by_usage_type),
            request(query.services, query.by_usage_type, f"page-{query_index}-{n}" if n else None))


def test_one_daily_request_per_service_group_over_the_window(
        stubbed: tuple[Scan, Stubber]) -> None:
    scan, stubber = stubbed
    stubber.add_response("get_cost_and_usage", page(
        "2026-11-09", group(LAMBDA, "us-east-1", "41.3700000000", "43.5500000000", "3.1E7"),
        group(ELB, "eu-west-1", "1.37", "1.44"), by_usage_type=False),
        request((LAMBDA, API_GATEWAY, ELB), by_usage_type=False))
    stubber.add_response("get_cost_and_usage", page(
        "2026-11-09", group("us-east-1", "USE1-Fargate-vCPU-Hours:perCPU", "11.27", "11.86",
                            "293")), request((ECS,), by_usage_type=True))
    stubber.add_response("get_cost_and_usage", page("2026-11-10"), request((EKS,), True))
    stubber.add_response("get_cost_and_usage", page(
        "2026-11-10", group("us-east-1", "BoxUsage:m5.2xlarge", "27.65", "27.65", "72")),
        request((EC2,), by_usage_type=True))

    bill = read(scan)
    assert bill.costs == (
        BilledCost("us-east-1", LAMBDA, "", date(2026, 11, 9), 41.37, 43.55, 3.1e7),
        BilledCost("eu-west-1", ELB, "", date(2026, 11, 9), 1.37, 1.44, 1.0),
        BilledCost("us-east-1", ECS, "USE1-Fargate-vCPU-Hours:perCPU", date(2026, 11, 9),
                   11.27, 11.86, 293.0),
        BilledCost("us-east-1", EC2, "BoxUsage:m5.2xlarge", date(2026, 11, 10), 27.65, 27.65,
                   72.0))
    assert (bill.calls, bill.unread, scan.errors) == (4, {}, [])
    assert scan.calls(OPERATION) == 4


def test_pages_are_read_within_eight_requests(stubbed: tuple[Scan, Stubber]) -> None:
    scan, stubber = stubbed
    for index, pages in enumerate((3, 2, 1, 2)):
        paged(stubber, index, pages)
    bill = read(scan)
    assert (bill.calls, bill.unread, scan.errors) == (MAX_CALLS, {}, [])
    assert len(bill.costs) == 8
    assert scan.calls(OPERATION) == MAX_CALLS


def test_pages_beyond_the_budget_leave_their_group_unread(
        stubbed: tuple[Scan, Stubber]) -> None:
    scan, stubber = stubbed
    # Lambda, API Gateway and ELB would take 9 pages; the three groups after keep a request
    # each, so it gets 5 and stops with pages left.
    query = QUERIES[0]
    for n in range(5):
        stubber.add_response(
            "get_cost_and_usage",
            page(f"2026-11-{9 + n:02d}", group(LAMBDA, "us-east-1", "1", "1"),
                 token=f"page-{n + 1}", by_usage_type=False),
            request(query.services, False, f"page-{n}" if n else None))
    for index in (1, 2, 3):
        paged(stubber, index, 1)

    bill = read(scan)
    assert bill.calls == MAX_CALLS and scan.calls(OPERATION) == MAX_CALLS
    assert set(bill.unread) == {LAMBDA, API_GATEWAY, ELB}
    assert {cost.service for cost in bill.costs} == {ECS, EKS, EC2}
    [error] = scan.errors
    assert (error.service, error.operation, error.code, error.region) == (
        "ce", "GetCostAndUsage", "RequestBudgetExhausted", GLOBAL_REGION)
    assert error.datasets == (DATASET,)


def test_an_answer_out_of_shape_is_recorded_and_ends_the_reading(
        stubbed: tuple[Scan, Stubber]) -> None:
    scan, stubber = stubbed
    paged(stubber, 0, 1)
    stubber.add_response("get_cost_and_usage", page(
        "2026-11-09", group("us-east-1", "USE1-Fargate-GB-Hours", "about five", "5")),
        request((ECS,), True))
    bill = read(scan)
    [error] = scan.errors
    assert (error.operation, error.code) == ("GetCostAndUsage", "ValueError")
    assert set(bill.unread) == {ECS, EKS, EC2}
    assert bill.calls == 2


@pytest.mark.usefixtures("aws")
def test_a_denied_cost_explorer_is_an_errors_entry(scan: Callable[..., Scan]) -> None:
    audit = scan(region=GLOBAL_REGION)
    deny(audit.ctx.client("ce"), "GetCostAndUsage")
    bill = read(audit)
    [error] = audit.errors
    assert (error.account, error.region, error.service, error.operation, error.code) == (
        ACCOUNT, GLOBAL_REGION, "ce", "GetCostAndUsage", "AccessDeniedException")
    # The first request was refused: the rest are not asked, and cost nothing.
    assert bill.calls == 1 and audit.calls(OPERATION) == 1
    assert bill.unread == dict.fromkeys(
        (LAMBDA, API_GATEWAY, ELB, ECS, EKS, EC2),
        "GetCostAndUsage failed: AccessDeniedException")


@pytest.mark.usefixtures("aws")
def test_cost_explorer_is_asked_nothing_without_the_bill(scan: Callable[..., Scan]) -> None:
    audit = scan()
    assert billing_datasets(Config()) == frozenset()
    assert billing_datasets(Config(billing=True)) == {DATASET}
    target = Target(ACCOUNT, audit.ctx.clients, REGIONS)
    assert collect_bills([target], frozenset({"lambda.functions"}), START, END,
                         audit.ctx.recorder, NOW) == ()
    assert audit.calls(OPERATION) == 0
