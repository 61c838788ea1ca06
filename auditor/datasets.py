"""The datasets the collectors load, and the read-only IAM actions each one needs.

A check declares the datasets it reads; from that the engine knows which checks a failed call
affects (they report `unknown`), and `auditor iam-policy` knows which actions to grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    name: str
    service: str
    description: str
    iam_actions: tuple[str, ...]
    resource_kinds: tuple[str, ...] = ()
    """The inventory kinds this dataset lists (their records are missing when it fails)."""
    operations: tuple[str, ...] = ()
    """The API calls behind `iam_actions` (`service:Operation`, botocore's service names)
    where IAM does not name them one to one: API Gateway authorises every read of its REST,
    HTTP and WebSocket APIs as `apigateway:GET`. Empty: the actions are the calls."""
    tags_of: tuple[str, ...] = ()
    """The inventory kinds whose tags this dataset reads when their own listing carries none
    (Lambda's). A check judging one of them wants it: `auditor:ignore` and tag suppressions
    apply to its findings. Only a check that reads the tags requires it (its verdicts then
    rest on it)."""

    @property
    def calls(self) -> tuple[str, ...]:
        """The API calls (`service:Operation`) loading this dataset may make."""
        return self.operations or self.iam_actions


_ALL = (
    Dataset("ec2.network", "ec2", "VPCs, subnets, route tables, NAT and internet gateways",
            ("ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeRouteTables",
             "ec2:DescribeNatGateways", "ec2:DescribeInternetGateways"),
            ("vpc", "subnet", "route-table", "nat-gateway", "internet-gateway")),
    Dataset("ec2.vpc_endpoints", "ec2", "VPC endpoints", ("ec2:DescribeVpcEndpoints",),
            ("vpc-endpoint",)),
    Dataset("ec2.security_groups", "ec2", "security groups and their rules",
            ("ec2:DescribeSecurityGroups",), ("security-group",)),
    Dataset("ec2.cluster_nodes", "ec2",
            "EC2 instances tagged as EKS nodes (managed node groups, Karpenter, Auto Mode, "
            "self-managed), one filtered pass per region",
            ("ec2:DescribeInstances",), ("ec2-instance",)),
    Dataset("ec2.reserved_instances", "ec2",
            "active EC2 Reserved Instances, one call per region (with --bill)",
            ("ec2:DescribeReservedInstances",), ("reserved-instance",)),
    Dataset("savingsplans.plans", "savingsplans",
            "active Savings Plans and their Lambda, Fargate and Linux EC2 rates in the scanned "
            "regions (with --bill)",
            ("savingsplans:DescribeSavingsPlans", "savingsplans:DescribeSavingsPlanRates"),
            ("savings-plan",)),
    Dataset("ce.savings_plans_coverage", "ce",
            "Savings Plans coverage by service over the lookback: one Cost Explorer request "
            "($0.01) per account with an active plan (with --bill)",
            ("ce:GetSavingsPlansCoverage", "savingsplans:DescribeSavingsPlans"),
            ("savings-plans-coverage",)),
    Dataset("ec2.spot_prices", "ec2",
            "the Spot price in effect of each instance type Spot nodes run, one call per "
            "region that has them", ("ec2:DescribeSpotPriceHistory",)),
    Dataset("ecs.clusters", "ecs", "ECS clusters and their settings",
            ("ecs:ListClusters", "ecs:DescribeClusters"), ("ecs-cluster",)),
    Dataset("ecs.services", "ecs", "ECS services, in batches of 10",
            ("ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"), ("ecs-service",)),
    Dataset("ecs.task_definitions", "ecs", "the task definitions services run, each once",
            ("ecs:DescribeTaskDefinition", "ecs:ListClusters", "ecs:ListServices",
             "ecs:DescribeServices"), ("ecs-task-definition",)),
    Dataset("ecs.account_settings", "ecs",
            "the account's effective defaultLogDriverMode, one call per region whose task "
            "definitions have awslogs containers that leave the mode to it",
            ("ecs:ListAccountSettings",)),
    Dataset("ecs.container_instances", "ecs", "container instances of EC2-backed clusters",
            ("ecs:ListContainerInstances", "ecs:DescribeContainerInstances", "ecs:ListClusters",
             "ecs:ListServices", "ecs:DescribeServices"),
            ("ecs-container-instance",)),
    Dataset("autoscaling.targets", "application-autoscaling",
            "Application Auto Scaling targets of ECS services, one paginated pass per region",
            ("application-autoscaling:DescribeScalableTargets",), ("autoscaling-target",)),
    Dataset("eks.clusters", "eks", "EKS clusters", ("eks:ListClusters", "eks:DescribeCluster"),
            ("eks-cluster",)),
    Dataset("eks.nodegroups", "eks", "EKS managed node groups",
            ("eks:ListNodegroups", "eks:DescribeNodegroup", "eks:ListClusters"),
            ("eks-nodegroup",)),
    Dataset("eks.fargate_profiles", "eks", "EKS Fargate profiles",
            ("eks:ListFargateProfiles", "eks:DescribeFargateProfile", "eks:ListClusters"),
            ("eks-fargate-profile",)),
    Dataset("eks.addons", "eks", "EKS add-ons",
            ("eks:ListAddons", "eks:DescribeAddon", "eks:ListClusters"),
            ("eks-addon",)),
    Dataset("eks.addon_versions", "eks",
            "each add-on's default version, one call per (add-on, Kubernetes version)",
            ("eks:DescribeAddonVersions", "eks:ListAddons", "eks:DescribeAddon",
             "eks:ListClusters", "eks:DescribeCluster")),
    Dataset("eks.node_amis", "ssm",
            "the recommended AMI release of each managed node group's Kubernetes version and "
            "AMI type, from SSM public parameters, one read per (version, AMI type)",
            ("ssm:GetParameter", "eks:ListNodegroups", "eks:DescribeNodegroup",
             "eks:ListClusters")),
    Dataset("eks.insights", "eks", "EKS upgrade insights, one listing per cluster",
            ("eks:ListInsights", "eks:ListClusters"), ("eks-insight",)),
    Dataset("eks.cluster_versions", "eks",
            "the support calendar of the versions clusters run, one call per region",
            ("eks:DescribeClusterVersions", "eks:ListClusters", "eks:DescribeCluster")),
    Dataset("lambda.functions", "lambda", "Lambda functions", ("lambda:ListFunctions",),
            ("lambda-function",)),
    Dataset("lambda.aliases", "lambda", "Lambda aliases",
            ("lambda:ListAliases", "cloudwatch:ListMetrics"),
            ("lambda-alias",)),
    Dataset("lambda.concurrency", "lambda",
            "reserved concurrency, asked only for functions in a VPC or behind a queue",
            ("lambda:GetFunctionConcurrency", "lambda:ListFunctions",
             "lambda:ListEventSourceMappings")),
    Dataset("lambda.provisioned_concurrency", "lambda",
            "provisioned concurrency, asked only for functions CloudWatch shows using it",
            ("cloudwatch:ListMetrics", "lambda:ListProvisionedConcurrencyConfigs"),
            ("lambda-provisioned-concurrency",)),
    Dataset("lambda.tags", "resourcegroupstaggingapi",
            "Lambda functions' tags, for `auditor:ignore`, tag suppressions and custom checks "
            "on `tags`: one Resource Groups Tagging API listing per region, 100 a page",
            ("tag:GetResources", "lambda:ListFunctions"),
            tags_of=("lambda-function", "lambda-alias", "lambda-provisioned-concurrency",
                     "lambda-function-url", "lambda-event-source-mapping")),
    Dataset("lambda.event_source_mappings", "lambda", "Lambda event source mappings",
            ("lambda:ListEventSourceMappings",), ("lambda-event-source-mapping",)),
    Dataset("lambda.function_urls", "lambda",
            "Lambda function URLs, asked only for functions CloudWatch shows called through "
            "one (UrlRequestCount, one metric listing per region)",
            ("lambda:ListFunctionUrlConfigs", "lambda:ListFunctions", "cloudwatch:ListMetrics"),
            ("lambda-function-url",)),
    Dataset("sns.subscriptions", "sns",
            "SNS subscriptions, for the Lambda functions topics invoke: one paginated listing "
            "per region", ("sns:ListSubscriptions",)),
    Dataset("events.rule_targets", "events",
            "EventBridge rules of the default event bus and their targets, for the Lambda "
            "functions they invoke: one listing per region, one call per enabled rule",
            ("events:ListRules", "events:ListTargetsByRule")),
    Dataset("lambda.event_invoke_configs", "lambda",
            "asynchronous invocation's on-failure destinations, asked only for functions an "
            "SNS topic or EventBridge rule invokes",
            ("lambda:ListFunctionEventInvokeConfigs", "lambda:ListFunctions",
             "sns:ListSubscriptions", "events:ListRules", "events:ListTargetsByRule")),
    Dataset("apigateway.apis", "apigateway",
            "API Gateway REST, HTTP and WebSocket APIs and the Lambda functions their "
            "integrations invoke, one listing per API",
            ("apigateway:GET",), ("api-gateway",),
            operations=("apigateway:GetRestApis", "apigateway:GetResources",
                        "apigatewayv2:GetApis", "apigatewayv2:GetIntegrations")),
    Dataset("iam.authorization", "iam", "roles and policies, one paginated pass per account",
            ("iam:GetAccountAuthorizationDetails",), ("iam-role", "iam-policy")),
    Dataset("rds.databases", "rds", "RDS instances and Aurora clusters",
            ("rds:DescribeDBInstances", "rds:DescribeDBClusters"),
            ("rds-instance", "rds-cluster")),
    Dataset("rds.proxies", "rds", "RDS proxies and the databases they front",
            ("rds:DescribeDBProxies", "rds:DescribeDBProxyTargets"), ("rds-proxy",)),
    Dataset("rds.parameters", "rds",
            "max_connections of custom DB parameter groups, one call per group",
            ("rds:DescribeDBParameters", "rds:DescribeDBInstances")),
    Dataset("logs.log_groups", "logs", "CloudWatch log groups", ("logs:DescribeLogGroups",),
            ("log-group",)),
    Dataset("ce.cost_and_usage", "ce",
            "what Lambda, ECS, EKS, EC2 compute, API Gateway and Elastic Load Balancing were "
            "billed over the lookback, at most 8 requests an account ($0.01 each)",
            ("ce:GetCostAndUsage",)),
    Dataset("cloudwatch.metrics", "cloudwatch", "hourly metrics, up to 500 series a call",
            ("cloudwatch:GetMetricData",)),
    Dataset("elbv2.load_balancers", "elbv2",
            "load balancers and target groups (what fronts a service or function), one "
            "target-health call per Lambda target group",
            ("elasticloadbalancing:DescribeLoadBalancers",
             "elasticloadbalancing:DescribeTargetGroups",
             "elasticloadbalancing:DescribeTargetHealth"),
            ("load-balancer", "target-group")),
    # Compute Optimizer checks the caller may see the resources it recommends for: the
    # listings its user guide names go with each recommendation call.
    Dataset("compute_optimizer.lambda", "compute-optimizer",
            "Compute Optimizer's recommendations for the functions priced, up to 1,000 a call",
            ("compute-optimizer:GetEnrollmentStatus",
             "compute-optimizer:GetLambdaFunctionRecommendations", "lambda:ListFunctions",
             "lambda:ListProvisionedConcurrencyConfigs")),
    Dataset("compute_optimizer.ecs", "compute-optimizer",
            "Compute Optimizer's recommendations for the Fargate services priced, up to 1,000 "
            "a call",
            ("compute-optimizer:GetEnrollmentStatus",
             "compute-optimizer:GetECSServiceRecommendations", "ecs:ListServices",
             "ecs:ListClusters")),
)

DATASETS: dict[str, Dataset] = {dataset.name: dataset for dataset in _ALL}

OPTIMIZER_DATASETS = frozenset({"compute_optimizer.lambda", "compute_optimizer.ecs"})
"""Read only with `--compute-optimizer` (`[compute_optimizer] enabled`), and only when the
workloads are priced: evidence beside the cost model's, which no check reads."""

ACCOUNT_ACTIONS = ("sts:GetCallerIdentity", "ec2:DescribeRegions")
"""Actions the scan needs whatever checks run (DescribeRegions checks that the regions asked
for are enabled)."""

BILLING_DATASETS = frozenset({"ce.cost_and_usage"})
"""Read only with `--bill` (`[billing] enabled`), whatever checks run: the bill the cost model
is set against, which no check reads."""


def actions_for(dataset_names: frozenset[str] | set[str] | tuple[str, ...]) -> frozenset[str]:
    return frozenset(
        action for name in dataset_names for action in DATASETS[name].iam_actions
    )


def tag_datasets(kinds: Iterable[str]) -> frozenset[str]:
    """The datasets that read the tags of these kinds where their listings do not: what a
    check judging them wants, so that `auditor:ignore` and tag suppressions see its
    findings' tags."""
    wanted = frozenset(kinds)
    return frozenset(d.name for d in _ALL if wanted & set(d.tags_of))


def datasets_listing(kind: str) -> frozenset[str]:
    """The datasets whose failure leaves records of this kind missing."""
    return frozenset(d.name for d in _ALL if kind in d.resource_kinds)
