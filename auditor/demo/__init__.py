"""The embedded demo account: `auditor scan --demo` audits it with no credentials or network.

The emulator, moto, is the `demo` extra (`pip install 'compute-auditor[demo]'`; `dev` has it),
not a dependency of the auditor: without it, importing this package raises `DemoUnavailable`,
which the CLI prints as one line naming that command.

`demo_environment(now)` runs the moto emulator in this process, seeds one small account
(123456789012) and yields a `Demo`. The account, mostly in us-east-1 with one function in
eu-west-1:
- two VPCs: "shop" (public subnets with an IGW and a NAT gateway, private subnets routed to
  the NAT, isolated subnets with the local route only) and "payments" (private subnets with
  no NAT but interface endpoints for ecr.api, ecr.dkr, logs and secretsmanager and the S3
  gateway endpoint);
- ECS clusters "prod" and "analytics" with seven Fargate services (one behind an ALB of its
  own), their task definitions, roles, secrets and log groups;
- ten Lambda functions (aliases, provisioned concurrency, SQS event sources, VPC access to
  an RDS PostgreSQL instance, an old runtime, a plaintext secret in the environment, a
  function URL);
- EKS cluster "platform" (1.29) with a node group, add-ons and upgrade insights, and a small
  current cluster "tools" with one node, its clean twin;
- 14 days of hourly CloudWatch metrics for every service and function (and the ALB); two
  workloads have flat traffic so their costs can be worked out by hand;
- the bill of those days, which moto's Cost Explorer serves (`billing.DemoBill`).
Each planted problem has a clean twin; `Demo.account` (`DemoAccount`) lists both by check ID.

The emulator is patched in-process while the demo runs, because stock moto cannot serve it:
- its `GetMetricData` is far too slow for 14 days of hourly data, so an indexed version with
  the same results replaces it (`emulator.fast_metric_data`);
- its `ListMetrics` lists a multi-dimension metric once per datapoint, slowly
  (`emulator.unique_list_metrics` lists each metric once, as CloudWatch does);
- its EKS re-reads botocore's partition list for every cluster and node group created
  (`emulator.fast_role_validation` reads it once);
- it lacks some read APIs (Lambda provisioned concurrency, account settings and the function
  URL list, EKS add-ons, insights and cluster versions, Compute Optimizer), which `Demo.hook`
  answers from seeded data;
- it answers listings in one page and takes batches of any size, where AWS pages and refuses
  (`paging.Paging`: ListFunctions 50 a page, DescribeServices 10 services a call, ...).
Register `Demo.extra_hooks` (the paging hooks, then `Demo.hook`) on every client the scan
builds: `ClientFactory(..., extra_hooks=demo.extra_hooks)`. The last of them refuses to send
any request the emulator did not answer, so that a demo client outliving the emulator (a worker
still running after Ctrl-C) cannot reach a real AWS endpoint.
The patches are undone when the context exits; nothing outside the demo sees them.
"""

from __future__ import annotations

import builtins
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError

from auditor.errors import DemoUnavailable

# moto loads its 1,301 public AMIs into every EC2 region it creates (a sixth of a second of CPU
# each, and most of the pickled state the tests share), where the demo launches one instance
# from one of them (seed.DEMO_AMI). moto reads this when its EC2 models are first imported.
os.environ.setdefault("MOTO_AMIS_PATH", str(Path(__file__).with_name("amis.json")))

try:
    from moto import mock_aws
    from moto.core.models import botocore_stubber
except ModuleNotFoundError as missing:
    # moto is the `demo` extra: a plain install audits real accounts without it.
    raise DemoUnavailable(
        "the demo needs the emulator: pip install 'compute-auditor[demo]'") from missing

from auditor.demo.billing import DemoBill
from auditor.demo.emulator import (
    MissingApiResponder,
    fast_metric_data,
    fast_role_validation,
    unique_list_metrics,
)
from auditor.demo.paging import Paging
from auditor.demo.seed import LOOKBACK, REGION, DemoAccount, seed_demo_account

__all__ = ["Demo", "DemoAccount", "MissingApiResponder", "demo_environment", "emulated_aws"]

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # A user's config file could point the default profile at another endpoint or process.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
}
_REMOVED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE")


@dataclass(frozen=True)
class Demo:
    """The seeded account, the hook that serves the APIs moto lacks and AWS's paging."""

    account: DemoAccount
    responder: MissingApiResponder
    paging: Paging = field(default_factory=Paging)
    bill: DemoBill = field(default_factory=DemoBill)

    @property
    def hook(self) -> Callable[..., Any]:
        """A botocore `before-call.*.*` handler; see `MissingApiResponder.hook`."""
        return self.responder.hook

    @property
    def extra_hooks(self) -> tuple[tuple[str, Callable[..., Any]], ...]:
        """For `ClientFactory(extra_hooks=...)`. Paging first: a page token for a listing
        the responder answered (EKS add-ons, insights) must reach the paging hook."""
        return (*self.paging.hooks, *self.responder.hooks, *self.bill.hooks,
                ("before-send", refuse_to_send))


class LeftTheEmulator(BotoCoreError):
    fmt = "the demo does not call AWS, and nothing emulated answered {url}"


def refuse_to_send(request: Any, **_: Any) -> None:
    """A botocore `before-send` handler: once moto's stubber is off (the emulator has exited),
    a request would leave this machine for the real endpoint; refuse it, without a retry."""
    if not botocore_stubber.enabled:
        raise LeftTheEmulator(url=request.url)


@contextmanager
def demo_environment(now: datetime | None = None) -> Iterator[Demo]:
    """Fake credentials, moto in-process, the emulator patches, the seeded account.

    Everything is undone on exit: environment variables, the moto mock and the patches.
    """
    now = now or datetime.now(UTC)
    with emulated_aws():
        responder = MissingApiResponder(now=now)
        account = seed_demo_account(now, responder)
        yield Demo(account, responder, bill=DemoBill.seeded(account.now, LOOKBACK))



_COMPILING = threading.Lock()


def serialise_compile() -> None:
    """One `compile()` at a time in this process.

    CPython 3.11 up to 3.11.7 raises `SystemError: AST constructor recursion depth mismatch`
    when two threads compile at once (python/cpython#106905), and moto compiles in the scan's
    worker threads: the attrs classes of a backend's dependencies when moto first imports it,
    its Jinja response templates on first use. Seen twice in the suite as a failed
    `apigateway:GetRestApis`. Only the emulated account needs this: a scan of AWS compiles
    nothing in its threads."""
    if getattr(builtins.compile, "serialised", False):
        return
    original = builtins.compile

    @functools.wraps(original)
    def compile_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with _COMPILING:
            return original(*args, **kwargs)

    compile_one_at_a_time.serialised = True  # type: ignore[attr-defined]
    builtins.compile = compile_one_at_a_time


@contextmanager
def emulated_aws() -> Iterator[None]:
    """Fake credentials, moto in-process and the emulator patches, with nothing seeded.

    Everything is undone on exit: environment variables, the moto mock (which empties moto's
    state) and the patches. Apart from `demo_environment`, for running against an account
    seeded earlier and kept out of moto in between (the test suite seeds the demo once).
    """
    serialise_compile()
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name in _REMOVED_ENV or name.startswith("AWS_ENDPOINT_URL"):
                del os.environ[name]
        os.environ.update(_FAKE_ENV)
        with mock_aws(), fast_metric_data(), unique_list_metrics(), fast_role_validation():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
