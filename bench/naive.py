"""The naive baseline: what a straightforward boto3 audit script does.

List each resource type, describe each resource on its own, and ask `GetMetricStatistics`
once per resource per metric (every statistic that metric needs in that one call). The same
resources and metrics as the auditor and the Custodian policies; a thread pool per region
(`--workers`) so the wall time is not simply requests x latency.

    python bench/naive.py --region us-east-1 --region eu-west-1 --workers 8
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import boto3
from botocore.config import Config

# (metric, statistics): the pairs the auditor's checks and cost model declare; see README.md.
LAMBDA_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Invocations", ("Sum",)), ("Errors", ("Sum",)), ("Duration", ("Sum", "Maximum")),
    ("ConcurrentExecutions", ("Maximum",)), ("UrlRequestCount", ("Sum",)))
ECS_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CPUUtilization", ("Maximum", "Average")), ("MemoryUtilization", ("Maximum", "Average")))
EKS_METRICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("node_cpu_utilization", ("Maximum",)), ("node_memory_utilization", ("Maximum",)))


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


class Naive:
    def __init__(self, workers: int, days: int) -> None:
        self.workers = workers
        self.session = boto3.session.Session()
        self.config = Config(retries={"mode": "standard", "max_attempts": 5},
                             max_pool_connections=max(10, workers))
        self.end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.start = self.end - timedelta(days=days)
        self.resources = 0
        self.series = 0
        self.datapoints = 0
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        session: Any = self.session
        return session.client(service, region_name=region, config=self.config)

    def fan_out(self, jobs: list[Callable[[], Any]]) -> None:
        with ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()

    def metric(self, cloudwatch: Any, namespace: str, name: str, stats: tuple[str, ...],
               dims: dict[str, str]) -> None:
        answer = cloudwatch.get_metric_statistics(
            Namespace=namespace, MetricName=name, StartTime=self.start, EndTime=self.end,
            Period=3600, Statistics=list(stats),
            Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()])
        with self._lock:
            self.series += len(stats)
            self.datapoints += len(answer.get("Datapoints", []))

    def region(self, region: str) -> None:
        cloudwatch = self.client("cloudwatch", region)
        lam, ecs, eks, ec2 = (self.client(s, region) for s in ("lambda", "ecs", "eks", "ec2"))
        jobs: list[Callable[[], Any]] = []

        for function in _pages(lam, "list_functions", "Functions"):
            name = function["FunctionName"]
            jobs.append(partial(lam.get_function, FunctionName=name))
            jobs += [partial(self.metric, cloudwatch, "AWS/Lambda", metric, stats,
                             {"FunctionName": name}) for metric, stats in LAMBDA_METRICS]
            self.resources += 1

        for cluster in _pages(ecs, "list_clusters", "clusterArns"):
            cluster_name = cluster.rsplit("/", 1)[-1]
            for service in _pages(ecs, "list_services", "serviceArns", cluster=cluster):
                jobs.append(partial(self.ecs_service, ecs, cluster, service))
                dims = {"ClusterName": cluster_name, "ServiceName": service.rsplit("/", 1)[-1]}
                jobs += [partial(self.metric, cloudwatch, "AWS/ECS", metric, stats, dims)
                         for metric, stats in ECS_METRICS]
                self.resources += 1

        for cluster in _pages(eks, "list_clusters", "clusters"):
            jobs.append(partial(self.eks_cluster, eks, cluster))
            jobs += [partial(self.metric, cloudwatch, "ContainerInsights", metric, stats,
                             {"ClusterName": cluster}) for metric, stats in EKS_METRICS]
            self.resources += 1

        for operation in ("describe_vpcs", "describe_subnets", "describe_security_groups",
                          "describe_route_tables"):
            jobs.append(getattr(ec2, operation))
        self.fan_out(jobs)

    def ecs_service(self, ecs: Any, cluster: str, service: str) -> None:
        described = ecs.describe_services(cluster=cluster, services=[service])["services"]
        for found in described:
            ecs.describe_task_definition(taskDefinition=found["taskDefinition"])

    def eks_cluster(self, eks: Any, cluster: str) -> None:
        eks.describe_cluster(name=cluster)
        for group in _pages(eks, "list_nodegroups", "nodegroups", clusterName=cluster):
            eks.describe_nodegroup(clusterName=cluster, nodegroupName=group)

    def iam(self) -> None:
        iam = self.client("iam", "us-east-1")
        jobs: list[Callable[[], Any]] = []
        for role in _pages(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            jobs += [partial(iam.list_attached_role_policies, RoleName=name),
                     partial(iam.list_role_policies, RoleName=name)]
        self.fan_out(jobs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--region", action="append", required=True)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args(argv)
    naive = Naive(args.workers, args.days)
    naive.client("sts", args.region[0]).get_caller_identity()
    naive.iam()
    for region in args.region:
        naive.region(region)
    json.dump({"resources": naive.resources, "series": naive.series,
               "datapoints": naive.datapoints}, sys.stdout)


if __name__ == "__main__":
    main()
