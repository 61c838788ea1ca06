"""The request floor: the fewest requests any tool needs to read what ours reads of the seeded
account, at AWS's page and batch sizes (SPEC section 9), computed from what was seeded.

Listings take a page per their maximum (ListFunctions 50, ListServices
100, ListClusters 100), batch describes a call per their batch (DescribeServices 10,
DescribeClusters 100), and the calls AWS answers only per resource one each: a task definition
(no batch API exists), an EKS cluster's describe and its node groups' listing and describes,
its add-ons and insights listings. GetMetricData takes a call per 500 queries or per 100,800
returned datapoints, whichever needs more. Calls a tool makes only for some resources, where
a check has found a reason to ask (reserved concurrency, aliases, URL configurations, target
health, ...), have a floor of 0: every one of them is counted as excess. Any other operation
(one account-wide or regional read, or one ListMetrics pass) is taken at ours' own count.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from seed import Scale, Seeded

PER_RESOURCE = frozenset({
    "lambda:GetFunctionConcurrency", "lambda:ListAliases",
    "lambda:ListProvisionedConcurrencyConfigs", "lambda:ListFunctionUrlConfigs",
    "lambda:ListFunctionEventInvokeConfigs", "elbv2:DescribeTargetHealth",
    "eks:DescribeAddon", "eks:DescribeFargateProfile", "rds:DescribeDBParameters",
    "rds:DescribeDBProxyTargets", "apigatewayv2:GetIntegrations", "apigateway:GetResources",
    "events:ListTargetsByRule",
})
MAX_DATAPOINTS = 100_800
MAX_QUERIES = 500


def _pages(count: int, size: int) -> int:
    """A listing is one request even when empty."""
    return max(1, math.ceil(count / size))


def floor(scale: Scale, seeded: Seeded, ours: Mapping[str, int], metric_queries: int,
          datapoints: int) -> dict[str, int]:
    """The floor by operation, for the operations ours made."""
    functions = Counter(region for region, _ in seeded.functions)
    clusters: dict[str, Counter[str]] = {r: Counter() for r in scale.regions}
    for region, cluster, _ in seeded.services:
        clusters[region][cluster] += 1
    eks = Counter(region for region, _ in seeded.eks_clusters)
    regions = scale.regions
    computed = {
        "lambda:ListFunctions": sum(_pages(functions[r], 50) for r in regions),
        # The bench seeds no log group (AWS makes one when a function first logs): one empty
        # page per region.
        "logs:DescribeLogGroups": len(regions),
        "ecs:ListClusters": sum(_pages(len(clusters[r]), 100) for r in regions),
        "ecs:DescribeClusters": sum(math.ceil(len(clusters[r]) / 100) for r in regions),
        "ecs:ListServices": sum(_pages(n, 100) for r in regions for n in clusters[r].values()),
        "ecs:DescribeServices": sum(math.ceil(n / 10) for r in regions
                                    for n in clusters[r].values()),
        # Each seeded service has a task definition family of its own.
        "ecs:DescribeTaskDefinition": len(seeded.services),
        "eks:ListClusters": sum(_pages(eks[r], 100) for r in regions),
        "eks:DescribeCluster": len(seeded.eks_clusters),
        "eks:ListNodegroups": len(seeded.eks_clusters),
        "eks:DescribeNodegroup": len(seeded.eks_clusters),  # one node group each
        "eks:ListAddons": len(seeded.eks_clusters),
        "eks:ListInsights": len(seeded.eks_clusters),
        "eks:ListFargateProfiles": len(seeded.eks_clusters),
        "cloudwatch:GetMetricData": max(
            len(regions), math.ceil(metric_queries / MAX_QUERIES),
            math.ceil(datapoints / MAX_DATAPOINTS)),
    }
    return {op: computed.get(op, 0 if op in PER_RESOURCE else count)
            for op, count in ours.items()}


def org_floor(scale: Scale, seeded: Mapping[str, Seeded],
              ours: Mapping[str, Mapping[str, int]], metric_queries: int) -> dict[str, int]:
    """An organization's floor: each account's own, from what ours sent it (`ours`: by
    account, then operation), summed by operation. The report counts metric queries for the
    whole organization; each account is taken to ask an even share of them, which decides
    nothing at the bench's 1% sample (a few dozen queries, where a call takes 500)."""
    share = math.ceil(metric_queries / max(1, len(seeded)))
    total: Counter[str] = Counter()
    for account, operations in ours.items():
        if account in seeded:
            total.update(floor(scale, seeded[account], operations, share,
                               seeded[account].datapoints))
        else:
            total.update(operations)
    return dict(total)


def excess(ours: Mapping[str, int], least: Mapping[str, int]) -> list[str]:
    """The operations ours makes more requests of than the floor, most first."""
    over = [(ours[op] - least.get(op, 0), op) for op in ours if ours[op] > least.get(op, 0)]
    return [f"{op} {ours[op]} (floor {least.get(op, 0)})" for _, op in sorted(over, reverse=True)]
