"""Request budgets: AWS's documented rates, a token bucket that gives its burst then its rate,
a scan's share of them, and the settings that set the share and the per-account cap."""

from __future__ import annotations

import threading

import boto3
import pytest

from auditor import scan as scan_module
from auditor.config import Config
from auditor.ratelimit import (
    DEFAULT,
    GLOBAL,
    Rate,
    RateLimits,
    TokenBucket,
    rate_for,
    scope_region,
)
from auditor.scan import Environment
from auditor.session import CallStats, ClientFactory
from bench.moto_server import FaultRule, MotoServer, server_error


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_bucket_gives_its_burst_at_once_then_its_rate() -> None:
    time = FakeTime()
    bucket = TokenBucket(per_second=2, burst=5, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        assert bucket.take()
    assert time.now == 0, "the burst is served without waiting"
    starts = []
    for _ in range(4):
        assert bucket.take()
        starts.append(time.now)
    assert starts == pytest.approx([0.5, 1.0, 1.5, 2.0])


def test_an_idle_bucket_refills_to_its_burst_and_no_further() -> None:
    time = FakeTime()
    bucket = TokenBucket(per_second=2, burst=3, clock=time.clock, sleep=time.sleep)
    for _ in range(3):
        bucket.take()
    time.now = 100.0
    for _ in range(3):
        bucket.take()
    assert time.now == 100.0
    bucket.take()
    assert time.now == pytest.approx(100.5)


def test_a_wait_ends_as_soon_as_the_scan_is_stopped() -> None:
    time = FakeTime()
    bucket = TokenBucket(per_second=0.001, burst=1, clock=time.clock, sleep=time.sleep)
    assert bucket.take()
    assert bucket.take(stopped=lambda: len(time.slept) >= 2) is False
    assert time.now < 1, "a stopped scan does not sit out a 1,000-second wait"


def test_no_token_is_spent_twice_by_threads_taking_at_once() -> None:
    waits: list[float] = []
    bucket = TokenBucket(per_second=1, burst=80, clock=lambda: 0.0, sleep=waits.append)
    threads = [threading.Thread(target=lambda: [bucket.take() for _ in range(10)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert waits == [], "80 requests from 8 threads fit the burst of 80"
    assert bucket.take(stopped=lambda: bool(waits)) is False
    assert waits, "all 80 tokens were spent: the 81st request waits"


def test_documented_rates_come_with_their_source() -> None:
    describe = rate_for("ec2", "DescribeSubnets")
    assert (describe.per_second, describe.burst) == (20, 100)
    assert "ec2-api-throttling" in describe.source
    assert (rate_for("ec2", "DescribeInstances").per_second,
            rate_for("ec2", "DescribeInstances").burst) == (10, 50)
    assert rate_for("lambda", "GetFunction").per_second == 100
    assert rate_for("cloudwatch", "GetMetricData").per_second == 50
    assert rate_for("cloudwatch", "ListMetrics").per_second == 25
    services = rate_for("ecs", "DescribeServices")
    assert (services.per_second, services.burst) == (20, 100)


def test_operations_share_a_bucket_where_aws_does() -> None:
    # Lambda: 15/s across its whole control plane, GetFunction apart.
    assert rate_for("lambda", "ListFunctions").bucket_for("ListFunctions") == \
        rate_for("lambda", "ListAliases").bucket_for("ListAliases")
    assert rate_for("lambda", "GetFunction").bucket_for("GetFunction") != \
        rate_for("lambda", "ListFunctions").bucket_for("ListFunctions")
    # ECS: by category; EC2: every API its own.
    assert rate_for("ecs", "ListServices").bucket_for("ListServices") == \
        rate_for("ecs", "DescribeServices").bucket_for("DescribeServices")
    assert rate_for("ec2", "DescribeSubnets").bucket_for("DescribeSubnets") != \
        rate_for("ec2", "DescribeVpcs").bucket_for("DescribeVpcs")


def test_an_operation_aws_documents_no_rate_for_gets_the_conservative_default() -> None:
    assert rate_for("eks", "DescribeNodegroup") == DEFAULT
    assert rate_for("no-such-service", "ListThings") == DEFAULT
    assert "not documented" in DEFAULT.source
    assert DEFAULT.per_second <= 5


def test_global_services_have_one_bucket_whatever_the_region() -> None:
    assert scope_region("iam", "eu-west-1") == GLOBAL
    assert scope_region("lambda", "eu-west-1") == "eu-west-1"
    limits = RateLimits(0.5)
    assert limits.bucket("1", "us-east-1", "iam", "GetAccountAuthorizationDetails") is \
        limits.bucket("1", "eu-west-1", "iam", "GetAccountAuthorizationDetails")
    assert limits.bucket("1", "us-east-1", "lambda", "ListFunctions") is not \
        limits.bucket("1", "eu-west-1", "lambda", "ListFunctions")
    assert limits.bucket("1", "us-east-1", "lambda", "ListFunctions") is not \
        limits.bucket("2", "us-east-1", "lambda", "ListFunctions")


def test_the_scan_takes_its_share_of_each_rate() -> None:
    limits = RateLimits(0.5)
    control_plane = limits.bucket("1", "us-east-1", "lambda", "ListFunctions")
    assert (control_plane.per_second, control_plane.burst) == (7.5, 7.5)
    assert limits.bucket("1", "us-east-1", "ec2", "DescribeVpcs").burst == 50
    # A share never leaves a bucket that could not hold one request.
    tiny = RateLimits(0.01).bucket("1", "us-east-1", "ecs", "ListServicesByNamespace")
    assert tiny.burst == 1 and tiny.per_second == pytest.approx(0.01)


def test_a_scan_of_aws_keeps_to_its_share_and_the_demo_to_none() -> None:
    # The test process lets scans of emulators run unlimited (tests/conftest.py); this is
    # the rule a scan of AWS gets.
    limits_for = getattr(scan_module._limits, "for_aws", scan_module._limits)
    limits = limits_for(Config(api_rate_share=0.25), Environment())
    assert isinstance(limits, RateLimits) and limits.share == 0.25
    assert limits_for(Config(), Environment(demo=True)) is None
    given = RateLimits(1.0)
    assert limits_for(Config(), Environment(limits=given)) is given


def test_a_retried_request_takes_a_token_as_the_first_did(server: MotoServer) -> None:
    """AWS counts every request it receives against the rate, retries too: a call answered
    500 once, then 200, takes two tokens of its bucket."""
    time = FakeTime()
    limits = RateLimits(1.0, clock=time.clock, sleep=time.sleep,
                        rates=lambda service, operation: Rate(1.0, 2, "the test's"))
    factory = ClientFactory(boto3.session.Session(region_name="us-east-1"), CallStats(),
                            limits=limits, account="123456789012")
    failed_once = server.add_fault(FaultRule(server_error(500), "sts", "GetCallerIdentity",
                                             times=1))
    factory.client("sts", "us-east-1").get_caller_identity()
    assert failed_once.hits == 1 and time.slept == []  # two requests, on the burst of two
    assert limits.take("123456789012", "us-east-1", "sts", "GetCallerIdentity")
    assert sum(time.slept) == pytest.approx(1.0), "empty: the retry took the second token"
