from __future__ import annotations

from collections.abc import Callable

import boto3
from botocore.stub import Stubber

from auditor.collect import logs, rds
from auditor.model import Inventory
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, fail_when, network, role

SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"


def _databases() -> tuple[str, str, str]:
    vpc, subnet, group = network()
    client = boto3.client("rds", region_name=REGION)
    client.create_db_parameter_group(DBParameterGroupName="orders-pg",
                                     DBParameterGroupFamily="postgres16", Description="orders")
    client.modify_db_parameter_group(DBParameterGroupName="orders-pg", Parameters=[{
        "ParameterName": "max_connections", "ParameterValue": "200",
        "ApplyMethod": "pending-reboot"}])
    client.create_db_instance(
        DBInstanceIdentifier="orders", Engine="postgres", DBInstanceClass="db.t3.micro",
        MasterUsername="app", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
        VpcSecurityGroupIds=[group], DBParameterGroupName="orders-pg")
    client.create_db_cluster(
        DBClusterIdentifier="ledger", Engine="aurora-postgresql", MasterUsername="app",
        MasterUserPassword="not-a-secret-1", VpcSecurityGroupIds=[group])
    client.create_db_instance(
        DBInstanceIdentifier="ledger-1", Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large", DBClusterIdentifier="ledger")
    client.create_db_proxy(
        DBProxyName="orders-proxy", EngineFamily="POSTGRESQL", RoleArn=role("proxy"),
        Auth=[{"SecretArn": SECRET}], VpcSubnetIds=[subnet], VpcSecurityGroupIds=[group])
    client.register_db_proxy_targets(DBProxyName="orders-proxy",
                                     DBInstanceIdentifiers=["orders"])
    return vpc, subnet, group


def test_collects_instances_clusters_and_proxies(scan: Callable[..., Scan]) -> None:
    vpc, subnet, group = _databases()
    run = scan()

    inventory = rds.collect(run.ctx)

    assert run.errors == []
    instances = {i.identifier: i for i in inventory.rds_instances}
    orders = instances["orders"]
    assert (orders.arn, orders.account, orders.region) == (
        f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders", ACCOUNT, REGION)
    assert (orders.engine, orders.instance_class, orders.port) == (
        "postgres", "db.t3.micro", 5432)
    assert orders.cluster_identifier is None
    assert orders.security_group_ids == (group,)
    # A custom group's max_connections is read, one call per group; default groups are not.
    assert (orders.parameter_group, orders.max_connections_parameter) == ("orders-pg", "200")
    ledger = instances["ledger-1"]
    assert ledger.cluster_identifier == "ledger"
    assert ledger.parameter_group is not None and ledger.parameter_group.startswith("default.")
    assert ledger.max_connections_parameter is None
    assert run.calls("rds:DescribeDBParameters") == 1

    (cluster,) = inventory.rds_clusters
    assert (cluster.arn, cluster.identifier, cluster.engine) == (
        f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:ledger", "ledger", "aurora-postgresql")
    assert (cluster.port, cluster.security_group_ids, cluster.members) == (
        5432, (group,), ("ledger-1",))

    (proxy,) = inventory.rds_proxies
    assert (proxy.name, proxy.engine_family, proxy.vpc_id) == ("orders-proxy", "POSTGRESQL", vpc)
    assert (proxy.subnet_ids, proxy.security_group_ids) == ((subnet,), (group,))
    assert proxy.targets == ("orders",)
    assert proxy.arn.startswith(f"arn:aws:rds:{REGION}:{ACCOUNT}:db-proxy:")


def test_denied_proxies_leave_the_databases(scan: Callable[..., Scan]) -> None:
    _databases()
    run = scan()
    deny(run.ctx.client("rds"), "DescribeDBProxies", "AccessDenied")

    inventory = rds.collect(run.ctx)

    assert len(inventory.rds_instances) == 2 and len(inventory.rds_clusters) == 1
    assert inventory.rds_proxies == ()
    (error,) = run.errors
    assert (error.account, error.region, error.operation, error.code, error.datasets) == (
        ACCOUNT, REGION, "DescribeDBProxies", "AccessDenied", ("rds.proxies",))


def test_collects_every_log_group(scan: Callable[..., Scan]) -> None:
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName="/aws/lambda/api")
    client.put_retention_policy(logGroupName="/aws/lambda/api", retentionInDays=14)
    client.create_log_group(logGroupName="/ecs/web")
    run = scan(wanted={"logs.log_groups"})

    inventory = logs.collect(run.ctx)

    groups = {g.name: g for g in inventory.log_groups}
    assert set(groups) == {"/aws/lambda/api", "/ecs/web"}
    api = groups["/aws/lambda/api"]
    assert (api.arn, api.account, api.region) == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/api", ACCOUNT, REGION)
    assert (api.retention_days, api.stored_bytes) == (14, 0)
    assert groups["/ecs/web"].retention_days is None
    assert rds.collect(run.ctx) == Inventory()  # not wanted: no call
    assert set(run.stats.by_operation()) == {"logs:DescribeLogGroups"}


def test_denied_log_groups_are_recorded(scan: Callable[..., Scan]) -> None:
    run = scan()
    deny(run.ctx.client("logs"), "DescribeLogGroups")

    assert logs.collect(run.ctx).log_groups == ()
    (error,) = run.errors
    assert (error.service, error.operation, error.datasets) == (
        "logs", "DescribeLogGroups", ("logs.log_groups",))


def test_aurora_members_behind_a_proxy_count_as_their_cluster(scan: Callable[..., Scan]) -> None:
    run = scan(wanted={"rds.proxies"})
    client = run.ctx.client("rds")
    proxy = {"DBProxyName": "ledger-proxy", "EngineFamily": "POSTGRESQL", "VpcId": "vpc-1",
             "DBProxyArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db-proxy:prx-1"}
    with Stubber(client) as stub:
        stub.add_response("describe_db_proxies", {"DBProxies": [proxy]})
        stub.add_response("describe_db_proxy_targets", {"Targets": [
            {"RdsResourceId": "ledger", "Type": "TRACKED_CLUSTER"},
            {"RdsResourceId": "ledger-1", "TrackedClusterId": "ledger", "Type": "RDS_INSTANCE"},
        ]}, {"DBProxyName": "ledger-proxy"})

        (collected,) = rds.collect(run.ctx).rds_proxies

        stub.assert_no_pending_responses()
    assert collected.targets == ("ledger",)


def test_a_record_without_its_arn_is_kept_and_one_that_cannot_be_read_costs_only_itself(
    scan: Callable[..., Scan],
) -> None:
    """Recorded from a real account: DescribeDBInstances records with no DBInstanceArn (older
    API versions). One unreadable record must not drop the records after it."""
    run = scan(wanted={"rds.databases"})
    with Stubber(run.ctx.client("rds")) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": [
            {"DBInstanceIdentifier": "legacy", "Engine": "mysql",
             "DBInstanceClass": "db.m4.large", "Endpoint": {"Port": 3306}},
            {"Engine": "postgres"},  # no identifier: nothing to name it by
            {"DBInstanceIdentifier": "orders", "Engine": "postgres",
             "DBInstanceArn": f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"}]})
        stub.add_response("describe_db_clusters", {"DBClusters": []})
        inventory = rds.collect(run.ctx)
    assert [i.arn for i in inventory.rds_instances] == [
        f"arn:aws:rds:{REGION}:{ACCOUNT}:db:legacy", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"]
    (error,) = run.errors
    assert (error.operation, error.code, error.datasets) == (
        "DescribeDBInstances", "KeyError", ("rds.databases",))


def test_proxy_targets_that_cannot_be_read_cost_that_proxy_only(scan: Callable[..., Scan]) -> None:
    _databases()
    run = scan()
    fail_when(run.ctx.client("rds"), "DescribeDBProxyTargets", lambda _: True,
              code="InternalFailure")

    inventory = rds.collect(run.ctx)

    (proxy,) = inventory.rds_proxies
    assert proxy.targets == ()
    (error,) = run.errors
    assert (error.operation, error.resources) == ("DescribeDBProxyTargets", (proxy.arn,))
