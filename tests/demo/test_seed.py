"""The demo account: planted problems and clean twins exist as described.

Everything is checked with plain boto3 reads, as the collectors will see it, on the account
seeded once per test process (`shared_demo`, at the top of the hour it was seeded in).
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

import auditor.demo as demo_module
from auditor.demo import Demo, demo_environment
from auditor.demo import seed as seed_module
from auditor.demo.emulator import MissingApiResponder
from tests.shared_demo import SharedDemo

# For the tests that need no seeded account; the account's own time is `demo.account.now`.
NOW = datetime(2026, 11, 23, 14, 30, 12, tzinfo=UTC)
REGION = "us-east-1"
ARN = "arn:aws:{service}:us-east-1:123456789012:{rest}"


@pytest.fixture(scope="module")
def demo(shared_demo: SharedDemo) -> Iterator[Demo]:
    with shared_demo.active() as seeded:
        yield seeded


@pytest.fixture(scope="module")
def clients(demo: Demo) -> dict[str, Any]:
    """Plain clients with the missing-API hook, as the scan will build them."""
    made: dict[str, Any] = {}
    for service in ("ec2", "ecs", "lambda", "eks", "iam", "logs", "rds", "cloudwatch"):
        client = boto3.client(service, region_name=REGION)
        client.meta.events.register("before-call.*.*", demo.hook)
        made[service] = client
    return made


def _service(clients: dict[str, Any], cluster: str, name: str) -> dict[str, Any]:
    (service,) = clients["ecs"].describe_services(cluster=cluster, services=[name])["services"]
    return dict(service)


def _task_definition(clients: dict[str, Any], arn: str) -> dict[str, Any]:
    return dict(clients["ecs"].describe_task_definition(taskDefinition=arn)["taskDefinition"])


def _route_table(clients: dict[str, Any], subnet_id: str) -> dict[str, Any]:
    tables = clients["ec2"].describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )["RouteTables"]
    assert len(tables) == 1, f"{subnet_id} should have one explicit route table"
    return dict(tables[0])


def _default_route(table: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"),
                None)


# --------------------------------------------------------------------------- the run


def test_seeding_is_complete(demo: Demo) -> None:
    account = demo.account
    # Seeding time is a figure bench/demo.py prints (with the whole demo run's), not a test.
    assert account.account_id == "123456789012"
    for check in ("network.private_subnet_no_egress", "iam.shared_role",
                  "ecs.task_overprovisioned", "lambda.provisioned_concurrency_waste"):
        assert account.planted[check], check
        assert account.clean[check], check
        assert not set(account.planted[check]) & set(account.clean[check])
    assert account.planted["lambda.provisioned_concurrency_waste"] == (
        ARN.format(service="lambda", rest="function:checkout-api:live"),
    )
    assert account.clean["lambda.provisioned_concurrency_waste"] == (
        ARN.format(service="lambda", rest="function:search-api:live"),
    )


def test_environment_is_faked_inside_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", "http://localhost:1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEY")
    seen: dict[str, str | None] = {}

    def fake_seed(now: datetime, responder: MissingApiResponder) -> seed_module.DemoAccount:
        seen.update({name: os.environ.get(name) for name in
                     ("AWS_PROFILE", "AWS_ENDPOINT_URL_ECS", "AWS_ACCESS_KEY_ID",
                      "AWS_DEFAULT_REGION")})
        return seed_module.DemoAccount("123456789012", (REGION,), now, {}, {}, {})

    monkeypatch.setattr(demo_module, "seed_demo_account", fake_seed)
    # A second mock_aws would reset the module's seeded account; only the env is under test.
    monkeypatch.setattr(demo_module, "mock_aws", contextlib.nullcontext)
    with demo_environment(NOW) as demo:
        assert demo.extra_hooks == (*demo.paging.hooks, *demo.responder.hooks, *demo.bill.hooks,
                                    ("before-send", demo_module.refuse_to_send))
    assert seen == {"AWS_PROFILE": None, "AWS_ENDPOINT_URL_ECS": None,
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_DEFAULT_REGION": REGION}
    assert os.environ["AWS_PROFILE"] == "someone-real"
    assert os.environ["AWS_ENDPOINT_URL_ECS"] == "http://localhost:1"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEY"


def test_metric_noise_is_deterministic() -> None:
    def generate(seed: int) -> list[dict[str, Any]]:
        seeder = seed_module._Seeder(NOW, MissingApiResponder(now=NOW), random.Random(seed))
        datums = list(seeder._ecs_metrics(seed_module.SERVICES[0]))
        return datums + list(seeder._lambda_metrics(seed_module.FUNCTIONS[0]))

    assert generate(7) == generate(7)
    assert generate(7) != generate(8)
    hours = seed_module._hours(NOW)
    assert len(hours) == 336
    assert all(NOW - timedelta(days=14) <= hour < NOW for hour in hours)


# --------------------------------------------------------------------------- network


def test_isolated_service_has_no_path_out(demo: Demo, clients: dict[str, Any]) -> None:
    worker = _service(clients, "prod", "orders-worker")
    assert worker["serviceArn"] in demo.account.planted["network.private_subnet_no_egress"]
    assert worker["launchType"] == "FARGATE"
    network = worker["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "DISABLED" and network["securityGroups"]
    subnets = clients["ec2"].describe_subnets(SubnetIds=network["subnets"])["Subnets"]
    (vpc_id,) = {s["VpcId"] for s in subnets}
    for subnet in subnets:
        table = _route_table(clients, subnet["SubnetId"])
        assert not table["Associations"][0]["Main"]
        assert [r["GatewayId"] for r in table["Routes"]] == ["local"]
    endpoints = clients["ec2"].describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["VpcEndpoints"]
    assert endpoints == []

    task = _task_definition(clients, worker["taskDefinition"])
    (container,) = task["containerDefinitions"]
    assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2"
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert ":secretsmanager:" in container["secrets"][0]["valueFrom"]


def test_nat_twin_routes_through_a_working_nat(demo: Demo, clients: dict[str, Any]) -> None:
    api = _service(clients, "prod", "orders-api")
    assert api["serviceArn"] in demo.account.clean["network.private_subnet_no_egress"]
    ec2 = clients["ec2"]
    for subnet_id in api["networkConfiguration"]["awsvpcConfiguration"]["subnets"]:
        route = _default_route(_route_table(clients, subnet_id))
        assert route is not None and route["NatGatewayId"].startswith("nat-")
        (nat,) = ec2.describe_nat_gateways(NatGatewayIds=[route["NatGatewayId"]])["NatGateways"]
        assert nat["State"] == "available" and nat["NatGatewayAddresses"][0]["PublicIp"]
        public_route = _default_route(_route_table(clients, nat["SubnetId"]))
        assert public_route is not None and public_route["GatewayId"].startswith("igw-")
    # The same VPC as the isolated service, and the same image, logs and secret.
    worker = _service(clients, "prod", "orders-worker")
    assert (_task_definition(clients, api["taskDefinition"])["containerDefinitions"][0]["image"]
            == _task_definition(clients, worker["taskDefinition"])["containerDefinitions"][0][
                "image"])


def test_endpoint_twin_has_every_endpoint_it_needs(
    demo: Demo, clients: dict[str, Any]
) -> None:
    payments = _service(clients, "prod", "payments-api")
    assert payments["serviceArn"] in demo.account.clean["network.private_subnet_no_egress"]
    subnets = payments["networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    ec2 = clients["ec2"]
    (vpc_id,) = {s["VpcId"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
    assert ec2.describe_nat_gateways(
        Filter=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["NatGateways"] == []
    tables = [_route_table(clients, s) for s in subnets]
    assert all(_default_route(t) is None for t in tables)

    endpoints = ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
    )["VpcEndpoints"]
    by_service = {e["ServiceName"].removeprefix(f"com.amazonaws.{REGION}."): e for e in endpoints}
    assert set(by_service) == {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "s3"}
    for short in ("ecr.api", "ecr.dkr", "logs", "secretsmanager"):
        endpoint = by_service[short]
        assert endpoint["VpcEndpointType"] == "Interface" and endpoint["State"] == "available"
        assert set(endpoint["SubnetIds"]) == set(subnets) and endpoint["PrivateDnsEnabled"]
    s3 = by_service["s3"]
    assert s3["VpcEndpointType"] == "Gateway"
    assert s3["RouteTableIds"] == [tables[0]["RouteTableId"]]
    assert any(r.get("GatewayId") == s3["VpcEndpointId"] for r in tables[0]["Routes"])

    (container,) = _task_definition(clients, payments["taskDefinition"])["containerDefinitions"]
    assert ".dkr.ecr." in container["image"] and container["secrets"]
    assert container["logConfiguration"]["logDriver"] == "awslogs"


# --------------------------------------------------------------------------- IAM


def test_shared_and_own_roles(demo: Demo, clients: dict[str, Any]) -> None:
    task_roles: dict[str, list[str]] = {}
    execution_roles: set[str] = set()
    for cluster in ("prod", "analytics"):
        for arn in clients["ecs"].list_services(cluster=cluster)["serviceArns"]:
            service = _service(clients, cluster, arn.rsplit("/", 1)[-1])
            task = _task_definition(clients, service["taskDefinition"])
            task_roles.setdefault(task["taskRoleArn"], []).append(service["serviceName"])
            execution_roles.add(task["executionRoleArn"])
    function_roles: dict[str, list[str]] = {}
    for function in clients["lambda"].list_functions()["Functions"]:
        function_roles.setdefault(function["Role"], []).append(function["FunctionName"])

    orders = ARN.format(service="iam", rest="role/orders-task-role").replace("us-east-1", "")
    notify = ARN.format(service="iam", rest="role/notify-role").replace("us-east-1", "")
    assert sorted(task_roles[orders]) == ["orders-api", "orders-worker"]
    assert sorted(function_roles[notify]) == ["notify-email", "notify-sms"]
    assert set(demo.account.planted["iam.shared_role"]) == {orders, notify}
    for role, users in {**task_roles, **function_roles}.items():
        if role not in (orders, notify):
            assert len(users) == 1, (role, users)
            assert role in demo.account.clean["iam.shared_role"]
    assert len(execution_roles) == 1

    iam = clients["iam"]
    for role in (orders, notify):
        trust = iam.get_role(RoleName=role.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"]
        principals = [s["Principal"]["Service"] for s in trust["Statement"]]
        assert principals in (["ecs-tasks.amazonaws.com"], ["lambda.amazonaws.com"])


# --------------------------------------------------------------------------- ECS sizing


def _series(
    clients: dict[str, Any], namespace: str, metric: str, dims: dict[str, str], stat: str,
    now: datetime,
) -> tuple[list[datetime], list[float]]:
    result = clients["cloudwatch"].get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
            "Period": 3600, "Stat": stat}}],
        StartTime=now - timedelta(days=14), EndTime=now, ScanBy="TimestampAscending",
    )["MetricDataResults"][0]
    return list(result["Timestamps"]), list(result["Values"])


def test_overprovisioned_service_and_its_twin(demo: Demo, clients: dict[str, Any]) -> None:
    now = demo.account.now
    expectations = {
        # service: (cpu, memory, CPU max range, memory max range)
        "reporting": ("2048", "4096", (8, 15), (20, 30)),
        "ingest": ("512", "1024", (55, 75), (60, 80)),
    }
    for name, (cpu, memory, cpu_range, memory_range) in expectations.items():
        service = _service(clients, "analytics", name)
        task = _task_definition(clients, service["taskDefinition"])
        assert (task["cpu"], task["memory"]) == (cpu, memory)
        assert task["requiresCompatibilities"] == ["FARGATE"]
        assert task["networkMode"] == "awsvpc"
        dims = {"ClusterName": "analytics", "ServiceName": name}
        for metric, (low, high) in (("CPUUtilization", cpu_range),
                                    ("MemoryUtilization", memory_range)):
            stamps, peaks = _series(clients, "AWS/ECS", metric, dims, "Maximum", now)
            assert len(peaks) == 336, (name, metric)
            assert all(now - timedelta(days=14) <= stamp < now for stamp in stamps)
            assert all(low <= value <= high for value in peaks), (name, metric)
            _, means = _series(clients, "AWS/ECS", metric, dims, "Average", now)
            assert all(m < p for m, p in zip(means, peaks, strict=True))
    reporting = _service(clients, "analytics", "reporting")["serviceArn"]
    ingest = _service(clients, "analytics", "ingest")["serviceArn"]
    assert demo.account.planted["ecs.task_overprovisioned"] == (reporting,)
    assert ingest in demo.account.clean["ecs.task_overprovisioned"]


def test_every_service_has_metrics(demo: Demo, clients: dict[str, Any]) -> None:
    for cluster in ("prod", "analytics"):
        for arn in clients["ecs"].list_services(cluster=cluster)["serviceArns"]:
            dims = {"ClusterName": cluster, "ServiceName": arn.rsplit("/", 1)[-1]}
            for metric in ("CPUUtilization", "MemoryUtilization"):
                _, peaks = _series(clients, "AWS/ECS", metric, dims, "Maximum", demo.account.now)
                assert len(peaks) == 336


def test_single_task_service(demo: Demo, clients: dict[str, Any]) -> None:
    admin = _service(clients, "analytics", "admin-console")
    assert admin["desiredCount"] == 1
    assert demo.account.planted["ecs.single_task_service"] == (admin["serviceArn"],)


# --------------------------------------------------------------------------- Lambda


def test_provisioned_concurrency_waste_and_twin(demo: Demo, clients: dict[str, Any]) -> None:
    lam = clients["lambda"]
    for name, allocated, (low, high) in (("checkout-api", 50, (0.02, 0.10)),
                                         ("search-api", 10, (0.6, 0.95))):
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
        (config,) = lam.list_provisioned_concurrency_configs(
            FunctionName=name)["ProvisionedConcurrencyConfigs"]
        assert config["FunctionArn"] == ARN.format(service="lambda",
                                                   rest=f"function:{name}:live")
        assert config["AllocatedProvisionedConcurrentExecutions"] == allocated
        _, peaks = _series(clients, "AWS/Lambda", "ProvisionedConcurrencyUtilization",
                           {"FunctionName": name, "Resource": f"{name}:live"}, "Maximum",
                           demo.account.now)
        assert len(peaks) == 336 and all(low <= p <= high for p in peaks)


def test_every_function_has_traffic_metrics(demo: Demo, clients: dict[str, Any]) -> None:
    lam = clients["lambda"]
    now = demo.account.now
    for function in lam.list_functions()["Functions"]:
        dims = {"FunctionName": function["FunctionName"]}
        for metric, stat in (("Invocations", "Sum"), ("Duration", "Average"),
                             ("Duration", "Maximum"), ("Errors", "Sum"),
                             ("ConcurrentExecutions", "Maximum")):
            _, values = _series(clients, "AWS/Lambda", metric, dims, stat, now)
            assert len(values) == 336, (function["FunctionName"], metric)
        _, durations = _series(clients, "AWS/Lambda", "Duration", dims, "Maximum", now)
        # Only the planted near-timeout function comes close to its timeout.
        near = max(durations) > 0.8 * function["Timeout"] * 1000
        assert near == (function["FunctionName"] == "notify-sms"), function["FunctionName"]

    _, hourly = _series(clients, "AWS/Lambda", "Invocations", {"FunctionName": "events-ingest"},
                        "Sum", now)
    per_second = sum(hourly) / (len(hourly) * 3600)
    assert 180 <= per_second <= 220
    _, mean_ms = _series(clients, "AWS/Lambda", "Duration", {"FunctionName": "events-ingest"},
                         "Average", now)
    assert 105 <= sum(mean_ms) / len(mean_ms) <= 135
    _, slow = _series(clients, "AWS/Lambda", "Invocations", {"FunctionName": "legacy-report"},
                      "Sum", now)
    assert sum(slow) < 336 * 10


def test_function_configurations(demo: Demo, clients: dict[str, Any]) -> None:
    lam = clients["lambda"]
    functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    assert len(functions) == 10
    assert functions["legacy-report"]["Runtime"] == "python3.9"
    assert functions["search-api"]["Runtime"] == "nodejs22.x"
    assert functions["user-sync"]["Environment"]["Variables"]["DB_PASSWORD"] == (
        "hunter2-demo-secret"
    )
    assert demo.account.planted["lambda.secrets_in_environment"] == (
        functions["user-sync"]["FunctionArn"],
    )
    assert demo.account.planted["lambda.deprecated_runtime"] == (
        functions["legacy-report"]["FunctionArn"],
    )
    other = boto3.client("lambda", region_name="eu-west-1").list_functions()["Functions"]
    assert [f["FunctionName"] for f in other] == ["edge-auth"]


def test_database_reachable_without_reserved_concurrency(
    demo: Demo, clients: dict[str, Any]
) -> None:
    lam, ec2 = clients["lambda"], clients["ec2"]
    writer = lam.get_function_configuration(FunctionName="orders-db-writer")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(
        FunctionName="orders-db-writer")
    (writer_sg,) = writer["VpcConfig"]["SecurityGroupIds"]
    (db,) = clients["rds"].describe_db_instances(DBInstanceIdentifier="orders-db")["DBInstances"]
    assert db["Engine"] == "postgres"
    (db_sg,) = [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]]
    (group,) = ec2.describe_security_groups(GroupIds=[db_sg])["SecurityGroups"]
    allowed = {
        (p["FromPort"], pair["GroupId"])
        for p in group["IpPermissions"] for pair in p.get("UserIdGroupPairs", [])
    }
    assert (5432, writer_sg) in allowed

    twin = lam.get_function_configuration(FunctionName="notify-email")
    assert twin["VpcConfig"]["SubnetIds"]
    assert all(g not in {sg for _, sg in allowed} for g in twin["VpcConfig"]["SecurityGroupIds"])
    assert demo.account.planted["lambda.db_connection_storm"] == (writer["FunctionArn"],)
    assert demo.account.clean["lambda.db_connection_storm"] == (twin["FunctionArn"],)

    mappings = {
        m["FunctionArn"].rsplit(":", 1)[-1]: m
        for m in lam.list_event_source_mappings()["EventSourceMappings"]
    }
    assert ":sqs:" in mappings["orders-db-writer"]["EventSourceArn"]
    assert not (mappings["orders-db-writer"].get("ScalingConfig") or {}).get("MaximumConcurrency")
    assert mappings["notify-email"]["ScalingConfig"]["MaximumConcurrency"] == 5


def test_log_groups_with_and_without_retention(clients: dict[str, Any]) -> None:
    groups = {
        g["logGroupName"]: g
        for g in clients["logs"].describe_log_groups(logGroupNamePrefix="/aws/lambda/")[
            "logGroups"]
    }
    assert "retentionInDays" not in groups["/aws/lambda/legacy-report"]
    assert groups["/aws/lambda/events-ingest"]["retentionInDays"] == 30


# --------------------------------------------------------------------------- EKS


def test_eks_cluster_nodegroup_and_addons(demo: Demo, clients: dict[str, Any]) -> None:
    eks = clients["eks"]
    cluster = eks.describe_cluster(name="platform")["cluster"]
    assert cluster["version"] == "1.29"
    groups = {name: eks.describe_nodegroup(clusterName="platform", nodegroupName=name)[
        "nodegroup"] for name in eks.list_nodegroups(clusterName="platform")["nodegroups"]}
    assert {name: (g["capacityType"], g["scalingConfig"]["desiredSize"])
            for name, g in groups.items()} == {"general": ("ON_DEMAND", 2), "spot": ("SPOT", 2),
                                               "arm-workers": ("ON_DEMAND", 0)}

    assert eks.list_addons(clusterName="platform")["addons"] == [
        "coredns", "kube-proxy", "vpc-cni"
    ]
    vpc_cni = eks.describe_addon(clusterName="platform", addonName="vpc-cni")["addon"]
    versions = eks.describe_addon_versions(kubernetesVersion="1.29", addonName="vpc-cni")
    default = next(
        v["addonVersion"] for v in versions["addons"][0]["addonVersions"]
        if any(c["defaultVersion"] for c in v["compatibilities"])
    )
    assert vpc_cni["addonVersion"] != default
    assert demo.account.planted["eks.outdated_addons"] == (vpc_cni["addonArn"],)
    statuses = {i["name"]: i["insightStatus"]["status"]
                for i in eks.list_insights(clusterName="platform")["insights"]}
    assert "ERROR" in statuses.values() and "PASSING" in statuses.values()


def test_fast_metrics_match_moto_on_demo_data(demo: Demo) -> None:
    from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

    patched = CloudWatchBackend.__dict__["get_metric_data"]
    original = patched.__wrapped__  # demo_environment has the fast version installed
    backend = cloudwatch_backends["123456789012"][REGION]
    queries = [
        {"Id": f"q{index}", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dims]},
            "Period": 3600, "Stat": stat}}
        for index, (namespace, metric, dims, stat) in enumerate((
            ("AWS/ECS", "CPUUtilization",
             (("ClusterName", "analytics"), ("ServiceName", "reporting")), "Maximum"),
            ("AWS/Lambda", "Duration", (("FunctionName", "events-ingest"),), "Average"),
        ))
    ]
    # Two days, not the scan's fourteen: moto's own reads every stored datapoint once per
    # period of each query, seconds of CPU for 14 days of hourly periods.
    start = (demo.account.now - timedelta(days=2)).replace(tzinfo=None)
    end = demo.account.now.replace(tzinfo=None)
    fast = backend.get_metric_data(queries, start, end, "TimestampAscending")
    assert fast == original(backend, queries, start, end, "TimestampAscending")
    assert [len(result["values"]) for result in fast] == [48, 48]
