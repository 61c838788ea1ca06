"""The price book: on-demand list prices with their source and date, one per region.

Every dollar figure in a report is computed from one `PriceBook`, and the report names it, so
a savings number can be re-derived by hand from its evidence. The embedded prices are the
us-east-1 list prices of SPEC section 5. Other regions are either read from the price cache
(`auditor pricing refresh`) or derived from us-east-1 with the region's Fargate price ratio
(`REGION_MULTIPLIERS`), applied to the hourly infrastructure prices only: Lambda, API Gateway
and the EKS control plane cost the same in the regions listed.

Free tiers are off unless configured (`free_tier`); AWS grants them once per account.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any

from auditor.errors import ConfigError
from auditor.pricing.discounts import Discount
from auditor.pricing.ec2 import instance_price

HOURS_PER_MONTH = 730.0
"""AWS's own monthly convention (8,760 hours / 12)."""
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
EMBEDDED_SOURCE = "embedded AWS list prices, us-east-1, on-demand"
EMBEDDED_AS_OF = "2026-11-01"

REGION_MULTIPLIERS: Mapping[str, float] = MappingProxyType({
    # The region's Fargate x86 vCPU-hour list price over us-east-1's $0.04048.
    "us-east-1": 1.0, "us-east-2": 1.0, "us-west-2": 1.0, "eu-west-1": 1.0,
    "us-west-1": 1.15, "ca-central-1": 1.1, "eu-central-1": 1.15, "eu-west-2": 1.15,
    "eu-west-3": 1.15, "eu-north-1": 1.05, "ap-south-1": 1.05, "ap-southeast-1": 1.249,
    "ap-southeast-2": 1.2, "ap-northeast-1": 1.249, "ap-northeast-2": 1.2, "sa-east-1": 1.72,
})
REGIONAL_KEYS = frozenset({
    "fargate_vcpu_hour", "fargate_gb_hour", "fargate_arm_vcpu_hour", "fargate_arm_gb_hour",
    "alb_hour", "alb_lcu_hour", "nat_hour", "nat_gb", "interface_endpoint_az_hour",
    "interface_endpoint_gb", "nlb_hour", "nlb_lcu_hour",
})
"""The prices a region multiplier scales (EC2 instance prices are scaled too)."""


def cents(value: float) -> float:
    """Dollars to the cent, half up (333.335 -> 333.34), as a bill rounds."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def rate(value: float) -> str:
    """A unit price as written on AWS's price pages: 0.0000166667 (never 1.66667e-05), 0.20."""
    whole, _, decimals = f"{value:.10f}".partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


@dataclass(frozen=True)
class PriceBook:
    source: str = EMBEDDED_SOURCE
    as_of: str = EMBEDDED_AS_OF
    region: str = "us-east-1"
    fargate_vcpu_hour: float = 0.04048
    fargate_gb_hour: float = 0.004445
    fargate_arm_vcpu_hour: float = 0.03238
    fargate_arm_gb_hour: float = 0.00356
    fargate_spot_discount: float = 0.70
    lambda_gb_s: float = 0.0000166667
    lambda_arm_gb_s: float = 0.0000133334
    lambda_requests_per_million: float = 0.20
    lambda_provisioned_gb_s: float = 0.0000041667
    lambda_provisioned_duration_gb_s: float = 0.0000097222
    lambda_arm_provisioned_gb_s: float = 0.0000033334
    lambda_arm_provisioned_duration_gb_s: float = 0.0000077778
    eks_cluster_hour: float = 0.10
    eks_extended_cluster_hour: float = 0.60
    alb_hour: float = 0.0225
    alb_lcu_hour: float = 0.008
    apigw_http_per_million: float = 1.00
    apigw_rest_per_million: float = 3.50
    nat_hour: float = 0.045
    nat_gb: float = 0.045
    cross_az_gb: float = 0.01
    """Data moved between two Availability Zones of a region, per GB."""
    nlb_hour: float = 0.0225
    nlb_lcu_hour: float = 0.006
    interface_endpoint_az_hour: float = 0.01
    interface_endpoint_gb: float = 0.01
    lambda_free_requests: float = 1_000_000
    lambda_free_gb_s: float = 400_000
    free_tier: bool = False
    """Subtract Lambda's monthly free tier (off by default: AWS grants it once per account)."""
    instances: Mapping[str, float] = field(default_factory=dict)
    """EC2 on-demand Linux $/hour by instance type, over the embedded table (from the cache)."""
    regional: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per-region price tables from the cache: {region: {"prices": {...}, "instances": {...},
    "as_of": ...}}; regions missing here are derived with `REGION_MULTIPLIERS`."""
    overrides: Mapping[str, float] = field(default_factory=dict)
    """Prices set by hand (`auditor estimate --price`), named in `describe()`."""
    discounts: Mapping[str, Discount] = field(default_factory=dict)
    """Off list for a platform family (`lambda`, `fargate`, `ec2`) or an EC2 instance family
    (`ec2:t3`: Reserved Instances, an EC2 Instance Savings Plan): the book's effective rates.
    Families without one are at list."""
    discount_notes: tuple[str, ...] = ()
    """What the discounts rest on and what was assumed for them, in words."""
    basis: str = ""
    """How this region's prices were obtained, when not the book's own (`in_region`)."""
    parent: PriceBook | None = field(default=None, compare=False, repr=False)
    """The book this regional one was derived from."""

    def describe(self) -> dict[str, str]:
        out = {"source": self.source, "as_of": self.as_of, "region": self.region,
               "free_tier": "applied" if self.free_tier else "off"}
        if self.basis:
            out["basis"] = self.basis
        if self.regional:
            out["cached_regions"] = ", ".join(sorted(self.regional))
        if self.overrides:
            out["overrides"] = ", ".join(f"{key}={rate(value)}"
                                         for key, value in sorted(self.overrides.items()))
        if self.discounts:
            out["discounts"] = "; ".join(self.discounts[key].label
                                         for key in sorted(self.discounts))
        return out

    # ---- regions

    def in_region(self, region: str) -> PriceBook:
        """The book for `region`: the cached table if there is one, else this book's prices
        scaled by the region's multiplier (unknown regions keep this book's prices)."""
        if region == self.region:
            return self
        if self.parent is not None:
            return self.parent.in_region(region)
        cached = self.regional.get(region)
        factor = REGION_MULTIPLIERS.get(region)
        if cached is not None:
            basis = f"price cache table for {region}"
        elif factor is None:
            basis = f"no prices for {region}: {self.region} prices used"
        elif factor == 1.0:
            basis = f"same list prices as {self.region}"
        else:
            basis = (f"{self.region} prices x {factor:g} (the {region}/{self.region} Fargate "
                     "price ratio) for Fargate, load balancer, NAT, endpoint and EC2 prices")
        # Keys a cached table lacks are derived like an uncached region's.
        prices: dict[str, float] = {key: getattr(self, key) * (factor or 1.0)
                                    for key in REGIONAL_KEYS}
        book = replace(self, region=region, basis=basis, instances={}, parent=self)
        if cached is not None:
            prices.update(cached.get("prices", {}))
            book = replace(book, as_of=str(cached.get("as_of", self.as_of)),
                           instances=dict(cached.get("instances", {})))
        return book.with_prices({**prices, **self.overrides}, record=False)

    def multiplier(self) -> float:
        """The factor embedded EC2 instance prices get in this region (1 with a cached table)."""
        if self.region in self.regional:
            return 1.0
        return REGION_MULTIPLIERS.get(self.region, 1.0)

    # ---- overrides

    def with_prices(self, prices: Mapping[str, float], record: bool = True) -> PriceBook:
        """A copy with some prices replaced; unknown keys or negative values are refused."""
        for key, value in prices.items():
            if key not in PRICE_KEYS:
                hint = difflib.get_close_matches(key, sorted(PRICE_KEYS), n=1)
                also = f" (did you mean {hint[0]}?)" if hint else ""
                raise ConfigError(f"unknown price key {key!r}{also}; known keys: "
                                  f"{', '.join(sorted(PRICE_KEYS))}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(f"price {key} must be a number >= 0, got {value!r}")
        values = {key: float(value) for key, value in prices.items()}
        if not record:
            return replace(self, **values)  # type: ignore[arg-type]
        return replace(self, overrides={**self.overrides, **values}, **values)  # type: ignore[arg-type]

    # ---- effective rates

    def discount(self, family: str) -> Discount | None:
        """What the book takes off a family's list prices (`lambda`, `fargate`), if anything."""
        return self.discounts.get(family)

    def instance_discount(self, instance_type: str) -> Discount | None:
        """What the book takes off an instance type's hours: its instance family's discount,
        else EC2's."""
        family = instance_type.partition(".")[0]
        return self.discounts.get(f"ec2:{family}") or self.discounts.get("ec2")

    def with_discounts(self, discounts: Mapping[str, Discount],
                       notes: tuple[str, ...] = ()) -> PriceBook:
        """A copy with these discounts, each followed by the one the book already has for its
        family (a Savings Plan's, then private pricing on what it leaves)."""
        own = self.discounts
        return replace(self, discount_notes=(*self.discount_notes, *notes), discounts={
            **own, **{key: discount.then(own.get(key) or own.get(key.partition(":")[0]))
                      for key, discount in discounts.items()}})

    def at_list(self) -> PriceBook:
        """The same book with no discount: list prices throughout."""
        return replace(self, discounts={}, discount_notes=()) if self.discounts else self

    # ---- unit prices the checks and the cost model share

    def fargate_prices(self, arch: str = "X86_64") -> tuple[float, float]:
        """($/vCPU-hour, $/GB-hour) for x86_64 or ARM64 Fargate."""
        if arch.upper() == "ARM64":
            return self.fargate_arm_vcpu_hour, self.fargate_arm_gb_hour
        return self.fargate_vcpu_hour, self.fargate_gb_hour

    def fargate_task_month(self, vcpu: float, memory_gb: float, arch: str = "X86_64") -> float:
        """One always-on Fargate task for a 730-hour month."""
        vcpu_price, gb_price = self.fargate_prices(arch)
        return HOURS_PER_MONTH * (vcpu * vcpu_price + memory_gb * gb_price)

    def lambda_gb_s_price(self, arch: str) -> float:
        return self.lambda_arm_gb_s if arch == "arm64" else self.lambda_gb_s

    def provisioned_gb_s(self, arch: str) -> float:
        return self.lambda_arm_provisioned_gb_s if arch == "arm64" else (
            self.lambda_provisioned_gb_s
        )

    def provisioned_duration_gb_s(self, arch: str) -> float:
        return self.lambda_arm_provisioned_duration_gb_s if arch == "arm64" else (
            self.lambda_provisioned_duration_gb_s
        )

    def eks_control_plane_hour(self, extended: bool) -> float:
        return self.eks_extended_cluster_hour if extended else self.eks_cluster_hour

    def instance_hour(self, instance_type: str) -> float | None:
        """On-demand Linux $/hour of an EC2 instance type, None when not in the table."""
        return instance_price(instance_type, self.instances, self.multiplier())


PRICE_KEYS = frozenset(
    f.name for f in fields(PriceBook) if f.type in ("float", float)
)
"""The names `--price KEY=VALUE`, the config and the cache may set."""
