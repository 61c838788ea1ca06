"""AWS's documented control-plane request rates, and the token buckets that keep a scan under
a share of them.

AWS throttles most control-plane APIs per account and region with token buckets: a bucket
holds up to `burst` tokens, refills at `per_second`, and every request takes one. Some
services give every operation its own bucket (EC2, CloudWatch), others one bucket to a class
of operations (ECS's "service read actions", Lambda's "remainder of the control plane").
`RATES` holds AWS's figures as documented, with the page each comes from, so that an emulator
can enforce exactly AWS's rates from the same table (`rate_for`, `Rate.bucket_for`,
`scope_region`). A scan takes only a share of each (`api_rate_share`, by default half): the
rest is left to the account's own automation, which draws from the same buckets.

Public API (the benchmark's emulated server reads it; keep it stable):
- `rate_for(service, operation) -> Rate`: `per_second`, `burst`, `source`, and `bucket_for`.
- `scope_region(service, region) -> str`: `GLOBAL` for the services AWS throttles account-wide.
- `TokenBucket`, `RateLimits` (one bucket per account, region, service and bucket name).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

EC2 = "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html"
ECS = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html"
LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests"
CLOUDWATCH = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html"
LOGS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html"
API_GATEWAY = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
UNDOCUMENTED = ("not documented by AWS: a conservative choice (5/s, burst 10, a bucket per "
                "operation, below the lowest read rates AWS does document)")


@dataclass(frozen=True)
class Rate:
    """One of AWS's token buckets: `burst` requests at once, `per_second` sustained."""

    per_second: float
    burst: float
    source: str
    """The AWS page the figures come from, or why they are our own choice."""
    bucket: str = ""
    """The bucket this operation shares with others of its class; empty: its own bucket."""

    def bucket_for(self, operation: str) -> str:
        """The name of the bucket `operation` draws from (per account and region)."""
        return self.bucket or operation

    def share(self, fraction: float) -> Rate:
        """`fraction` of this rate. The burst never falls below one request, or nothing
        could ever be sent."""
        return Rate(self.per_second * fraction, max(1.0, self.burst * fraction), self.source,
                    self.bucket)


DEFAULT = Rate(5, 10, UNDOCUMENTED)
"""For any (service, operation) AWS documents no rate for."""

GLOBAL = "global"
GLOBAL_SERVICES = frozenset({"iam", "organizations", "ce", "savingsplans", "pricing"})
"""Services with one endpoint for the whole account: their buckets are not per region."""


def _ecs(name: str, burst: float, per_second: float, *operations: str
         ) -> dict[tuple[str, str], Rate]:
    return {("ecs", op): Rate(per_second, burst, ECS, name) for op in operations}


RATES: Mapping[tuple[str, str], Rate] = {
    # EC2: each API has its own bucket; Describe*/List*/Get* share the non-mutating figures.
    ("ec2", "*"): Rate(20, 100, EC2),
    # ... except these, which draw from a smaller bucket when called without a filter and
    # without pagination; a first page may be both, so they always count against it.
    **{("ec2", op): Rate(10, 50, EC2) for op in (
        "DescribeInstances", "DescribeInstanceStatus", "DescribeNetworkInterfaces",
        "DescribeSecurityGroups", "DescribeSnapshots", "DescribeSpotInstanceRequests",
        "DescribeVolumes")},
    ("ec2", "DescribeReservedInstancesOfferings"): Rate(10, 10, EC2),
    # ECS: one bucket per category of actions.
    **_ecs("cluster read", 50, 20, "DescribeClusters", "ListClusters"),
    **_ecs("task definition read", 50, 20, "DescribeTaskDefinition", "ListTaskDefinitions",
           "ListTaskDefinitionFamilies"),
    **_ecs("capacity provider read", 50, 20, "DescribeCapacityProviders"),
    **_ecs("tag read", 50, 20, "ListTagsForResource"),
    **_ecs("setting read", 50, 20, "ListAccountSettings"),
    **_ecs("cluster resource read", 100, 20, "DescribeContainerInstances", "DescribeTasks",
           "ListAttributes", "ListContainerInstances", "ListTasks"),
    **_ecs("service read", 100, 20, "DescribeServices", "ListServices"),
    **_ecs("service deployment", 50, 20, "DescribeServiceDeployments",
           "ListServiceDeployments"),
    **_ecs("service revision", 50, 20, "DescribeServiceRevisions"),
    **_ecs("cluster service resource read", 10, 1, "ListServicesByNamespace"),
    # Any other ECS read: the slowest read category's figures, in a bucket of its own.
    ("ecs", "*"): Rate(1, 10, ECS + " (an action not in its table: its slowest read "
                       "category)", "other"),
    # Lambda documents rates, not bursts: the burst is taken as one second's worth.
    ("lambda", "GetFunction"): Rate(100, 100, LAMBDA),
    ("lambda", "GetPolicy"): Rate(15, 15, LAMBDA),
    ("lambda", "*"): Rate(15, 15, LAMBDA + " (remainder of the control plane: 15/s across all "
                          "its APIs)", "control plane"),
    # CloudWatch: transactions per second per API (adjustable service quotas).
    ("cloudwatch", "GetMetricData"): Rate(50, 50, CLOUDWATCH),
    ("cloudwatch", "ListMetrics"): Rate(25, 25, CLOUDWATCH),
    # CloudWatch Logs: requests per second per API (adjustable service quotas).
    ("logs", "DescribeLogGroups"): Rate(10, 10, LOGS),
    # API Gateway: account-wide control-plane quota across its operations.
    ("apigateway", "*"): Rate(10, 40, API_GATEWAY + " (total operations: 10/s, burst 40)",
                              "control plane"),
}
"""AWS's documented rates per account and region, by (service, operation or "*")."""


def rate_for(service: str, operation: str) -> Rate:
    """AWS's rate for one operation: its own entry, else its service's, else `DEFAULT`."""
    return RATES.get((service, operation)) or RATES.get((service, "*")) or DEFAULT


def scope_region(service: str, region: str) -> str:
    """The region a bucket is counted in: `GLOBAL` for services AWS throttles account-wide."""
    return GLOBAL if service in GLOBAL_SERVICES else region


Clock = Callable[[], float]
Sleep = Callable[[float], None]
Stopped = Callable[[], bool]

WAIT_SLICE = 0.25
"""Longest single sleep while waiting for a token, so a stopped scan is noticed quickly."""


class TokenBucket:
    """A token bucket, thread-safe. Each `take` reserves the next token, possibly one not yet
    refilled, then waits (outside the lock) until it is due: waiting callers are served in
    the order they asked, and no more than `burst + per_second * t` requests start in any
    `t` seconds."""

    def __init__(self, per_second: float, burst: float, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError(f"a token bucket needs a positive rate and a burst of at least "
                             f"1, got {per_second}/s and {burst}")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = burst
        self._at = clock()
        self._lock = threading.Lock()

    def take(self, stopped: Stopped = lambda: False) -> bool:
        """Take one token, waiting until it is due; False if `stopped` said so first (the
        token reserved is then not given back: the scan is ending)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_second)
            self._at = now
            self._tokens -= 1
            due = now + max(0.0, -self._tokens / self.per_second)
        while True:
            if stopped():
                return False
            left = due - self._clock()
            if left <= 0:
                return True
            self._sleep(min(left, WAIT_SLICE))


class RateLimits:
    """The buckets of one scan: one per (account, region, service, bucket name), each at
    `share` of AWS's rate (`rate_for`). Shared by every account's clients; thread-safe."""

    def __init__(self, share: float = 0.5, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep,
                 rates: Callable[[str, str], Rate] = rate_for) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"the share of AWS's rates must be in (0, 1], got {share}")
        self.share = share
        self._clock = clock
        self._sleep = sleep
        self._rates = rates
        self._buckets: dict[tuple[str, str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, account: str, region: str, service: str, operation: str) -> TokenBucket:
        rate = self._rates(service, operation)
        key = (account, scope_region(service, region), service, rate.bucket_for(operation))
        with self._lock:
            found = self._buckets.get(key)
            if found is None:
                ours = rate.share(self.share)
                found = self._buckets[key] = TokenBucket(ours.per_second, ours.burst,
                                                         self._clock, self._sleep)
            return found

    def take(self, account: str, region: str, service: str, operation: str,
             stopped: Stopped = lambda: False) -> bool:
        """Wait for a token for one request; False if `stopped` first."""
        return self.bucket(account, region, service, operation).take(stopped)
