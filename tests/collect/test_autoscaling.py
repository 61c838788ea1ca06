"""Application Auto Scaling targets of ECS services, against moto (which checks that the
service exists and pages at 50 targets)."""

from __future__ import annotations

from collections.abc import Callable

import boto3

from auditor.collect import autoscaling, ecs
from auditor.collect.autoscaling import _target
from auditor.model import merge
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, make_scan, network

DESIRED_COUNT = "ecs:service:DesiredCount"


def _services(count: int, scaled: int) -> None:
    """`count` services in cluster "web", the first `scaled` with a target (max 10 x index)."""
    client = boto3.client("ecs", region_name=REGION)
    scaling = boto3.client("application-autoscaling", region_name=REGION)
    _, subnet, group = network()
    client.create_cluster(clusterName="web")
    arn = client.register_task_definition(
        family="web", containerDefinitions=[{"name": "app", "image": "busybox", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    for index in range(count):
        client.create_service(
            cluster="web", serviceName=f"svc-{index:02}", taskDefinition=arn, desiredCount=1,
            launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {
                "subnets": [subnet], "securityGroups": [group]}})
        if index < scaled:
            scaling.register_scalable_target(
                ServiceNamespace="ecs", ResourceId=f"service/web/svc-{index:02}",
                ScalableDimension=DESIRED_COUNT, MinCapacity=1, MaxCapacity=10 * (index + 1))


def test_collects_every_target_across_pages_in_one_pass(scan: Callable[..., Scan]) -> None:
    _services(count=56, scaled=55)
    run = scan()

    inventory = autoscaling.collect(run.ctx)

    assert run.errors == []
    assert run.calls("application-autoscaling:DescribeScalableTargets") == 2  # 50 a page
    assert len(inventory.scalable_targets) == 55
    first = min(inventory.scalable_targets, key=lambda t: t.max_capacity)
    assert first.arn.startswith(
        f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/")
    assert (first.account, first.region, first.service_namespace) == (ACCOUNT, REGION, "ecs")
    assert (first.resource_id, first.scalable_dimension) == ("service/web/svc-00", DESIRED_COUNT)
    assert (first.min_capacity, first.max_capacity) == (1, 10)


def test_targets_link_to_their_services(scan: Callable[..., Scan]) -> None:
    _services(count=2, scaled=1)
    run = scan()

    inventory = merge([ecs.collect(run.ctx), autoscaling.collect(run.ctx)])

    services = {s.name: s for s in inventory.ecs_services}
    target = inventory.scalable_target_for(services["svc-00"])
    assert target is not None and target.max_capacity == 10
    assert inventory.scalable_target_for(services["svc-01"]) is None


def test_a_denied_call_is_recorded_against_the_dataset(scan: Callable[..., Scan]) -> None:
    run = scan()
    deny(run.ctx.client("application-autoscaling"), "DescribeScalableTargets")

    inventory = autoscaling.collect(run.ctx)

    assert inventory.scalable_targets == ()
    (error,) = run.errors
    assert (error.service, error.operation, error.code) == (
        "application-autoscaling", "DescribeScalableTargets", "AccessDeniedException")
    assert error.datasets == ("autoscaling.targets",)


def test_nothing_is_called_unless_the_dataset_is_wanted(scan: Callable[..., Scan]) -> None:
    run = scan(wanted={"ecs.services"})

    assert autoscaling.collect(run.ctx).scalable_targets == ()
    assert run.stats.by_operation() == {}


def test_a_target_without_an_arn_gets_one_from_its_identity() -> None:
    raw = {"ServiceNamespace": "ecs", "ResourceId": "service/web/api",
           "ScalableDimension": DESIRED_COUNT, "MinCapacity": 2, "MaxCapacity": 4}
    target = _target(raw, make_scan().ctx)
    assert target.arn == (f"arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/"
                          f"ecs/service/web/api/{DESIRED_COUNT}")
