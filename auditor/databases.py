"""The databases workloads connect to, and how many connections each can take: RDS
instances and Aurora clusters (with their members), the proxies in front of them, and
`max_connections` from a custom parameter group or the engine's default formula."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from auditor.model import Inventory, LambdaFunction, RdsCluster, RdsInstance, RdsProxy
from auditor.network import ingress_paths

# Engine default max_connections from DBInstanceClassMemory (bytes), as AWS documents it
# (RDS's log() is base 2).
_Formula = tuple[str, Callable[[float], float]]
_POSTGRES: _Formula = ("LEAST({DBInstanceClassMemory/9531392}, 5000)",
                       lambda memory: min(memory / 9531392, 5000))
_MYSQL: _Formula = ("{DBInstanceClassMemory/12582880}", lambda memory: memory / 12582880)
_AURORA_MYSQL: _Formula = (
    "GREATEST({log(DBInstanceClassMemory/805306368)*45}, "
    "{log(DBInstanceClassMemory/8187281408)*1000})",
    lambda memory: max(math.log2(memory / 805306368) * 45,
                       math.log2(memory / 8187281408) * 1000))
_DB_MEMORY_FORMULA = {"postgres": _POSTGRES, "aurora-postgresql": _POSTGRES, "mysql": _MYSQL,
                      "mariadb": _MYSQL, "aurora-mysql": _AURORA_MYSQL}
_BURSTABLE_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
# GiB of memory per vCPU by instance family letter (db.m6g.large: 2 vCPU x 4 GiB = 8 GiB).
_GIB_PER_VCPU = {"m": 4, "r": 8, "z": 8, "x": 16, "c": 2}
_PROXY_PORTS = {"POSTGRESQL": 5432, "MYSQL": 3306, "SQLSERVER": 1433}


def instance_memory_gib(instance_class: str) -> float | None:
    """Nominal memory of a DB instance class, from its family and size; None when unknown
    (Serverless v2, metal, generations before the 4th)."""
    found = re.fullmatch(r"db\.([a-z]+)(\d+)([a-z-]*)\.(\w+)", instance_class)
    if found is None:
        return None
    letters, generation, suffix, size = found.groups()
    if letters == "t":
        return _BURSTABLE_GIB.get(size)
    per_vcpu = 32 if f"{letters}{generation}{suffix}" == "x2iedn" else _GIB_PER_VCPU.get(letters)
    sized = re.fullmatch(r"(\d*)xlarge", size)
    vcpus = 2 if size == "large" else 4 * int(sized.group(1) or 1) if sized else None
    if per_vcpu is None or vcpus is None or (letters in ("m", "r") and int(generation) < 4):
        return None
    return float(per_vcpu * vcpus)


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    source: str
    """`parameter group` or `engine default formula`."""
    basis: str
    """How it was found: the parameter group's number, or the formula and memory used."""


def connection_budget(instance: RdsInstance) -> ConnectionBudget | None:
    setting = instance.max_connections_parameter
    if setting and setting.strip().isdigit():
        return ConnectionBudget(int(setting), "parameter group",
                                f"max_connections = {setting} in parameter group "
                                f"{instance.parameter_group}")
    formula = _DB_MEMORY_FORMULA.get(instance.engine)
    memory_gib = instance_memory_gib(instance.instance_class)
    if formula is None or memory_gib is None:
        return None
    text, compute = formula
    estimate = int(compute(memory_gib * 1024**3))
    custom = (f"; parameter group {instance.parameter_group} sets {setting!r}, not evaluated"
              if setting else "")
    return ConnectionBudget(estimate, "engine default formula", (
        f"engine default {text} with {instance.instance_class}'s nominal {memory_gib:g} GiB "
        f"(an estimate: RDS keeps some memory for itself, so the real figure is lower)"
        f"{custom}"))


@dataclass(frozen=True)
class Database:
    """An RDS instance outside a cluster, or an Aurora cluster with its member instances."""

    resource: RdsInstance | RdsCluster
    identifier: str
    engine: str
    port: int | None
    security_group_ids: tuple[str, ...]
    instances: tuple[RdsInstance, ...]

    def budget(self) -> tuple[ConnectionBudget, RdsInstance] | None:
        """The smallest member's budget: any member may be the writer after a failover."""
        known = [(b, i) for i in self.instances if (b := connection_budget(i)) is not None]
        return min(known, key=lambda pair: pair[0].max_connections) if known else None


def databases(inv: Inventory) -> list[Database]:
    members: dict[tuple[str, str, str], list[RdsInstance]] = defaultdict(list)
    found: list[Database] = []
    for instance in inv.rds_instances:
        if instance.cluster_identifier:
            key = (instance.account, instance.region, instance.cluster_identifier)
            members[key].append(instance)
        else:
            found.append(Database(instance, instance.identifier, instance.engine, instance.port,
                                  instance.security_group_ids, (instance,)))
    for cluster in inv.rds_clusters:
        found.append(Database(
            cluster, cluster.identifier, cluster.engine, cluster.port, cluster.security_group_ids,
            tuple(members[(cluster.account, cluster.region, cluster.identifier)])))
    return found


def proxies_fronting(inv: Inventory, database: Database) -> list[RdsProxy]:
    return [p for p in inv.rds_proxies
            if p.scope == database.resource.scope and database.identifier in p.targets]


def reaches_proxy(inv: Inventory, function: LambdaFunction, proxy: RdsProxy) -> bool:
    return bool(ingress_paths(inv, function, proxy.security_group_ids,
                              _PROXY_PORTS.get(proxy.engine_family.upper())))
