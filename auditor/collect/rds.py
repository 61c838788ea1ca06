"""RDS instances, Aurora clusters and RDS proxies: the databases workloads connect to, with
the security groups and ports the network checks follow."""

from __future__ import annotations

from typing import Any

from auditor.collect.base import ScopeCollector, paginate
from auditor.model import Inventory, RdsCluster, RdsInstance, RdsProxy


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants("rds.databases", "rds.proxies"):
        return Inventory()
    rds = ctx.client("rds")
    acct, region = ctx.scope.account, ctx.scope.region
    instances: list[RdsInstance] = []
    clusters: list[RdsCluster] = []
    proxies: list[RdsProxy] = []

    if ctx.wants("rds.databases"):
        with ctx.loading("rds.databases", "rds", "DescribeDBInstances"):
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
    if ctx.wants("rds.proxies"):
        with ctx.loading("rds.proxies", "rds", "DescribeDBProxies"):
            proxies.extend(
                RdsProxy(
                    p["DBProxyArn"], acct, region,
                    name=p.get("DBProxyName", ""),
                    engine_family=p.get("EngineFamily", ""),
                    security_group_ids=tuple(p.get("VpcSecurityGroupIds", [])),
                    subnet_ids=tuple(p.get("VpcSubnetIds", [])),
                    vpc_id=p.get("VpcId", ""),
                )
                for p in paginate(rds, "describe_db_proxies", "DBProxies")
            )
    return Inventory(rds_instances=tuple(instances), rds_clusters=tuple(clusters),
                     rds_proxies=tuple(proxies))


def _groups(raw: dict[str, Any]) -> tuple[str, ...]:
    return tuple(g["VpcSecurityGroupId"] for g in raw.get("VpcSecurityGroups", [])
                 if "VpcSecurityGroupId" in g)
