"""Shared fixtures: fake credentials and a moto-emulated AWS for tests that need one, and the
demo account seeded once per test process with the report of its scan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from auditor.report.document import Report
    from tests.shared_demo import SharedDemo


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
    with mock_aws(), aws_page_sizes():
        yield


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


@pytest.fixture(scope="session")
def shared_demo() -> SharedDemo:
    """The demo account, seeded once per test process for the tests that only read it (see
    tests/shared_demo.py)."""
    from tests.shared_demo import SharedDemo, seeding_time

    return SharedDemo(seeding_time())


@pytest.fixture(scope="session")
def demo_report(shared_demo: SharedDemo) -> Report:
    """The report of a full scan of the shared demo account, scanned once per process, with
    its bill (`--bill`), as `auditor scan --demo` runs."""
    from auditor.config import Config
    from auditor.scan import Environment, scan

    with shared_demo.active() as demo:
        return scan(Config(regions=demo.account.regions, billing=True),
                    Environment(hooks=demo.extra_hooks, demo=True), demo.account.now)


@pytest.fixture(scope="session")
def optimizer_report(shared_demo: SharedDemo) -> Report:
    """`demo_report`'s scan with `--compute-optimizer`: the demo's emulated Compute Optimizer
    answers for some of its workloads."""
    from auditor.config import Config
    from auditor.scan import Environment, scan

    with shared_demo.active() as demo:
        return scan(Config(regions=demo.account.regions, billing=True, compute_optimizer=True),
                    Environment(hooks=demo.extra_hooks, demo=True), demo.account.now)


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
