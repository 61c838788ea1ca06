"""`auditor pricing refresh`: current list prices from the AWS Price List API into the cache.

The Price List API (`pricing:GetProducts`, served from us-east-1) answers per service code with
a page of `PriceList` items, each a JSON *string* holding one product (its attributes, among
them `usagetype`) and its terms. For every `PriceBook` key this module knows the service code,
the product family and the usage type (without the region's billing prefix: `USE1-`, `EUW1-`,
none for some us-east-1 products) and takes the first tier's on-demand USD price. Keys the API
does not answer for a region are listed as `missing` and keep their embedded or derived value.

It runs only when asked; a scan never calls it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auditor.errors import AuditorError
from auditor.pricing.cache import CACHE_FORMAT
from auditor.pricing.ec2 import refresh_types

PRICING_REGION = "us-east-1"
SOURCE = "AWS Price List API (pricing:GetProducts)"


class PriceRefreshError(AuditorError):
    """The Price List API could not be read at all."""

    exit_code = 3


@dataclass(frozen=True)
class PriceSpec:
    """Where one price lives in the Price List: service code, product family and usage type."""

    key: str
    service: str
    usage: str
    family: str | None = None
    scale: float = 1.0
    """Multiplier from the API's unit to the book's (per request -> per million)."""


SPECS: tuple[PriceSpec, ...] = (
    PriceSpec("lambda_gb_s", "AWSLambda", "Lambda-GB-Second"),
    PriceSpec("lambda_arm_gb_s", "AWSLambda", "Lambda-GB-Second-ARM"),
    PriceSpec("lambda_requests_per_million", "AWSLambda", "Request", scale=1e6),
    PriceSpec("lambda_provisioned_gb_s", "AWSLambda", "Lambda-Provisioned-Concurrency"),
    PriceSpec("lambda_arm_provisioned_gb_s", "AWSLambda", "Lambda-Provisioned-Concurrency-ARM"),
    PriceSpec("lambda_provisioned_duration_gb_s", "AWSLambda", "Lambda-Provisioned-GB-Second"),
    PriceSpec("lambda_arm_provisioned_duration_gb_s", "AWSLambda",
              "Lambda-Provisioned-GB-Second-ARM"),
    PriceSpec("fargate_vcpu_hour", "AmazonECS", "Fargate-vCPU-Hours:perCPU"),
    PriceSpec("fargate_gb_hour", "AmazonECS", "Fargate-GB-Hours"),
    PriceSpec("fargate_arm_vcpu_hour", "AmazonECS", "Fargate-ARM-vCPU-Hours:perCPU"),
    PriceSpec("fargate_arm_gb_hour", "AmazonECS", "Fargate-ARM-GB-Hours"),
    PriceSpec("eks_cluster_hour", "AmazonEKS", "AmazonEKS-Hours:perCluster"),
    PriceSpec("alb_hour", "AWSELB", "LoadBalancerUsage", "Load Balancer-Application"),
    PriceSpec("alb_lcu_hour", "AWSELB", "LCUUsage", "Load Balancer-Application"),
    PriceSpec("apigw_http_per_million", "AmazonApiGateway", "ApiGatewayHttpRequest", "API Calls",
              scale=1e6),
    PriceSpec("apigw_rest_per_million", "AmazonApiGateway", "ApiGatewayRequest", "API Calls",
              scale=1e6),
    PriceSpec("nat_hour", "AmazonEC2", "NatGateway-Hours", "NAT Gateway"),
    PriceSpec("nat_gb", "AmazonEC2", "NatGateway-Bytes", "NAT Gateway"),
    PriceSpec("interface_endpoint_az_hour", "AmazonVPC", "VpcEndpoint-Hours", "VpcEndpoint"),
    PriceSpec("interface_endpoint_gb", "AmazonVPC", "VpcEndpoint-Bytes", "VpcEndpoint"),
)
_EXTENDED_SUPPORT = "AmazonEKS-Hours:extendedSupport"
"""Billed on top of the standard cluster-hour: the book's extended price is their sum."""
_SPOT_VCPU = "SpotUsage:Fargate-vCPU-Hours:perCPU"
"""Fargate Spot's vCPU price; the book keeps Spot as a discount off on-demand."""
_FALLBACK_SERVICE = {"AWSELB": "AmazonEC2"}
"""The Price List files us-east-1's ALB under AmazonEC2; other regions under AWSELB."""
_PREFIX = re.compile(r"^[A-Z]{2,4}\d?-")
"""A usage type's region prefix: USE1-, EUW1-, APN1-, EU-..."""


def bare_usage(usagetype: str) -> str:
    """The usage type without its region's billing prefix (`USE1-Fargate-GB-Hours` ->
    `Fargate-GB-Hours`): the same in every region."""
    return _PREFIX.sub("", usagetype, count=1)


def first_tier_usd(item: Mapping[str, Any]) -> float | None:
    """The on-demand USD price of a product's first tier (the range starting at 0)."""
    for term in item.get("terms", {}).get("OnDemand", {}).values():
        dimensions = list(term.get("priceDimensions", {}).values())
        dimensions.sort(key=lambda d: float(d.get("beginRange", "0") or 0))
        for dimension in dimensions:
            usd = dimension.get("pricePerUnit", {}).get("USD")
            if usd is not None:
                return float(usd)
    return None


def products(client: Any, service: str, filters: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    """Every product GetProducts returns for the filters, each PriceList string parsed."""
    request: dict[str, Any] = {
        "ServiceCode": service,
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    while True:
        page = client.get_products(**request)
        for raw in page.get("PriceList", []):
            yield json.loads(raw) if isinstance(raw, str) else raw
        token = page.get("NextToken")
        if not token:
            return
        request["NextToken"] = token


def _by_usage(items: Iterable[Mapping[str, Any]]) -> tuple[dict[str, float], str]:
    prices: dict[str, float] = {}
    published = ""
    for item in items:
        attributes = item.get("product", {}).get("attributes", {})
        price = first_tier_usd(item)
        usage = attributes.get("usagetype")
        if usage is None or price is None:
            continue
        prices.setdefault(bare_usage(str(usage)), price)
        published = max(published, str(item.get("publicationDate", ""))[:10])
    return prices, published


def refresh_region(client: Any, region: str, instances: bool = True) -> dict[str, Any]:
    """One region's table: prices by book key, EC2 instance prices, and what was missing."""
    groups: dict[tuple[str, str | None], list[PriceSpec]] = defaultdict(list)
    for spec in SPECS:
        groups[(spec.service, spec.family)].append(spec)
    prices: dict[str, float] = {}
    published: list[str] = []
    found: dict[str, dict[str, float]] = {}
    for (service, family), specs in groups.items():
        filters = {"regionCode": region, **({"productFamily": family} if family else {})}
        by_usage, date = _by_usage(products(client, service, filters))
        fallback = _FALLBACK_SERVICE.get(service)
        if fallback and not all(s.usage in by_usage for s in specs):
            more, more_date = _by_usage(products(client, fallback, filters))
            by_usage = {**more, **by_usage}
            date = max(date, more_date)
        found[service] = by_usage
        published.append(date)
        for spec in specs:
            if spec.usage in by_usage:
                prices[spec.key] = round(by_usage[spec.usage] * spec.scale, 12)
    eks = found.get("AmazonEKS", {})
    if "eks_cluster_hour" in prices and _EXTENDED_SUPPORT in eks:
        prices["eks_extended_cluster_hour"] = prices["eks_cluster_hour"] + eks[_EXTENDED_SUPPORT]
    spot = found.get("AmazonECS", {}).get(_SPOT_VCPU)
    if spot is not None and prices.get("fargate_vcpu_hour"):
        prices["fargate_spot_discount"] = round(1 - spot / prices["fargate_vcpu_hour"], 4)
    instance_prices = _instance_prices(client, region) if instances else {}
    wanted = [s.key for s in SPECS] + ["eks_extended_cluster_hour", "fargate_spot_discount"]
    return {
        "as_of": max(published) if any(published) else "",
        "prices": dict(sorted(prices.items())),
        "instances": instance_prices,
        "missing": sorted(key for key in wanted if key not in prices),
    }


def _instance_prices(client: Any, region: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for instance_type in refresh_types():
        filters = {"regionCode": region, "instanceType": instance_type,
                   "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                   "capacitystatus": "Used", "licenseModel": "No License required"}
        for item in products(client, "AmazonEC2", filters):
            price = first_tier_usd(item)
            if price:
                found[instance_type] = price
                break
    return found


def refresh(client: Any, regions: Sequence[str], now: datetime | None = None,
            instances: bool = True) -> dict[str, Any]:
    """The whole cache document for `regions`; raises PriceRefreshError if the API fails."""
    try:
        tables = {region: refresh_region(client, region, instances) for region in regions}
    except (ClientError, BotoCoreError) as exc:
        raise PriceRefreshError(
            f"the AWS Price List API could not be read ({type(exc).__name__}: {exc}); the "
            "credentials need pricing:GetProducts. Scans keep using the embedded prices."
        ) from None
    if not any(table["prices"] for table in tables.values()):
        raise PriceRefreshError(
            f"the AWS Price List API returned no prices for {', '.join(regions)}; check the "
            "region names. The cache was not written."
        )
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {"format": CACHE_FORMAT, "source": SOURCE,
            "fetched_at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "regions": tables}
