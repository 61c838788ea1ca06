from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from auditor.collect import ec2, lambda_, rds
from auditor.model import Inventory, merge, with_reserved_concurrency
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, network, role
from tests.factories import lambda_zip

FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
REACH = {"rds.databases", "ec2.security_groups", "ec2.network"}


def with_concurrency(ctx: Any, *first: Inventory) -> Inventory:
    """The first pass, then the reserved concurrency it leads to, as the runner joins them."""
    found = merge(first)
    return with_reserved_concurrency(merge([found, lambda_.reserved_concurrency(ctx, found)]))


def _functions() -> str:
    """`in-vpc` (reserved 5), `consumer` (fed by SQS), `plain`; returns the queue ARN."""
    client = boto3.client("lambda", region_name=REGION)
    _, subnet, group = network()
    arn = role()
    common: dict[str, Any] = {"Role": arn, "Handler": "handler.handler",
                              "Code": {"ZipFile": lambda_zip()}}
    client.create_function(FunctionName="in-vpc", Runtime="python3.12", MemorySize=512,
                           Timeout=30, Architectures=["arm64"],
                           VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
                           Environment={"Variables": {"STAGE": "prod"}}, **common)
    client.put_function_concurrency(FunctionName="in-vpc", ReservedConcurrentExecutions=5)
    client.create_function(FunctionName="consumer", Runtime="python3.12", **common)
    client.create_function(FunctionName="plain", Runtime="python3.12", **common)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    queue_arn = str(queue["Attributes"]["QueueArn"])
    client.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="consumer",
                                       BatchSize=5, ScalingConfig={"MaximumConcurrency": 3})
    return queue_arn


def _provisioned_metric(function: str, qualifier: str) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/Lambda", MetricData=[{
            "MetricName": "ProvisionedConcurrencyUtilization", "Value": 0.2,
            "Dimensions": [{"Name": "FunctionName", "Value": function},
                           {"Name": "Resource", "Value": f"{function}:{qualifier}"}],
        }])


def test_collects_functions_mappings_and_reserved_concurrency(
    scan: Callable[..., Scan],
) -> None:
    queue_arn = _functions()
    run = scan(wanted={"lambda.functions", "lambda.event_source_mappings",
                       "lambda.concurrency", *REACH})

    inventory = with_concurrency(run.ctx, lambda_.collect(run.ctx), ec2.collect(run.ctx),
                                 rds.collect(run.ctx))

    assert run.errors == []
    functions = {f.name: f for f in inventory.lambda_functions}
    vpc = functions["in-vpc"]
    assert (vpc.arn, vpc.account, vpc.region) == (f"{FUNCTION}:in-vpc", ACCOUNT, REGION)
    assert (vpc.runtime, vpc.memory_mb, vpc.timeout_s, vpc.architecture) == (
        "python3.12", 512, 30, "arm64")
    assert vpc.role_arn == f"arn:aws:iam::{ACCOUNT}:role/workload"
    assert vpc.package_type == "Zip" and vpc.code_size_bytes > 0
    assert vpc.vpc_id and len(vpc.subnet_ids) == len(vpc.security_group_ids) == 1
    assert vpc.environment == {"STAGE": "prod"}
    assert vpc.log_group_name == "/aws/lambda/in-vpc"
    assert vpc.last_modified is not None and vpc.last_modified.tzinfo is not None
    assert vpc.tags == {}

    consumer = functions["consumer"]
    assert consumer.vpc_id is None and consumer.subnet_ids == ()
    assert (consumer.reserved_concurrency, consumer.reserved_concurrency_known) == (None, True)
    assert functions["plain"].reserved_concurrency_known is False
    # No database in the region: no function in a VPC can reach one, so `in-vpc` is not
    # asked either (test_functions_that_can_reach_a_database_are_asked...).
    assert functions["in-vpc"].reserved_concurrency_known is False
    assert run.calls("lambda:GetFunctionConcurrency") == 1  # `consumer` alone

    (mapping,) = inventory.event_source_mappings
    assert mapping.function_arn == consumer.arn
    assert (mapping.event_source_arn, mapping.source_service) == (queue_arn, "sqs")
    assert (mapping.batch_size, mapping.maximum_concurrency) == (5, 3)
    assert mapping.arn.endswith(f":event-source-mapping:{mapping.uuid}")
    assert run.calls("lambda:ListEventSourceMappings") == 1


def test_apis_moto_lacks_are_recorded_and_the_rest_returned(scan: Callable[..., Scan]) -> None:
    _functions()
    boto3.client("lambda", region_name=REGION).publish_version(FunctionName="consumer")
    boto3.client("lambda", region_name=REGION).create_alias(
        FunctionName="consumer", Name="live", FunctionVersion="1")
    _provisioned_metric("consumer", "live")
    _url_metric("plain")
    run = scan()

    inventory = lambda_.collect(run.ctx)

    assert len(inventory.lambda_functions) == 3
    assert len(inventory.event_source_mappings) == 1
    (alias,) = inventory.lambda_aliases  # listed only for the function CloudWatch named
    assert (alias.arn, alias.function_arn, alias.name, alias.function_version) == (
        f"{FUNCTION}:consumer:live", f"{FUNCTION}:consumer", "live", "1")
    assert run.calls("lambda:ListAliases") == 1
    assert run.calls("cloudwatch:ListMetrics") == 2  # provisioned concurrency, URLs
    failed = {e.operation: e for e in run.errors}
    assert set(failed) == {"ListProvisionedConcurrencyConfigs", "ListFunctionUrlConfigs"}
    provisioned = failed["ListProvisionedConcurrencyConfigs"]
    assert (provisioned.account, provisioned.region, provisioned.service) == (
        ACCOUNT, REGION, "lambda")
    assert provisioned.datasets == ("lambda.provisioned_concurrency",)
    assert failed["ListFunctionUrlConfigs"].datasets == ("lambda.function_urls",)


def test_provisioned_concurrency_is_asked_only_for_functions_cloudwatch_names(
    scan: Callable[..., Scan],
) -> None:
    _provisioned_metric("api", "live")
    _provisioned_metric("api", "canary")
    _provisioned_metric("deleted", "live")
    run = scan(wanted={"lambda.provisioned_concurrency"})
    config = {"RequestedProvisionedConcurrentExecutions": 10,
              "AllocatedProvisionedConcurrentExecutions": 10, "Status": "READY",
              "LastModified": "2024-01-01T00:00:00.000+0000"}
    with Stubber(run.ctx.client("lambda")) as stub:  # moto has no provisioned concurrency
        stub.add_response(
            "list_provisioned_concurrency_configs",
            {"ProvisionedConcurrencyConfigs": [{**config, "FunctionArn": f"{FUNCTION}:api:live"}],
             "NextMarker": "page-2"},
            {"FunctionName": "api"})
        stub.add_response(
            "list_provisioned_concurrency_configs",
            {"ProvisionedConcurrencyConfigs": [{
                **config, "FunctionArn": f"{FUNCTION}:api:canary",
                "AllocatedProvisionedConcurrentExecutions": 0, "Status": "IN_PROGRESS"}]},
            {"FunctionName": "api", "Marker": "page-2"})
        stub.add_client_error("list_provisioned_concurrency_configs",
                              "ResourceNotFoundException", "Function not found",
                              expected_params={"FunctionName": "deleted"})

        inventory = lambda_.collect(run.ctx)

        stub.assert_no_pending_responses()
    assert run.errors == []  # a function gone since CloudWatch saw it is not a failure
    live, canary = inventory.provisioned_concurrency
    assert (live.arn, live.account, live.region) == (f"{FUNCTION}:api:live", ACCOUNT, REGION)
    assert (live.function_arn, live.function_name, live.qualifier) == (
        f"{FUNCTION}:api", "api", "live")
    assert (live.allocated, live.requested, live.status) == (10, 10, "READY")
    assert (canary.qualifier, canary.allocated, canary.status) == ("canary", 0, "IN_PROGRESS")
    assert inventory.lambda_functions == ()
    assert set(run.stats.by_operation()) == {"cloudwatch:ListMetrics",
                                             "lambda:ListProvisionedConcurrencyConfigs"}


def _url_metric(function: str) -> None:
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace="AWS/Lambda", MetricData=[{
            "MetricName": "UrlRequestCount", "Value": 3.0,
            "Dimensions": [{"Name": "FunctionName", "Value": function}]}])


def test_function_urls_and_string_timestamps(scan: Callable[..., Scan]) -> None:
    _url_metric("web")
    run = scan(wanted={"lambda.function_urls"})
    quiet = {"FunctionName": "quiet", "FunctionArn": f"{FUNCTION}:quiet",
             "Role": f"arn:aws:iam::{ACCOUNT}:role/web"}
    function = {"FunctionName": "web", "FunctionArn": f"{FUNCTION}:web",
                "Role": f"arn:aws:iam::{ACCOUNT}:role/web", "PackageType": "Image",
                "MemorySize": 1024, "Timeout": 10, "CodeSize": 0,
                "LastModified": "2024-01-01T00:00:00.000+0000",
                "LoggingConfig": {"LogFormat": "JSON", "LogGroup": "/shared/lambda"},
                "DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:web-dlq"}}
    with Stubber(run.ctx.client("lambda")) as stub:  # moto cannot list function URLs
        stub.add_response("list_functions", {"Functions": [function, quiet]})
        # Only `web` is asked: CloudWatch shows no URL request to `quiet`.
        stub.add_response("list_function_url_configs", {"FunctionUrlConfigs": [{
            "FunctionUrl": "https://abc.lambda-url.us-east-1.on.aws/",
            "FunctionArn": f"{FUNCTION}:web", "AuthType": "NONE",
            "Cors": {"AllowOrigins": ["*"], "AllowMethods": ["GET"]},
            "CreationTime": "2024-01-01T00:00:00Z", "LastModifiedTime": "2024-01-01T00:00:00Z",
        }]}, {"FunctionName": "web"})

        inventory = lambda_.collect(run.ctx)

        stub.assert_no_pending_responses()
    web, _ = inventory.lambda_functions
    assert run.calls("cloudwatch:ListMetrics") == 1
    assert web.runtime is None and web.package_type == "Image"
    assert web.architectures == ("x86_64",) and web.environment == {}
    assert web.last_modified == datetime(2024, 1, 1, tzinfo=UTC)
    assert web.reserved_concurrency_known is False
    assert web.log_group_name == "/shared/lambda"
    assert web.dead_letter_target == f"arn:aws:sqs:{REGION}:{ACCOUNT}:web-dlq"
    (url,) = inventory.function_urls
    assert url.function_arn == web.arn and url.arn != web.arn
    assert inventory.get(web.arn) == web
    assert (url.url, url.auth_type) == ("https://abc.lambda-url.us-east-1.on.aws/", "NONE")
    assert url.cors_allow_origins == ("*",)


def test_no_url_metric_means_no_url_calls_and_a_failed_listing_costs_urls_only(
    scan: Callable[..., Scan],
) -> None:
    _functions()
    run = scan(wanted={"lambda.functions", "lambda.function_urls"})
    inventory = lambda_.collect(run.ctx)
    assert run.errors == [] and inventory.function_urls == ()
    assert run.calls("lambda:ListFunctionUrlConfigs") == 0

    _url_metric("plain")
    denied = scan(wanted={"lambda.functions", "lambda.function_urls"})
    deny(denied.ctx.client("cloudwatch"), "ListMetrics")
    inventory = lambda_.collect(denied.ctx)
    (error,) = denied.errors
    assert (error.operation, error.datasets, error.resources) == (
        "ListMetrics", ("lambda.function_urls",), ())
    assert len(inventory.lambda_functions) == 3
    assert denied.calls("lambda:ListFunctionUrlConfigs") == 0


def test_denied_mapping_listing_leaves_reserved_concurrency_unknown(
    scan: Callable[..., Scan],
) -> None:
    _functions()
    run = scan(wanted={"lambda.functions", "lambda.event_source_mappings",
                       "lambda.concurrency"})
    deny(run.ctx.client("lambda"), "ListEventSourceMappings")

    inventory = with_concurrency(run.ctx, lambda_.collect(run.ctx))

    (error,) = run.errors
    assert (error.operation, error.code) == ("ListEventSourceMappings", "AccessDeniedException")
    assert error.datasets == ("lambda.event_source_mappings", "lambda.concurrency")
    assert len(inventory.lambda_functions) == 3
    # The queue consumer can no longer be recognised, and with no database check selected
    # the VPC function is not asked either.
    assert run.calls("lambda:GetFunctionConcurrency") == 0


def _database_behind(group: str, admitted: str) -> None:
    """A PostgreSQL instance in security group `group`, which admits `admitted` on 5432."""
    ec2_client = boto3.client("ec2", region_name=REGION)
    ec2_client.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": admitted}]}])
    boto3.client("rds", region_name=REGION).create_db_instance(
        DBInstanceIdentifier="orders", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="app", MasterUserPassword="password1", AllocatedStorage=20,
        VpcSecurityGroupIds=[group])


@pytest.mark.parametrize("rds_denied", [False, True])
def test_functions_that_can_reach_a_database_are_asked_and_others_in_a_vpc_are_not(
        scan: Callable[..., Scan], rds_denied: bool) -> None:
    _functions()  # `in-vpc` in security group `app`
    ec2_client = boto3.client("ec2", region_name=REGION)
    vpc = ec2_client.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])
    vpc_id = vpc["Vpcs"][0]["VpcId"]
    groups = ec2_client.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["app"]}])["SecurityGroups"]
    app = groups[0]["GroupId"]
    database = ec2_client.create_security_group(GroupName="db", Description="db",
                                                VpcId=vpc_id)["GroupId"]
    _database_behind(database, admitted=app)
    subnet = ec2_client.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    other = ec2_client.create_security_group(GroupName="other", Description="other",
                                             VpcId=vpc_id)["GroupId"]
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="elsewhere", Runtime="python3.12", Role=role("elsewhere"),
        Handler="handler.handler",
        Code={"ZipFile": lambda_zip()},
        VpcConfig={"SubnetIds": [subnet["Subnets"][0]["SubnetId"]],
                   "SecurityGroupIds": [other]})
    run = scan(wanted={"lambda.functions", "lambda.event_source_mappings",
                       "lambda.concurrency", *REACH})
    if rds_denied:
        deny(run.ctx.client("rds"), "DescribeDBInstances")

    inventory = with_concurrency(run.ctx, lambda_.collect(run.ctx), ec2.collect(run.ctx),
                                 rds.collect(run.ctx))

    known = {f.name for f in inventory.lambda_functions if f.reserved_concurrency_known}
    if rds_denied:
        # Which functions reach a database cannot be told: every one in a VPC is asked.
        assert known == {"in-vpc", "elsewhere", "consumer"}
    else:
        assert known == {"in-vpc", "consumer"}
        reserved = {f.name: f.reserved_concurrency for f in inventory.lambda_functions}
        assert reserved["in-vpc"] == 5


def _async_invokers() -> str:
    """An SNS topic invoking `consumer` and `plain`, an enabled rule invoking `plain:live`, a
    disabled one invoking `in-vpc`; `plain` sends its failures to a queue. Returns it."""
    _functions()
    lam = boto3.client("lambda", region_name=REGION)
    lam.publish_version(FunctionName="plain")
    lam.create_alias(FunctionName="plain", Name="live", FunctionVersion="1")
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    for name in ("consumer", "plain"):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=f"{FUNCTION}:{name}")
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    events = boto3.client("events", region_name=REGION)
    for rule, state, target in (("nightly", "ENABLED", f"{FUNCTION}:plain:live"),
                                ("paused", "DISABLED", f"{FUNCTION}:in-vpc")):
        events.put_rule(Name=rule, ScheduleExpression="rate(1 day)", State=state)
        events.put_targets(Rule=rule, Targets=[{"Id": "fn", "Arn": target}])
    failed = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failed-events"
    lam.put_function_event_invoke_config(
        FunctionName="plain", DestinationConfig={"OnFailure": {"Destination": failed}})
    return failed


def test_async_invokers_from_regional_listings_and_destinations_only_for_them(
    scan: Callable[..., Scan],
) -> None:
    failed = _async_invokers()
    run = scan(wanted={"lambda.functions", "sns.subscriptions", "events.rule_targets",
                       "lambda.event_invoke_configs"})

    inventory = lambda_.collect(run.ctx)

    assert run.errors == []
    functions = {f.name: f for f in inventory.lambda_functions}
    assert [(i.source, i.qualifier) for i in functions["plain"].async_invokers] == [
        ("sns", ""), ("eventbridge", "live")]
    assert functions["plain"].on_failure_destination("") == failed
    (consumer,) = functions["consumer"].async_invokers
    assert consumer.source_arn.endswith(":alerts")
    assert functions["consumer"].on_failure_destinations == {}
    assert functions["in-vpc"].async_invokers == ()  # its rule is disabled
    assert functions["plain"].dead_letter_target is None
    assert run.calls("sns:ListSubscriptions") == 1
    assert run.calls("events:ListRules") == 1
    assert run.calls("events:ListTargetsByRule") == 1  # the enabled rule only
    assert run.calls("lambda:ListFunctionEventInvokeConfigs") == 2  # consumer and plain


def test_a_failed_invoker_listing_costs_the_region_and_a_failed_config_its_function(
    scan: Callable[..., Scan],
) -> None:
    _async_invokers()
    run = scan(wanted={"lambda.functions", "sns.subscriptions", "events.rule_targets",
                       "lambda.event_invoke_configs"})
    deny(run.ctx.client("sns"), "ListSubscriptions")
    deny(run.ctx.client("lambda"), "ListFunctionEventInvokeConfigs")

    inventory = lambda_.collect(run.ctx)

    listing, config = run.errors
    assert (listing.operation, listing.datasets, listing.resources) == (
        "ListSubscriptions", ("sns.subscriptions", "lambda.event_invoke_configs"), ())
    # Only `plain` is still known to be invoked (by its rule), so only it is asked.
    assert (config.operation, config.datasets, config.resources) == (
        "ListFunctionEventInvokeConfigs", ("lambda.event_invoke_configs",),
        (f"{FUNCTION}:plain",))
    assert len(inventory.lambda_functions) == 3


@pytest.mark.parametrize("value", ["5", 2.5, True, {"unexpected": "x"}])
def test_a_reserved_concurrency_that_is_not_a_count_is_unreadable_not_unreserved(
        value: object) -> None:
    """Read as "no reservation", a malformed GetFunctionConcurrency answer judged the function
    as unbounded without an error (found by the generated accounts at 300)."""
    with pytest.raises(ValueError, match="ReservedConcurrentExecutions"):
        lambda_._reserved(value)
    assert (lambda_._reserved(None), lambda_._reserved(0), lambda_._reserved(5)) == (None, 0, 5)
