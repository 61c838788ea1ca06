"""Embedded EC2 on-demand Linux prices (us-east-1) for the instance types node groups and
ECS container instances commonly run, so an EKS cluster's or EC2-backed service's current
cost can be priced offline. Within a family AWS prices sizes linearly, so the table holds
each family's `.large` price and vCPU-to-memory ratio; burstable families are listed whole.
`auditor pricing refresh` replaces these with the Price List API's prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# family -> ($/hour of .large, GiB of memory per vCPU, whether .medium exists)
_FAMILIES: dict[str, tuple[float, int, bool]] = {
    "m5": (0.096, 4, False), "m5a": (0.086, 4, False), "m6i": (0.096, 4, False),
    "m6a": (0.0864, 4, False), "m6g": (0.077, 4, True), "m7i": (0.1008, 4, False),
    "m7g": (0.0816, 4, True), "m7a": (0.11592, 4, True),
    "c5": (0.085, 2, False), "c5a": (0.077, 2, False), "c6i": (0.085, 2, False),
    "c6a": (0.0765, 2, False), "c6g": (0.068, 2, True), "c7i": (0.08925, 2, False),
    "c7g": (0.0725, 2, True),
    "r5": (0.126, 8, False), "r5a": (0.113, 8, False), "r6i": (0.126, 8, False),
    "r6a": (0.1134, 8, False), "r6g": (0.1008, 8, True), "r7i": (0.1323, 8, False),
    "r7g": (0.1071, 8, True),
}
_SIZES = {"medium": 0.5, "large": 1, "xlarge": 2, "2xlarge": 4, "4xlarge": 8, "8xlarge": 16,
          "12xlarge": 24, "16xlarge": 32, "24xlarge": 48}
# Burstable families: size -> (vCPU, GiB, $/hour)
_BURSTABLE: dict[str, dict[str, tuple[int, float, float]]] = {
    "t3": {"nano": (2, 0.5, 0.0052), "micro": (2, 1, 0.0104), "small": (2, 2, 0.0208),
           "medium": (2, 4, 0.0416), "large": (2, 8, 0.0832), "xlarge": (4, 16, 0.1664),
           "2xlarge": (8, 32, 0.3328)},
    "t3a": {"nano": (2, 0.5, 0.0047), "micro": (2, 1, 0.0094), "small": (2, 2, 0.0188),
            "medium": (2, 4, 0.0376), "large": (2, 8, 0.0752), "xlarge": (4, 16, 0.1504),
            "2xlarge": (8, 32, 0.3008)},
    "t4g": {"nano": (2, 0.5, 0.0042), "micro": (2, 1, 0.0084), "small": (2, 2, 0.0168),
            "medium": (2, 4, 0.0336), "large": (2, 8, 0.0672), "xlarge": (4, 16, 0.1344),
            "2xlarge": (8, 32, 0.2688)},
}
SOURCE = "Amazon EC2 On-Demand pricing, Linux, us-east-1 (embedded)"


@dataclass(frozen=True)
class InstanceSpec:
    instance_type: str
    vcpu: float
    memory_gb: float
    hourly: float


def embedded_instance(instance_type: str) -> InstanceSpec | None:
    """Size and us-east-1 price of an instance type, None when it is not in the table."""
    family, _, size = instance_type.partition(".")
    if family in _BURSTABLE:
        entry = _BURSTABLE[family].get(size)
        return None if entry is None else InstanceSpec(instance_type, *entry)
    spec = _FAMILIES.get(family)
    factor = _SIZES.get(size)
    if spec is None or factor is None or (size == "medium" and not spec[2]):
        return None
    large_price, gib_per_vcpu, _ = spec
    vcpu = 2 * factor
    return InstanceSpec(instance_type, vcpu, vcpu * gib_per_vcpu, round(large_price * factor, 6))


def instance_price(instance_type: str, table: Mapping[str, float], factor: float = 1.0
                   ) -> float | None:
    """$/hour from a refreshed table (exact type, else its family's `.large` scaled by size),
    else the embedded price times `factor` (the region multiplier); None when unknown."""
    if instance_type in table:
        return table[instance_type]
    spec = embedded_instance(instance_type)
    if spec is None:
        return None
    family, _, size = instance_type.partition(".")
    large = table.get(f"{family}.large")
    if large is not None and family in _FAMILIES:
        return large * _SIZES[size]
    return spec.hourly * factor


def refresh_types() -> list[str]:
    """The `.large` of every family and each burstable size: what a refresh asks prices for."""
    return [f"{family}.large" for family in _FAMILIES] + [
        f"{family}.{size}" for family, sizes in _BURSTABLE.items() for size in sizes
    ]
