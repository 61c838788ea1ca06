"""RDS instances, Aurora clusters and RDS proxies: the databases workloads connect to, with
the security groups and ports the network checks follow, the databases each proxy fronts, and
`max_connections` where a custom parameter group sets it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.collect.base import ScopeCollector, paginate
from auditor.model import Inventory, RdsCluster, RdsInstance, RdsProxy


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants("rds.databases", "rds.proxies", "rds.parameters"):
        return Inventory()
    rds = ctx.client("rds")
    instances: list[RdsInstance] = []
    clusters: list[RdsCluster] = []
    proxies: list[RdsProxy] = []

    if ctx.wants("rds.databases", "rds.parameters"):
        wanted = ctx.wanted_among(("rds.databases", "rds.parameters"))
        with ctx.loading(wanted, "rds", "DescribeDBInstances"):
            instances = ctx.parse_each(paginate(rds, "describe_db_instances", "DBInstances"),
                                       lambda raw: _instance(raw, ctx), wanted, "rds",
                                       "DescribeDBInstances")
    if ctx.wants("rds.databases"):
        with ctx.loading("rds.databases", "rds", "DescribeDBClusters"):
            clusters = ctx.parse_each(paginate(rds, "describe_db_clusters", "DBClusters"),
                                      lambda raw: _cluster(raw, ctx), ("rds.databases",),
                                      "rds", "DescribeDBClusters")
    if ctx.wants("rds.parameters") and instances:
        instances = _with_max_connections(ctx, rds, instances)
    if ctx.wants("rds.proxies"):
        with ctx.loading("rds.proxies", "rds", "DescribeDBProxies"):
            proxies = ctx.parse_each(paginate(rds, "describe_db_proxies", "DBProxies"),
                                     lambda raw: _proxy(raw, ctx), ("rds.proxies",), "rds",
                                     "DescribeDBProxies")
        proxies = [_with_targets(ctx, rds, proxy) for proxy in proxies]
    return Inventory(rds_instances=tuple(instances), rds_clusters=tuple(clusters),
                     rds_proxies=tuple(proxies))


def _arn(ctx: ScopeCollector, kind: str, identifier: str) -> str:
    """Records from older accounts and some API versions lack the ARN; it follows from the
    identifier."""
    return f"arn:aws:rds:{ctx.scope.region}:{ctx.scope.account}:{kind}:{identifier}"


def _instance(raw: dict[str, Any], ctx: ScopeCollector) -> RdsInstance:
    identifier = raw["DBInstanceIdentifier"]
    return RdsInstance(
        raw.get("DBInstanceArn") or _arn(ctx, "db", identifier), ctx.scope.account,
        ctx.scope.region,
        identifier=identifier,
        engine=raw.get("Engine", ""),
        instance_class=raw.get("DBInstanceClass", ""),
        cluster_identifier=raw.get("DBClusterIdentifier"),
        security_group_ids=_groups(raw),
        # The endpoint is missing while an instance is created; the port is not.
        port=(raw.get("Endpoint") or {}).get("Port") or raw.get("DbInstancePort") or None,
        parameter_group=next((g.get("DBParameterGroupName")
                              for g in raw.get("DBParameterGroups", [])), None),
    )


def _cluster(raw: dict[str, Any], ctx: ScopeCollector) -> RdsCluster:
    identifier = raw["DBClusterIdentifier"]
    return RdsCluster(
        raw.get("DBClusterArn") or _arn(ctx, "cluster", identifier), ctx.scope.account,
        ctx.scope.region,
        identifier=identifier,
        engine=raw.get("Engine", ""),
        security_group_ids=_groups(raw),
        port=raw.get("Port"),
        members=tuple(m["DBInstanceIdentifier"] for m in raw.get("DBClusterMembers", [])
                      if "DBInstanceIdentifier" in m),
    )


def _proxy(raw: dict[str, Any], ctx: ScopeCollector) -> RdsProxy:
    name = raw["DBProxyName"]
    return RdsProxy(
        raw.get("DBProxyArn") or _arn(ctx, "db-proxy", name), ctx.scope.account,
        ctx.scope.region,
        name=name,
        engine_family=raw.get("EngineFamily", ""),
        security_group_ids=tuple(raw.get("VpcSecurityGroupIds", [])),
        subnet_ids=tuple(raw.get("VpcSubnetIds", [])),
        vpc_id=raw.get("VpcId", ""),
    )


def _with_targets(ctx: ScopeCollector, rds: Any, proxy: RdsProxy) -> RdsProxy:
    """The databases a proxy stands in front of: one call per proxy (accounts have few).
    Unread, the proxy is unknown, and so are the functions it might have protected."""
    targets: list[str] = []
    with ctx.describing("rds.proxies", "rds", "DescribeDBProxyTargets",
                        resources=(proxy.arn,)):
        targets = [t.get("TrackedClusterId") or t["RdsResourceId"]
                   for t in paginate(rds, "describe_db_proxy_targets", "Targets",
                                     DBProxyName=proxy.name) if t.get("RdsResourceId")]
    return replace(proxy, targets=tuple(dict.fromkeys(targets)))


def _with_max_connections(ctx: ScopeCollector, rds: Any, instances: list[RdsInstance]
                          ) -> list[RdsInstance]:
    """`max_connections` from each custom parameter group, one call per group. AWS's own
    `default.*` groups carry the engine's formula, which the checks know already."""
    users: dict[str, list[str]] = {}
    for instance in instances:
        if instance.parameter_group and not instance.parameter_group.startswith("default."):
            users.setdefault(instance.parameter_group, []).append(instance.arn)
    settings: dict[str, str] = {}
    for group in sorted(users):
        with ctx.describing("rds.parameters", "rds", "DescribeDBParameters",
                            resources=users[group]):
            for parameter in paginate(rds, "describe_db_parameters", "Parameters",
                                      DBParameterGroupName=group, Source="user"):
                if parameter.get("ParameterName") == "max_connections" and (
                        parameter.get("ParameterValue")):
                    settings[group] = str(parameter["ParameterValue"])
    return [replace(i, max_connections_parameter=settings.get(i.parameter_group or ""))
            for i in instances]


def _groups(raw: dict[str, Any]) -> tuple[str, ...]:
    return tuple(g["VpcSecurityGroupId"] for g in raw.get("VpcSecurityGroups", [])
                 if "VpcSecurityGroupId" in g)
