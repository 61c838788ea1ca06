"""Elastic Load Balancing v2 against moto: load balancers with their creation time, target
groups, and the functions Lambda target groups invoke."""

from __future__ import annotations

from collections.abc import Callable

import boto3

from auditor.collect import elbv2
from tests.collect.conftest import REGION, Scan, deny, network


def _balancer_with_lambda_group() -> tuple[str, str]:
    """An ALB forwarding to a Lambda target group with one function registered."""
    _, subnet, group = network()
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                              AvailabilityZone=f"{REGION}b")["Subnet"]["SubnetId"]
    client = boto3.client("elbv2", region_name=REGION)
    lb = client.create_load_balancer(Name="web", Subnets=[subnet, other],
                                     SecurityGroups=[group])["LoadBalancers"][0]
    target = client.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0]
    client.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                           DefaultActions=[{"Type": "forward",
                                            "TargetGroupArn": target["TargetGroupArn"]}])
    function = f"arn:aws:lambda:{REGION}:123456789012:function:api"
    client.register_targets(TargetGroupArn=target["TargetGroupArn"], Targets=[{"Id": function}])
    return str(lb["LoadBalancerArn"]), function


def test_load_balancers_carry_their_creation_time_and_lambda_groups_their_functions(
        scan: Callable[..., Scan]) -> None:
    arn, function = _balancer_with_lambda_group()
    run = scan()
    inventory = elbv2.collect(run.ctx)
    assert run.errors == []
    [lb] = inventory.load_balancers
    assert (lb.arn, lb.lb_type) == (arn, "application")
    # elb.unused_load_balancer judges only load balancers older than the lookback.
    assert lb.created is not None and lb.created.tzinfo is not None
    [group] = inventory.target_groups
    assert group.load_balancer_arns == (arn,) and group.lambda_targets == (function,)
    assert run.calls("elbv2:DescribeTargetHealth") == 1


def test_a_lambda_group_deleted_since_it_was_listed_is_dropped_not_left_empty(
        scan: Callable[..., Scan]) -> None:
    _balancer_with_lambda_group()
    run = scan()
    deny(run.ctx.client("elbv2"), "DescribeTargetHealth", code="TargetGroupNotFound")
    inventory = elbv2.collect(run.ctx)
    # Kept, it would read as a group with no function registered: nothing to route to.
    assert run.errors == [] and inventory.target_groups == ()
    assert len(inventory.load_balancers) == 1
