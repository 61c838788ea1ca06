"""The embedded price book: us-east-1 on-demand list prices, with their source date.

Every dollar figure in a report is computed from one `PriceBook`, and the report names it, so
a savings number can be re-derived by hand from its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

HOURS_PER_MONTH = 730.0
"""AWS's own monthly convention (8,760 hours / 12)."""


@dataclass(frozen=True)
class PriceBook:
    source: str = "embedded AWS list prices, us-east-1, on-demand"
    as_of: str = "2026-11-01"
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
    apigw_http_per_million: float = 1.00
    apigw_rest_per_million: float = 3.50
    nat_hour: float = 0.045
    nat_gb: float = 0.045
    interface_endpoint_az_hour: float = 0.01
    interface_endpoint_gb: float = 0.01

    def describe(self) -> dict[str, str]:
        return {"source": self.source, "as_of": self.as_of, "region": self.region}

    def fargate_task_month(self, vcpu: float, memory_gb: float, arch: str = "X86_64") -> float:
        """One always-on Fargate task for a 730-hour month."""
        arm = arch.upper() == "ARM64"
        vcpu_price = self.fargate_arm_vcpu_hour if arm else self.fargate_vcpu_hour
        gb_price = self.fargate_arm_gb_hour if arm else self.fargate_gb_hour
        return HOURS_PER_MONTH * (vcpu * vcpu_price + memory_gb * gb_price)

    def provisioned_gb_s(self, arch: str) -> float:
        return self.lambda_arm_provisioned_gb_s if arch == "arm64" else (
            self.lambda_provisioned_gb_s
        )
