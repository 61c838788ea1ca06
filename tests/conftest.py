"""Shared fixtures: fake credentials and a moto-emulated AWS for tests that need one, and the
demo account seeded once per test run with the report of its scan, shared by the xdist
workers (tests/shared_demo.py)."""

from __future__ import annotations

import functools
import os
import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config

if TYPE_CHECKING:
    from auditor.report.document import Report
    from bench.moto_server import MotoServer
    from tests.shared_demo import SharedDemo


# Modules whose tests take seconds where most take milliseconds, longest first. They start the
# run, so that no xdist worker ends it alone on one of them (`--dist worksteal` hands out the
# rest as workers free up): the hypothesis sweep of generated accounts, scans interrupted in a
# process of their own, sharded scans of two accounts, the README's first command seeding its
# own demo account, a real browser.
FIRST = ("tests/fidelity/test_generated.py", "tests/test_interrupts.py", "tests/test_shards.py",
         "tests/test_demo_scan.py", "tests/demo/test_emulator.py", "tests/report/test_browser.py",
         "tests/test_faults.py", "tests/test_nightly.py")


def pytest_configure(config: pytest.Config) -> None:
    _share_botocore_loader()
    _build_client_classes_once()
    _list_moto_actions_once()
    _emulators_are_not_rate_limited()
    # Every test process scans moto from worker threads, not only the demo's.
    from auditor.demo import serialise_compile

    serialise_compile()
    # No clock in any property test, whatever settings it forgets: a per-example deadline and
    # the too-slow check on generating examples both fail on a busy machine.
    from hypothesis import HealthCheck, settings

    settings.register_profile("suite", deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("suite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: index for index, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(FIRST)))


def _share_botocore_loader() -> None:
    """One botocore loader for every session this test process makes.

    Each botocore session parses the JSON of every service model and of the endpoint rules it
    builds a client for (megabytes for EC2), and moto's `mock_aws` gives each test a fresh
    default session: unshared, a third of a moto test's time goes to parsing the same files
    again. One loader is what every client of one session shares anyway; the files never
    change during a run."""
    import botocore.loaders
    import botocore.session

    if not hasattr(botocore.session.create_loader, "cache_info"):
        botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)


def _build_client_classes_once() -> None:
    """One client class per service and API version for the whole test process.

    botocore builds a class of several hundred methods for every client it creates, the same
    each time (a sixth of a scan's time in this suite, which creates thousands of clients);
    only handlers of `creating-client-class` could make two differ, and the tests register
    none, so one built class serves every session. Clients are still built anew, each with
    its own events and retry state."""
    import botocore.client

    build = botocore.client.ClientCreator._create_client_class
    if getattr(build, "once", False):
        return
    classes: dict[tuple[str, str], type] = {}
    lock = threading.Lock()

    def create_client_class(creator: Any, service_name: str, service_model: Any) -> type:
        key = (service_name, service_model.api_version)
        with lock:
            if key not in classes:
                classes[key] = build(creator, service_name, service_model)
            return classes[key]

    create_client_class.once = True  # type: ignore[attr-defined]
    botocore.client.ClientCreator._create_client_class = create_client_class  # type: ignore[method-assign]


def _list_moto_actions_once() -> None:
    """moto lists the methods of a service's response class (`inspect.getmembers`) on every
    request it answers, to see whether the action is one: a twentieth of a moto scan's CPU.
    A class's methods do not change during a run, so each class is listed once."""
    import moto.core.responses

    listed = moto.core.responses.method_names_from_class
    if not hasattr(listed, "cache_info"):
        moto.core.responses.method_names_from_class = functools.cache(listed)


def _emulators_are_not_rate_limited() -> None:
    """Scans in tests read emulators (moto, the bench's server, the fidelity harness), no one's
    AWS account, as the demo does: a scan keeps to AWS's rates only with the limits a test
    gives it (`Environment(limits=...)`, tests/test_org_scan.py), or the waits for tokens
    would add their seconds to every scan of a few dozen calls. tests/test_ratelimit.py
    proves a scan of AWS gets `api_rate_share` of AWS's rates."""
    import auditor.scan

    def given_limits(config: Any, env: Any) -> Any:
        return env.limits

    given_limits.for_aws = auditor.scan._limits  # type: ignore[attr-defined]
    auditor.scan._limits = given_limits


ONE_TRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
"""For clients whose answers a test reads as they come, retries and all."""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """The bench's moto server (bench/moto_server.py), empty, with every client of the test
    pointed at it."""
    import urllib.request

    from bench.moto_server import MotoServer

    with MotoServer(latency_s=0.0) as running:
        for name, value in running.client_env().items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        # moto's state is per process: start every test from an empty account.
        urllib.request.urlopen(urllib.request.Request(
            f"{running.endpoint}/moto-api/reset", method="POST"))
        running.reset_counts()
        yield running


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, paging like AWS (ListFunctions 50 a page, DescribeServices 10 services a call,
    ...) on every client the test creates, so pagination and batching are exercised."""
    from moto import mock_aws

    from auditor.demo.paging import aws_page_sizes

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from tests.shared_demo import drop_rebuilt_backends

    with mock_aws(), aws_page_sizes():
        try:
            yield
        finally:
            drop_rebuilt_backends()


def isolated_ecs_service(cluster: str = "prod", name: str = "api") -> str:
    """In the emulated account: a Fargate service in a subnet with no way out (no route, no
    endpoint), pulling a public image: `network.private_subnet_no_egress` reports it (high).
    Returns the service ARN."""
    import boto3

    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=cluster, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256",
        memory="512", containerDefinitions=[{"name": "app", "image": "nginx:1.27"}])
    arn: str = ecs.create_service(
        cluster=cluster, serviceName=name, taskDefinition=cluster, desiredCount=1,
        launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
            "subnets": [subnet], "securityGroups": [group]}})["service"]["serviceArn"]
    return arn


def _run_directory(factory: pytest.TempPathFactory) -> Path:
    """One directory for the whole run: under xdist, each worker's base temporary directory
    is inside the run's (`pytest-N/popen-gw0`)."""
    base = factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"


@pytest.fixture(scope="session")
def run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the run's test processes share what only one of them needs to make
    (`tests.shared_demo.run_once`)."""
    return _run_directory(tmp_path_factory)


@pytest.fixture(scope="session")
def shared_demo(run_directory: Path) -> SharedDemo:
    """The demo account, seeded once per test run for the tests that only read it, restored
    from its snapshot in every other test process (see tests/shared_demo.py)."""
    from tests.shared_demo import SharedDemo, run_once, seeding_time

    return run_once(run_directory, "demo.pickle", lambda: SharedDemo.seed(seeding_time()),
                    lambda demo: demo.snapshot, SharedDemo.restore)


@pytest.fixture(scope="session")
def demo_snapshot(shared_demo: SharedDemo, run_directory: Path) -> Path:
    """The shared demo account's snapshot file, for `auditor scan --demo` in a process of its
    own (`tests.shared_demo.SCAN_DEMO_FROM_SNAPSHOT`)."""
    path = run_directory / "demo.pickle"
    if not path.exists():  # made without fcntl: this process's own
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(shared_demo.snapshot)
    return path


def _shared_scan(run_directory: Path, name: str, shared_demo: SharedDemo, **config: Any
                 ) -> Report:
    """A full scan of the shared demo account, made once per run and read by every process."""
    from auditor.config import Config
    from auditor.scan import Environment, scan
    from tests.shared_demo import run_once

    def make() -> Report:
        with shared_demo.active() as demo:
            return scan(Config(regions=demo.account.regions, **config),
                        Environment(hooks=demo.extra_hooks, demo=True), demo.account.now)

    return run_once(run_directory, name, make, pickle.dumps, pickle.loads)


@pytest.fixture(scope="session")
def demo_report(shared_demo: SharedDemo, run_directory: Path) -> Report:
    """The report of a full scan of the shared demo account, scanned once per run, with its
    bill (`--bill`), as `auditor scan --demo` runs."""
    return _shared_scan(run_directory, "demo-report.pickle", shared_demo, billing=True)


@pytest.fixture(scope="session")
def optimizer_report(shared_demo: SharedDemo, run_directory: Path) -> Report:
    """`demo_report`'s scan with `--compute-optimizer`: the demo's emulated Compute Optimizer
    answers for some of its workloads."""
    return _shared_scan(run_directory, "optimizer-report.pickle", shared_demo, billing=True,
                        compute_optimizer=True)


@pytest.fixture
def demo_cli(shared_demo: SharedDemo, monkeypatch: pytest.MonkeyPatch) -> SharedDemo:
    """`auditor scan --demo` scans the shared demo account instead of seeding its own."""
    monkeypatch.setattr("auditor.demo.demo_environment", shared_demo.environment)
    return shared_demo


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fidelity harnesses' budget and reach (tests/fidelity), at the end of every run,
    `-q` included. It runs on the xdist controller, which collects nothing, so it is computed
    from static data: the operations derived from `auditor.datasets` and the example budget."""
    from tests.fidelity.containment import cases
    from tests.fidelity.operations import FUZZ_ENV, fuzz_examples, scan_operations

    operations = scan_operations()
    terminalreporter.write_line(
        f"fidelity: {fuzz_examples()} generated accounts, derandomized ({FUZZ_ENV} sets the "
        f"budget); {len(cases())} containment cases, each one failure injected into a replay "
        "of the recorded demo scan")
    terminalreporter.write_line(
        f"fidelity: {len(operations)} operations: {', '.join(map(str, operations))}")
