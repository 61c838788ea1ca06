"""Requests per resource: batch and list calls, never one call per resource where AWS has a
batch, and CloudWatch at 500 queries a call."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from auditor.collect.base import Recorder
from auditor.collect.cloudwatch import fetch_metrics
from auditor.config import Config
from auditor.metrics import MetricQuery
from auditor.scan import Environment, scan
from auditor.session import CallStats, ClientFactory
from tests.factories import lambda_zip

FUNCTIONS = 400
IN_VPC = 40
"""Of the functions, this many in a VPC, and of them, this many in the security group a
database admits: only those can open connections to it."""
REACHING_DATABASE = 10
CLUSTERS = 2
SERVICES_PER_CLUSTER = 50
TASK_FAMILIES = 5



def seed(region: str = "us-east-1") -> None:
    iam = boto3.client("iam", region_name=region)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
    app = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    database = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=database, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": app}]}])
    boto3.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="app", MasterUserPassword="password1", AllocatedStorage=20,
        VpcSecurityGroupIds=[database])
    lam = boto3.client("lambda", region_name=region)
    code = lambda_zip()
    for index in range(FUNCTIONS):
        network = {"VpcConfig": {"SubnetIds": [subnet], "SecurityGroupIds": [
            app if index < REACHING_DATABASE else group]}} if index < IN_VPC else {}
        lam.create_function(FunctionName=f"fn-{index:03d}", Runtime="python3.12", Role=role,
                            Handler="handler.handler", Code={"ZipFile": code}, **network)
    sqs = boto3.client("sqs", region_name=region)
    queue = sqs.get_queue_attributes(
        QueueUrl=sqs.create_queue(QueueName="jobs")["QueueUrl"],
        AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(EventSourceArn=queue, FunctionName=f"fn-{FUNCTIONS - 1}")
    ecs = boto3.client("ecs", region_name=region)
    for family in range(TASK_FAMILIES):
        ecs.register_task_definition(
            family=f"app-{family}", requiresCompatibilities=["FARGATE"], networkMode="awsvpc",
            cpu="1024", memory="2048",
            containerDefinitions=[{"name": "app", "image": "nginx:1.27", "essential": True}])
    for cluster in range(CLUSTERS):
        ecs.create_cluster(clusterName=f"c{cluster}")
        for index in range(SERVICES_PER_CLUSTER):
            ecs.create_service(
                cluster=f"c{cluster}", serviceName=f"s{index:02d}",
                taskDefinition=f"app-{index % TASK_FAMILIES}", desiredCount=1,
                launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": [subnet], "securityGroups": [group]}})


@pytest.mark.usefixtures("aws")
def test_calls_per_resource_at_scale(capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    report = scan(Config(regions=("us-east-1",)), Environment(session=boto3.session.Session()),
                  datetime.now(UTC))
    calls = report.stats.api_calls_by_operation
    services = CLUSTERS * SERVICES_PER_CLUSTER
    # At AWS's page sizes (the `aws` fixture): each listing a page per its maximum, each
    # batch describe per its batch, and per-resource calls only where a check needs them.
    per_region = {op: 1 for op in (
        "apigateway:GetRestApis", "apigatewayv2:GetApis",
        "application-autoscaling:DescribeScalableTargets", "ec2:DescribeInstances",
        "ec2:DescribeInternetGateways", "ec2:DescribeNatGateways", "ec2:DescribeRegions",
        "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
        "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs", "ecs:DescribeClusters",
        "ecs:ListClusters", "eks:ListClusters", "elbv2:DescribeLoadBalancers",
        "elbv2:DescribeTargetGroups", "events:ListRules", "iam:GetAccountAuthorizationDetails",
        "lambda:ListEventSourceMappings", "logs:DescribeLogGroups", "rds:DescribeDBClusters",
        "rds:DescribeDBInstances", "rds:DescribeDBProxies",
        "resourcegroupstaggingapi:GetResources", "sns:ListSubscriptions",
        "sts:GetCallerIdentity")}
    assert calls == {
        **per_region,
        "lambda:ListFunctions": math.ceil(FUNCTIONS / 50),
        "ecs:ListServices": CLUSTERS * math.ceil(SERVICES_PER_CLUSTER / 100),
        "ecs:DescribeServices": CLUSTERS * math.ceil(SERVICES_PER_CLUSTER / 10),
        "ecs:DescribeTaskDefinition": TASK_FAMILIES,  # one per distinct task definition
        # The connection storm's and the queue's functions, not every function in a VPC.
        "lambda:GetFunctionConcurrency": REACHING_DATABASE + 1,
        # One pass each for provisioned concurrency and function URLs.
        "cloudwatch:ListMetrics": 2,
        "cloudwatch:GetMetricData": math.ceil(report.stats.metric_queries / 500),
    }
    resources = FUNCTIONS + services
    ratio = report.stats.api_calls / resources
    with capsys.disabled():
        print(f"\n[scale] {report.stats.api_calls} API calls for {resources} workloads "
              f"({FUNCTIONS} functions, {services} services): {ratio:.3f} calls per resource; "
              f"{report.stats.metric_queries} metric series in "
              f"{calls.get('cloudwatch:GetMetricData', 0)} GetMetricData call(s)")
    assert ratio < 0.25
    assert report.errors == ()


@pytest.mark.usefixtures("aws")
def test_metric_queries_are_packed_500_to_a_call() -> None:
    stats = CallStats()
    factory = ClientFactory(boto3.session.Session(), stats)
    queries = [
        MetricQuery("123456789012", "us-east-1", "AWS/Lambda", "Invocations",
                    (("FunctionName", f"fn-{i}"),), "Sum")
        for i in range(1200)
    ]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    store = fetch_metrics({"123456789012": factory}, queries, end - timedelta(days=1), end,
                          Recorder())
    assert stats.by_operation() == {"cloudwatch:GetMetricData": 3}
    assert set(store.series) == set(queries)
