"""Savings Plans, their coverage and Reserved Instances (`auditor.collect.commitments`), read
with `--bill`. moto implements none of these reads, so the answers are AWS's documented
response shapes through botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from botocore.stub import Stubber

from auditor.collect.commitments import (
    COVERAGE,
    MAX_PAGES,
    RESERVED,
    SAVINGS_PLANS,
    reserved_instances,
    savings_plans,
)
from auditor.model import GLOBAL_REGION, CoveredSpend
from tests.collect.conftest import ACCOUNT, Scan, make_scan

REGIONS = ("us-east-1", "eu-west-1")
PLAN_ID = "3f7c9e1a-5b2d-4c8e-9a6f-0d1e2b3c4d5e"
PLAN_ARN = f"arn:aws:savingsplans::{ACCOUNT}:savingsplan/{PLAN_ID}"
WHERE = {"name": "region", "values": list(REGIONS)}


def plan(**extra: Any) -> dict[str, Any]:
    return {"offeringId": "ead3f7c5-6e5c-4d4a-8d5e-0c1b2a3d4e5f", "savingsPlanId": PLAN_ID,
            "savingsPlanArn": PLAN_ARN, "description": "3 year No Upfront Compute SP",
            "start": "2025-06-01T00:00:00.000Z", "end": "2028-06-01T00:00:00.000Z",
            "state": "active", "savingsPlanType": "Compute", "paymentOption": "No Upfront",
            "productTypes": ["EC2", "Fargate", "Lambda"], "currency": "USD",
            "commitment": "1.25", "upfrontPaymentAmount": "0",
            "recurringPaymentAmount": "1.25", "termDurationInSeconds": 94608000,
            "tags": {}, **extra}


def rate(product: str, usage_type: str, usd: str, instance_type: str | None = None
         ) -> dict[str, Any]:
    properties = [{"name": "region", "value": "us-east-1"}]
    if instance_type:
        properties += [{"name": "instanceType", "value": instance_type},
                       {"name": "productDescription", "value": "Linux/UNIX"},
                       {"name": "tenancy", "value": "shared"}]
    service = {"Lambda": "AWSLambda", "Fargate": "AmazonECS", "EC2": "AmazonEC2"}[product]
    return {"rate": usd, "currency": "USD", "unit": "Hrs", "productType": product,
            "serviceCode": service, "usageType": usage_type,
            "operation": "RunInstances" if instance_type else "", "properties": properties}


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Scan, Stubber, Stubber]]:
    """An account's context (its regions known, as the scan gives them) with the Savings
    Plans API and Cost Explorer answered by Stubbers."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    scan = make_scan(region=GLOBAL_REGION)
    scan = Scan(replace(scan.ctx, regions=REGIONS), scan.stats)
    with Stubber(scan.ctx.client("savingsplans")) as plans, \
            Stubber(scan.ctx.client("ce")) as ce:
        yield scan, plans, ce
        plans.assert_no_pending_responses()
        ce.assert_no_pending_responses()


def test_an_active_plan_its_rates_and_one_coverage_request(
        stubbed: tuple[Scan, Stubber, Stubber]) -> None:
    scan, plans, ce = stubbed
    plans.add_response("describe_savings_plans", {"savingsPlans": [plan()]},
                       {"states": ["active"], "maxResults": 1000})
    lambda_and_fargate = {"savingsPlanId": PLAN_ID, "maxResults": 1000, "filters": [
        WHERE, {"name": "productType", "values": ["Lambda", "Fargate"]}]}
    plans.add_response("describe_savings_plan_rates", {
        "savingsPlanId": PLAN_ID, "nextToken": "page-2", "searchResults": [
            rate("Lambda", "USE1-Lambda-GB-Second-ARM", "0.0000110667")]},
        lambda_and_fargate)
    plans.add_response("describe_savings_plan_rates", {
        "savingsPlanId": PLAN_ID, "searchResults": [
            rate("Fargate", "USE1-Fargate-vCPU-Hours:perCPU", "0.0218592")]},
        {**lambda_and_fargate, "nextToken": "page-2"})
    plans.add_response("describe_savings_plan_rates", {
        "savingsPlanId": PLAN_ID, "searchResults": [
            rate("EC2", "BoxUsage:m6i.large", "0.0528", "m6i.large")]},
        {"savingsPlanId": PLAN_ID, "maxResults": 1000, "filters": [
            WHERE, {"name": "productType", "values": ["EC2"]},
            {"name": "tenancy", "values": ["shared"]},
            {"name": "productDescription", "values": ["Linux/UNIX"]}]})
    ce.add_response("get_savings_plans_coverage", {"SavingsPlansCoverages": [
        {"Attributes": {"SERVICE": "Amazon Elastic Container Service"},
         "Coverage": {"SpendCoveredBySavingsPlans": "480.0", "OnDemandCost": "120.0",
                      "TotalCost": "600.0", "CoveragePercentage": "80.0"},
         "TimePeriod": {"Start": "2025-12-18", "End": "2026-01-01"}},
        {"Attributes": {"SERVICE": "AWS Lambda"},
         "Coverage": {"SpendCoveredBySavingsPlans": "0", "OnDemandCost": "52.5",
                      "TotalCost": "52.5", "CoveragePercentage": "0"},
         "TimePeriod": {"Start": "2025-12-18", "End": "2026-01-01"}}]},
        {"TimePeriod": {"Start": "2025-12-18", "End": "2026-01-01"},
         "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"}],
         "Filter": {"Dimensions": {"Key": "REGION", "Values": list(REGIONS)}}})

    found = savings_plans(scan.ctx)

    [read] = found.savings_plans
    assert (read.arn, read.plan_type, read.commitment_per_hour, read.products) == (
        PLAN_ARN, "Compute", 1.25, ("EC2", "Fargate", "Lambda"))
    assert [(r.product, r.region, r.usage_type, r.usd, r.instance_type) for r in read.rates] == [
        ("Lambda", "us-east-1", "USE1-Lambda-GB-Second-ARM", 0.0000110667, None),
        ("Fargate", "us-east-1", "USE1-Fargate-vCPU-Hours:perCPU", 0.0218592, None),
        ("EC2", "us-east-1", "BoxUsage:m6i.large", 0.0528, "m6i.large")]
    [coverage] = found.savings_plans_coverage
    assert (coverage.start, coverage.end, coverage.regions) == ("2025-12-18", "2026-01-01",
                                                                REGIONS)
    assert coverage.by_service == {"Amazon Elastic Container Service": CoveredSpend(480, 600),
                                   "AWS Lambda": CoveredSpend(0, 52.5)}
    # Cost Explorer bills each request: one an account, whatever the number of plans.
    assert scan.calls("ce:GetSavingsPlansCoverage") == 1
    assert scan.errors == []


def test_no_active_plan_no_cost_explorer_request(stubbed: tuple[Scan, Stubber, Stubber]
                                                 ) -> None:
    scan, plans, _ = stubbed
    plans.add_response("describe_savings_plans", {"savingsPlans": []},
                       {"states": ["active"], "maxResults": 1000})
    found = savings_plans(scan.ctx)
    assert (found.savings_plans, found.savings_plans_coverage) == ((), ())
    assert scan.calls("ce:GetSavingsPlansCoverage") == 0


def test_coverage_denied_keeps_the_plans_and_names_the_call(
        stubbed: tuple[Scan, Stubber, Stubber]) -> None:
    scan, plans, ce = stubbed
    plans.add_response("describe_savings_plans", {"savingsPlans": [plan(
        savingsPlanType="EC2Instance", productTypes=["EC2"], region="eu-west-1",
        ec2InstanceFamily="m6i")]}, {"states": ["active"], "maxResults": 1000})
    # An EC2 Instance plan: its own region's Linux EC2 rates only.
    plans.add_response("describe_savings_plan_rates", {"searchResults": []}, {
        "savingsPlanId": PLAN_ID, "maxResults": 1000, "filters": [
            {"name": "region", "values": ["eu-west-1"]},
            {"name": "productType", "values": ["EC2"]}, {"name": "tenancy", "values": ["shared"]},
            {"name": "productDescription", "values": ["Linux/UNIX"]}]})
    ce.add_client_error("get_savings_plans_coverage", "AccessDeniedException",
                        "not authorized to perform ce:GetSavingsPlansCoverage")
    found = savings_plans(scan.ctx)
    assert [(p.plan_region, p.ec2_instance_family) for p in found.savings_plans] == [
        ("eu-west-1", "m6i")]
    assert found.savings_plans_coverage == ()
    [error] = scan.errors
    assert (error.service, error.operation, error.code, error.datasets) == (
        "ce", "GetSavingsPlansCoverage", "AccessDeniedException", (COVERAGE,))


def test_nothing_is_read_unless_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    scan = make_scan(wanted=("lambda.functions",), region=GLOBAL_REGION)
    assert savings_plans(replace(scan.ctx, regions=REGIONS)).savings_plans == ()
    assert reserved_instances(make_scan(wanted=("lambda.functions",)).ctx) \
        .reserved_instances == ()
    assert scan.stats.total == 0


def test_active_reserved_instances_with_their_hourly_price(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    scan = make_scan(wanted=(RESERVED, SAVINGS_PLANS))
    with Stubber(scan.ctx.client("ec2")) as ec2:
        ec2.add_response("describe_reserved_instances", {"ReservedInstances": [{
            "ReservedInstancesId": "b847fa93-1b3c-4e55-9a2f-0e1d2c3b4a59",
            "InstanceType": "m6i.xlarge", "InstanceCount": 2, "State": "active",
            "Scope": "Region", "ProductDescription": "Linux/UNIX", "InstanceTenancy": "default",
            "OfferingClass": "standard", "OfferingType": "Partial Upfront",
            "CurrencyCode": "USD", "Duration": 31536000, "FixedPrice": 525.6,
            "UsagePrice": 0.0, "RecurringCharges": [{"Amount": 0.06, "Frequency": "Hourly"}]}]},
            {"Filters": [{"Name": "state", "Values": ["active"]}]})
        [ri] = reserved_instances(scan.ctx).reserved_instances
    assert ri.arn == (f"arn:aws:ec2:us-east-1:{ACCOUNT}:reserved-instances/"
                      "b847fa93-1b3c-4e55-9a2f-0e1d2c3b4a59")
    assert (ri.instance_type, ri.instance_count, ri.zonal, ri.fixed_price, ri.hourly_price) == (
        "m6i.xlarge", 2, False, 525.6, 0.06)


def test_a_listing_that_never_stops_paging_is_refused_not_followed(
        stubbed: tuple[Scan, Stubber, Stubber]) -> None:
    scan, plans, _ = stubbed
    for page in range(MAX_PAGES):
        plans.add_response("describe_savings_plans",
                           {"savingsPlans": [plan()], "nextToken": f"page-{page + 1}"},
                           {"states": ["active"], "maxResults": 1000,
                            **({"nextToken": f"page-{page}"} if page else {})})
    found = savings_plans(scan.ctx)
    assert found.savings_plans == () and scan.calls("ce:GetSavingsPlansCoverage") == 0
    [error] = scan.errors
    assert (error.operation, error.code, error.datasets) == (
        "DescribeSavingsPlans", "PageLimitExceeded", (SAVINGS_PLANS, COVERAGE))
