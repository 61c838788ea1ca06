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
    acct, region = ctx.scope.account, ctx.scope.region
    instances: list[RdsInstance] = []
    clusters: list[RdsCluster] = []
    proxies: list[RdsProxy] = []

    if ctx.wants("rds.databases", "rds.parameters"):
        with ctx.loading(ctx.wanted_among(("rds.databases", "rds.parameters")), "rds",
                         "DescribeDBInstances"):
            instances.extend(
                RdsInstance(
                    d["DBInstanceArn"], acct, region,
                    identifier=d.get("DBInstanceIdentifier", ""),
                    engine=d.get("Engine", ""),
                    instance_class=d.get("DBInstanceClass", ""),
                    cluster_identifier=d.get("DBClusterIdentifier"),
                    security_group_ids=_groups(d),
                    # The endpoint is missing while an instance is created; the port is not.
                    port=(d.get("Endpoint") or {}).get("Port") or d.get("DbInstancePort") or None,
                    parameter_group=next((g.get("DBParameterGroupName")
                                          for g in d.get("DBParameterGroups", [])), None),
                )
                for d in paginate(rds, "describe_db_instances", "DBInstances")
            )
    if ctx.wants("rds.databases"):
        with ctx.loading("rds.databases", "rds", "DescribeDBClusters"):
            clusters.extend(
                RdsCluster(
                    c["DBClusterArn"], acct, region,
                    identifier=c.get("DBClusterIdentifier", ""),
                    engine=c.get("Engine", ""),
                    security_group_ids=_groups(c),
                    port=c.get("Port"),
                    members=tuple(m["DBInstanceIdentifier"] for m in c.get("DBClusterMembers", [])
                                  if "DBInstanceIdentifier" in m),
                )
                for c in paginate(rds, "describe_db_clusters", "DBClusters")
            )
    if ctx.wants("rds.parameters") and instances:
        instances = _with_max_connections(ctx, rds, instances)
    if ctx.wants("rds.proxies"):
        with ctx.loading("rds.proxies", "rds", "DescribeDBProxies"):
            for p in paginate(rds, "describe_db_proxies", "DBProxies"):
                name = p.get("DBProxyName", "")
                # One call per proxy: accounts have few, and only the targets say which
                # databases a proxy stands in front of.
                targets = paginate(rds, "describe_db_proxy_targets", "Targets",
                                   DBProxyName=name)
                proxies.append(RdsProxy(
                    p["DBProxyArn"], acct, region,
                    name=name,
                    engine_family=p.get("EngineFamily", ""),
                    security_group_ids=tuple(p.get("VpcSecurityGroupIds", [])),
                    subnet_ids=tuple(p.get("VpcSubnetIds", [])),
                    vpc_id=p.get("VpcId", ""),
                    targets=tuple(dict.fromkeys(
                        t.get("TrackedClusterId") or t["RdsResourceId"] for t in targets
                        if t.get("RdsResourceId"))),
                ))
    return Inventory(rds_instances=tuple(instances), rds_clusters=tuple(clusters),
                     rds_proxies=tuple(proxies))


def _with_max_connections(ctx: ScopeCollector, rds: Any, instances: list[RdsInstance]
                          ) -> list[RdsInstance]:
    """`max_connections` from each custom parameter group, one call per group. AWS's own
    `default.*` groups carry the engine's formula, which the checks know already."""
    groups = sorted({i.parameter_group for i in instances
                     if i.parameter_group and not i.parameter_group.startswith("default.")})
    settings: dict[str, str] = {}
    with ctx.loading("rds.parameters", "rds", "DescribeDBParameters"):
        for group in groups:
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
