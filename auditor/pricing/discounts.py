"""What an account pays below list: a share off list for each platform family, and where it
came from (private pricing in the config, a Savings Plan weighed by its coverage, Reserved
Instances, a figure stated to `auditor estimate`).

A discount applies to what Savings Plans cover, the platforms' compute: Lambda duration and
provisioned concurrency (not requests), Fargate vCPU and memory hours on demand (not Spot),
and EC2 instance hours. Requests, API Gateway, load balancers and the EKS control plane stay
at list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FAMILIES: Mapping[str, str] = {"lambda": "Lambda", "fargate": "Fargate", "ec2": "EC2"}
"""The platform families a discount is stated for, and their names in labels."""


def percent(fraction: float) -> str:
    """0.46 -> 46%, 0.368 -> 36.8%, 0.0625 -> 6.25%."""
    return f"{fraction * 100:.3g}%"


@dataclass(frozen=True)
class Discount:
    """A share off list (`fraction`, 0 up to 1), and where it came from (`source`)."""

    fraction: float
    source: str
    """`Compute Savings Plan 46% x 80% coverage`, `private pricing ([pricing.discounts])`."""
    applies_to: str
    """What it discounts: `Fargate`, `Lambda`, `EC2`, `EC2 t3`."""

    @property
    def label(self) -> str:
        """What an option priced with it says: `36.8% off Fargate: Compute Savings Plan 46% x
        80% coverage`."""
        return f"{percent(self.fraction)} off {self.applies_to}: {self.source}"

    def formula(self) -> str:
        """The factor a line's arithmetic ends with."""
        return f" x (1 - {percent(self.fraction)}: {self.source})"

    def then(self, later: Discount | None) -> Discount:
        """This discount, and `later` on what it leaves (private pricing applies to the bill
        after Savings Plans and Reserved Instances)."""
        if later is None:
            return self
        return Discount(1 - (1 - self.fraction) * (1 - later.fraction),
                        f"{self.source}, then {percent(later.fraction)} {later.source}",
                        self.applies_to)


def effective_rates(discounts: Mapping[str, Discount]) -> str:
    """The discounts in one sentence, with what they apply to."""
    return ("Effective rates: " + "; ".join(discounts[key].label for key in sorted(discounts))
            + ". A discount applies to compute (Lambda duration and provisioned concurrency, "
            "Fargate vCPU and memory hours on demand, EC2 instance hours); requests, API "
            "Gateway, load balancers, Spot and the EKS control plane stay at list.")


def blend(parts: Sequence[tuple[float, Discount | None]]) -> Discount | None:
    """One discount for instances of several types priced together, weighed by their list
    dollars: the one they share, or their mix; None when none is discounted."""
    found = list(dict.fromkeys(d for _, d in parts if d is not None))
    if not found:
        return None
    if len(found) == 1 and all(d is not None for _, d in parts):
        return found[0]
    total = sum(usd for usd, _ in parts)
    off = sum(usd * d.fraction for usd, d in parts if d is not None) / total if total else 0.0
    return Discount(off, "; ".join(d.label for d in found) + ", mixed by list dollars", "EC2")


def private(fractions: Mapping[str, float], where: str) -> dict[str, Discount]:
    """Discounts stated as fractions off list by family (`[pricing.discounts]`,
    `--discount`), each named after `where` it was stated."""
    return {family: Discount(fraction, where, FAMILIES[family])
            for family, fraction in fractions.items() if fraction > 0}
