"""EKS Auto Mode's management fee, embedded with its source and date.

Auto Mode bills a fee for every EC2 instance it launches and manages, per second, by instance
type, on top of the instance's own price (on-demand or Spot) and the cluster's control plane.
AWS lists the fee per instance type; across the general-purpose, compute- and
memory-optimised families it is 12% of the type's on-demand Linux price (m5.large: $0.096/h
on demand, $0.01152/h fee), so the fee is priced as that share of the instance price the
price book holds. Savings Plans, Reserved Instances and Spot discount the instance, not the
fee.
"""

from __future__ import annotations

from auditor.pricing.book import PriceBook

FEE_SHARE = 0.12
"""Of the instance type's on-demand Linux price, per instance-hour."""
SOURCE = ("Amazon EKS pricing, EKS Auto Mode fee per instance type (aws.amazon.com/eks/pricing;"
          " 12% of on-demand as tabulated by cloudburn.io and factualminds.com)")
AS_OF = "2026-06-13"


def fee_hour(book: PriceBook, instance_type: str) -> float | None:
    """Auto Mode's fee for one instance of the type for an hour in the book's region, None
    when the type is not in the price table."""
    hourly = book.instance_hour(instance_type)
    return None if hourly is None else hourly * FEE_SHARE
