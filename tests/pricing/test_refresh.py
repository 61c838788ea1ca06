"""`auditor pricing refresh` against recorded GetProducts responses: the real botocore client
behind a Stubber (so every request is validated against the API model), the cache it writes,
and scans and estimates reading that cache without ever calling the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from auditor.cli import main
from auditor.errors import ConfigError
from auditor.pricing import refresh as refresh_module
from auditor.pricing.book import PriceBook
from auditor.pricing.cache import load_price_book, read_cache, write_cache
from auditor.pricing.refresh import SPECS, PriceRefreshError, first_tier_usd, refresh

DATA = Path(__file__).parent.parent / "data" / "pricing" / "get_products.json"
RESPONSES: dict[str, list[dict[str, Any]]] = json.loads(DATA.read_text())
NOW_TEXT = "2026-11-23T02:00:00Z"


def _key(params: dict[str, Any]) -> str:
    filters = {f["Field"]: f["Value"] for f in params["Filters"]}
    tail = (f"instance:{filters['instanceType']}" if "instanceType" in filters
            else filters.get("productFamily", ""))
    return f"{params['ServiceCode']}|{filters['regionCode']}|{tail}"


class RecordedPricing:
    """Answers get_products from the recorded pages, following NextToken."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def get_products(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        pages = RESPONSES.get(_key(params), [{"FormatVersion": "aws_v1", "PriceList": []}])
        index = int(str(params.get("NextToken", "token-0")).rsplit("-", 1)[1])
        return pages[index]


def _calls_in_order(regions: tuple[str, ...], instances: bool) -> list[dict[str, Any]]:
    fake = RecordedPricing()
    refresh(fake, regions, instances=instances)
    return fake.calls


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber


def test_refresh_through_the_real_client_parses_every_price(
        stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    for params in _calls_in_order(("us-east-1",), instances=False):
        stubber.add_response("get_products", RecordedPricing().get_products(**params), params)
    document = refresh(client, ("us-east-1",), instances=False)
    stubber.assert_no_pending_responses()
    table = document["regions"]["us-east-1"]
    assert table["missing"] == []
    prices = table["prices"]
    embedded = PriceBook()
    for spec in SPECS:
        assert prices[spec.key] == pytest.approx(getattr(embedded, spec.key)), spec.key
    # Extended support is billed on top of the cluster-hour; Spot is kept as a discount.
    assert prices["eks_extended_cluster_hour"] == pytest.approx(0.60)
    assert prices["fargate_spot_discount"] == pytest.approx(0.70)
    # The first tier, not a cheaper later one, and never the zero-priced free tier.
    assert prices["lambda_gb_s"] == 0.0000166667
    assert prices["lambda_requests_per_million"] == pytest.approx(0.20)
    assert table["as_of"] == "2026-10-15"
    assert document["fetched_at"].endswith("Z") and document["format"] == 1


def test_prefixed_usage_types_pagination_and_the_alb_fallback() -> None:
    fake = RecordedPricing()
    document = refresh(fake, ("us-east-1", "eu-west-1"), instances=False)
    lambda_pages = [c for c in fake.calls if c["ServiceCode"] == "AWSLambda"]
    assert [c.get("NextToken") for c in lambda_pages] == [None, "token-1"] * 2
    # us-east-1's ALB is filed under AmazonEC2; eu-west-1's under AWSELB.
    alb_calls = [(c["ServiceCode"], _key(c).split("|")[1]) for c in fake.calls
                 if "Load Balancer-Application" in _key(c)]
    assert alb_calls == [("AWSELB", "us-east-1"), ("AmazonEC2", "us-east-1"),
                         ("AWSELB", "eu-west-1")]
    ireland = document["regions"]["eu-west-1"]
    assert ireland["prices"]["alb_hour"] == pytest.approx(0.0252)
    assert ireland["prices"]["nat_hour"] == pytest.approx(0.048)
    assert ireland["prices"]["apigw_http_per_million"] == pytest.approx(1.11)
    assert ireland["missing"] == []


def test_instance_prices_are_fetched_per_type_when_asked() -> None:
    fake = RecordedPricing()
    document = refresh(fake, ("us-east-1",), instances=True)
    assert document["regions"]["us-east-1"]["instances"] == {"m6i.large": 0.096,
                                                             "t3.medium": 0.0416}
    instance_calls = [c for c in fake.calls if "instance:" in _key(c)]
    filters = {f["Field"]: f["Value"] for f in instance_calls[0]["Filters"]}
    assert filters["operatingSystem"] == "Linux" and filters["tenancy"] == "Shared"


def test_first_tier_is_the_range_starting_at_zero() -> None:
    item = json.loads(RESPONSES["AmazonApiGateway|us-east-1|API Calls"][0]["PriceList"][1])
    assert first_tier_usd(item) == pytest.approx(0.0000035)


def test_an_api_failure_is_one_clear_error(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    stubber.add_client_error("get_products", "AccessDeniedException", "not allowed")
    with pytest.raises(PriceRefreshError, match="pricing:GetProducts"):
        refresh(client, ("us-east-1",), instances=False)


def test_the_cache_round_trips_into_the_price_book(tmp_path: Path) -> None:
    document = refresh(RecordedPricing(), ("us-east-1", "eu-west-1"), instances=True)
    path = tmp_path / "prices.json"
    write_cache(path, document)
    book = load_price_book(path)
    assert str(path) in book.source and book.as_of == "2026-10-15"
    assert book.fargate_vcpu_hour == pytest.approx(0.04048)
    assert book.instance_hour("m6i.large") == pytest.approx(0.096)
    assert book.instance_hour("m6i.2xlarge") == pytest.approx(0.384)  # scaled from .large
    ireland = book.in_region("eu-west-1")
    assert ireland.alb_hour == pytest.approx(0.0252)
    assert ireland.basis == "price cache table for eu-west-1"
    # A region not in the cache is derived from the base with its multiplier.
    frankfurt = book.in_region("eu-central-1")
    assert frankfurt.fargate_vcpu_hour == pytest.approx(0.04048 * 1.15)


def test_a_broken_cache_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"format": 1, "regions": {"us-east-1": {"prices": {"bogus": 1}}}}')
    with pytest.raises(ConfigError, match="unknown keys"):
        read_cache(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_price_book(tmp_path / "missing.json")


def test_without_a_cache_the_embedded_prices_are_used(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert load_price_book() == PriceBook()


def test_cli_refresh_writes_the_cache_and_estimate_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fake = RecordedPricing()
    monkeypatch.setattr(refresh_module, "refresh",
                        lambda client, regions, instances=True: refresh(
                            fake, regions, instances=instances))
    monkeypatch.setattr("auditor.cli.estimate.refresh", refresh_module.refresh)
    result = CliRunner().invoke(main, ["pricing", "refresh", "--region", "us-east-1",
                                       "--no-instances"])
    assert result.exit_code == 0, result.output
    cache = tmp_path / "compute-auditor" / "prices.json"
    assert cache.is_file() and "wrote" in result.stderr
    estimate = CliRunner().invoke(main, ["estimate", "--requests-per-month", "10M",
                                         "--format", "json"])
    assert str(cache) in json.loads(estimate.output)["inputs"]["prices"]["source"]


def test_scans_and_estimates_never_fetch_prices(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("a price refresh ran without being asked")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(refresh_module, "refresh", refuse)
    monkeypatch.setattr(refresh_module, "products", refuse)
    result = CliRunner().invoke(main, ["estimate", "--requests-per-month", "1.5B"])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("aws")
def test_a_scan_reads_the_configured_cache_and_names_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from auditor.config import Config
    from auditor.scan import Environment, scan

    path = tmp_path / "prices.json"
    write_cache(path, refresh(RecordedPricing(), ("us-east-1",), instances=False))
    report = scan(Config(regions=("us-east-1",), pricing_cache=str(path), free_tier=True,
                         checks=("cost.*",)),
                  Environment(session=boto3.session.Session()), datetime.now(UTC))
    assert str(path) in report.pricing["source"]
    assert report.pricing["free_tier"] == "applied"
    assert not any(op.startswith("pricing:") for op in report.stats.api_calls_by_operation)
