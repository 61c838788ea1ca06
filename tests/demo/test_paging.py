"""The emulator pages like AWS (`auditor.demo.paging`): a raw call gets AWS's page and a token,
a paginator gets every item once, an over-limit batch is refused as AWS refuses it, and the
collectors read every item in ceil(items / page size) calls."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from auditor.collect import ecs as ecs_collector
from auditor.collect import iam, lambda_, logs
from auditor.collect.base import Recorder
from auditor.collect.cloudwatch import fetch_metrics
from auditor.datasets import ACCOUNT_ACTIONS, DATASETS
from auditor.demo import Demo, DemoAccount, MissingApiResponder
from auditor.demo.paging import PAGE_SIZES, REQUEST_LIMITS, TOKEN_PREFIX, Paging
from auditor.metrics import MetricQuery
from auditor.session import CallStats, ClientFactory
from tests.collect.conftest import ACCOUNT, REGION, make_scan, role
from tests.factories import lambda_zip

END = datetime(2026, 1, 1, tzinfo=UTC)
START = END - timedelta(days=14)


def _scan_operations() -> set[tuple[str, str]]:
    """(botocore service, operation) of every call the scan may make."""
    actions = {a for d in DATASETS.values() for a in d.calls} | set(ACCOUNT_ACTIONS)
    # IAM names ELBv2's actions after the service's old prefix, and the Resource Groups
    # Tagging API's `tag`.
    services = {"elasticloadbalancing": "elbv2", "tag": "resourcegroupstaggingapi"}
    return {(services.get(prefix, prefix), name)
            for prefix, name in (action.split(":") for action in actions)}


def _paginated(session: botocore.session.Session, service: str, operation: str) -> bool:
    try:
        session.get_paginator_model(service).get_paginator(operation)
    except ValueError:
        return False
    return True


def test_every_paginated_operation_of_the_scan_pages_at_aws_size() -> None:
    operations = _scan_operations()
    session = botocore.session.get_session()
    assert {op for op in operations if _paginated(session, *op)} == set(PAGE_SIZES)
    assert set(REQUEST_LIMITS) <= operations


# ----------------------------------------------------------------------------- Lambda

FUNCTIONS = 120


@pytest.mark.usefixtures("aws")
def test_lambda_lists_functions_50_a_page() -> None:
    client = boto3.client("lambda", region_name=REGION)
    common: dict[str, Any] = {"Runtime": "python3.12", "Role": role(),
                              "Handler": "handler.handler", "Code": {"ZipFile": lambda_zip()}}
    for index in range(FUNCTIONS):
        client.create_function(FunctionName=f"fn-{index:03d}", **common)

    first = client.list_functions()
    assert len(first["Functions"]) == 50
    assert first["NextMarker"].startswith(TOKEN_PREFIX)
    second = client.list_functions(Marker=first["NextMarker"])
    last = client.list_functions(Marker=second["NextMarker"])
    assert (len(second["Functions"]), len(last["Functions"])) == (50, 20)
    assert "NextMarker" not in last
    # A smaller page is honoured; a larger one is not, as AWS does.
    assert len(client.list_functions(MaxItems=20)["Functions"]) == 20
    assert len(client.list_functions(MaxItems=1000)["Functions"]) == 50
    names = [f["FunctionName"] for page in client.get_paginator("list_functions").paginate()
             for f in page["Functions"]]
    assert sorted(names) == [f"fn-{index:03d}" for index in range(FUNCTIONS)]

    run = make_scan(wanted={"lambda.functions"})
    inventory = lambda_.collect(run.ctx)
    assert run.errors == []
    assert len({f.name for f in inventory.lambda_functions}) == FUNCTIONS
    assert len(inventory.lambda_functions) == FUNCTIONS
    assert run.calls("lambda:ListFunctions") == math.ceil(FUNCTIONS / 50)


# ----------------------------------------------------------------------------- ECS

CLUSTERS = 101
SERVICES = 25


def _ecs_account() -> Any:
    """CLUSTERS clusters; the first, `c000`, runs SERVICES services (on EC2, bridge
    networking: no VPC to seed)."""
    ecs = boto3.client("ecs", region_name=REGION)
    for index in range(CLUSTERS):
        ecs.create_cluster(clusterName=f"c{index:03d}")
    ecs.register_task_definition(family="app", containerDefinitions=[
        {"name": "app", "image": "nginx:1.27", "memory": 128}])
    for index in range(SERVICES):
        ecs.create_service(cluster="c000", serviceName=f"s{index:02d}", taskDefinition="app",
                           desiredCount=1)
    return ecs


@pytest.mark.usefixtures("aws")
def test_ecs_pages_listings_and_refuses_more_than_10_services_a_describe() -> None:
    ecs = _ecs_account()

    first = ecs.list_services(cluster="c000")
    assert len(first["serviceArns"]) == 10
    assert first["nextToken"].startswith(TOKEN_PREFIX)
    asked = ecs.list_services(cluster="c000", maxResults=100)
    assert len(asked["serviceArns"]) == SERVICES
    assert "nextToken" not in asked
    clusters = ecs.list_clusters()
    assert len(clusters["clusterArns"]) == 100
    assert clusters["nextToken"].startswith(TOKEN_PREFIX)
    arns = [arn for page in ecs.get_paginator("list_services").paginate(cluster="c000")
            for arn in page["serviceArns"]]
    assert len(arns) == len(set(arns)) == SERVICES

    with pytest.raises(ClientError) as refused:
        ecs.describe_services(cluster="c000", services=arns[:11])
    assert refused.value.response["Error"] == {
        "Code": "InvalidParameterException",
        "Message": "service names can have at most 10 items."}
    assert len(ecs.describe_services(cluster="c000", services=arns[:10])["services"]) == 10

    run = make_scan(wanted={"ecs.clusters", "ecs.services"})
    inventory = ecs_collector.collect(run.ctx)
    assert run.errors == []
    assert len(inventory.ecs_clusters) == CLUSTERS
    assert sorted(s.arn for s in inventory.ecs_services) == sorted(arns)
    assert run.calls("ecs:ListClusters") == math.ceil(CLUSTERS / 100)
    assert run.calls("ecs:DescribeClusters") == math.ceil(CLUSTERS / 100)
    # One page per cluster: the collector asks for 100 services a page.
    assert run.calls("ecs:ListServices") == CLUSTERS
    assert run.calls("ecs:DescribeServices") == math.ceil(SERVICES / 10)


# ----------------------------------------------------------------------------- IAM

ROLES = 130


@pytest.mark.usefixtures("aws")
def test_iam_authorization_details_come_100_a_page_whatever_is_asked() -> None:
    client = boto3.client("iam", region_name=REGION)
    for index in range(ROLES):
        client.create_role(RoleName=f"role-{index:03d}", AssumeRolePolicyDocument="{}")

    first = client.get_account_authorization_details(Filter=["Role"], MaxItems=1000)
    assert len(first["RoleDetailList"]) == 100
    assert first["IsTruncated"] is True
    last = client.get_account_authorization_details(Filter=["Role"], Marker=first["Marker"])
    assert len(last["RoleDetailList"]) == ROLES - 100
    assert last["IsTruncated"] is False
    assert "Marker" not in last

    run = make_scan(wanted={"iam.authorization"}, region="global")
    inventory = iam.collect(run.ctx)
    assert run.errors == []
    assert len({r.name for r in inventory.iam_roles}) == ROLES
    assert run.calls("iam:GetAccountAuthorizationDetails") == math.ceil(ROLES / 100)


# ----------------------------------------------------------------------------- moto's pages

LOG_GROUPS = 60


@pytest.mark.usefixtures("aws")
def test_pages_the_emulator_cuts_itself_pass_untouched() -> None:
    client = boto3.client("logs", region_name=REGION)
    for index in range(LOG_GROUPS):
        client.create_log_group(logGroupName=f"/aws/lambda/fn-{index:02d}")

    first = client.describe_log_groups()
    assert len(first["logGroups"]) == 50
    assert not first["nextToken"].startswith(TOKEN_PREFIX)

    run = make_scan(wanted={"logs.log_groups"})
    assert len(logs.collect(run.ctx).log_groups) == LOG_GROUPS
    assert run.calls("logs:DescribeLogGroups") == math.ceil(LOG_GROUPS / 50)


def _answer(body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("", 200, HTTPHeaders(), None), {
        **body, "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}}}


@pytest.mark.usefixtures("aws")
def test_a_cut_page_hands_back_the_emulators_own_token() -> None:
    """An emulator that pages by itself, but by more than AWS, is cut to AWS's page, and its
    token comes back after the last synthetic page so the listing goes on there."""
    listings = {None: ([f"a{index}" for index in range(60)], "emulator-2"),
                "emulator-2": (["b0", "b1"], None)}

    def emulator(params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        names, following = listings[params["query_string"].get("Marker")]
        body: dict[str, Any] = {"Functions": [{"FunctionName": name} for name in names]}
        return _answer({**body, "NextMarker": following} if following else body)

    stats = CallStats()
    factory = ClientFactory(boto3.session.Session(region_name=REGION), stats, extra_hooks=(
        *Paging().hooks, ("before-call.lambda.ListFunctions", emulator)))
    client = factory.client("lambda", REGION)
    pages = [[f["FunctionName"] for f in page["Functions"]]
             for page in client.get_paginator("list_functions").paginate()]

    assert [len(page) for page in pages] == [50, 10, 2]
    assert [name for page in pages for name in page] == [*listings[None][0], "b0", "b1"]
    assert stats.by_operation() == {"lambda:ListFunctions": 3}


# ----------------------------------------------------------------------------- the demo's own APIs

INSIGHTS = 120


@pytest.mark.usefixtures("aws")
def test_listings_the_demo_answers_page_too() -> None:
    """`Demo.extra_hooks` runs the paging hooks before the responder: its listings are cut,
    and the page tokens are served, not answered again from the start."""
    responder = MissingApiResponder(now=END)
    for index in range(INSIGHTS):
        responder.seed_insight(REGION, "platform", f"i-{index:03d}", f"insight {index}",
                               status="PASSING", kubernetes_version="1.30")
    demo = Demo(DemoAccount(ACCOUNT, (REGION,), END, {}, {}, {}), responder)
    stats = CallStats()
    client = ClientFactory(boto3.session.Session(region_name=REGION), stats,
                           extra_hooks=demo.extra_hooks).client("eks", REGION)

    first = client.list_insights(clusterName="platform")
    assert len(first["insights"]) == 100
    ids = [insight["id"] for page in client.get_paginator("list_insights").paginate(
        clusterName="platform") for insight in page["insights"]]
    assert sorted(ids) == [f"i-{index:03d}" for index in range(INSIGHTS)]
    assert stats.by_operation() == {"eks:ListInsights": 1 + math.ceil(INSIGHTS / 100)}


# ----------------------------------------------------------------------------- CloudWatch

def _queries(count: int) -> list[MetricQuery]:
    return [MetricQuery(ACCOUNT, REGION, "AWS/Lambda", "Invocations",
                        (("FunctionName", f"fn-{index}"),), "Sum") for index in range(count)]


def _request(queries: list[MetricQuery]) -> dict[str, Any]:
    return {"StartTime": START, "EndTime": END, "MetricDataQueries": [
        {"Id": f"q{index}", "MetricStat": {"Metric": {
            "Namespace": q.namespace, "MetricName": q.metric,
            "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions]},
            "Period": q.period, "Stat": q.stat}}
        for index, q in enumerate(queries)]}


@pytest.mark.usefixtures("aws")
def test_get_metric_data_refuses_more_than_500_queries() -> None:
    queries = _queries(600)
    client = boto3.client("cloudwatch", region_name=REGION)
    with pytest.raises(ClientError) as refused:
        client.get_metric_data(**_request(queries))
    assert refused.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": "The collection MetricDataQueries must not have a size greater than 500."}

    stats = CallStats()
    factory = ClientFactory(boto3.session.Session(region_name=REGION), stats)
    recorder = Recorder()
    store = fetch_metrics({ACCOUNT: factory}, queries, START, END, recorder)
    assert recorder.errors == []
    assert set(store.series) == set(queries)
    assert stats.by_operation() == {"cloudwatch:GetMetricData": math.ceil(600 / 500)}


POINTS = 301
"""Per series: 400 series make 120,400 datapoints, and the 100,800 cut falls mid-series."""


class _MetricsInMemory:
    """GetMetricData with POINTS hourly datapoints for every query, answered in memory: moto
    takes seconds to serialise 100,000 datapoints, and botocore to parse them."""

    def __init__(self) -> None:
        self.stamps = [END - timedelta(hours=POINTS - hour) for hour in range(POINTS)]

    @property
    def hooks(self) -> tuple[tuple[str, Any], ...]:
        return (("before-parameter-build.cloudwatch.GetMetricData", self.read),
                ("before-call.cloudwatch.GetMetricData", self.answer))

    def read(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["test_ids"] = [query["Id"] for query in params["MetricDataQueries"]]

    def answer(self, context: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return _answer({"Messages": [], "MetricDataResults": [
            {"Id": key, "Label": key, "Timestamps": self.stamps,
             "Values": [float(hour) for hour in range(POINTS)], "StatusCode": "Complete"}
            for key in context["test_ids"]]})


@pytest.mark.usefixtures("aws")
def test_get_metric_data_returns_100800_datapoints_a_call() -> None:
    queries = _queries(400)
    fake = _MetricsInMemory()

    def factory(stats: CallStats) -> ClientFactory:
        # Paging first, as in the demo: the page token must not reach the fake.
        return ClientFactory(boto3.session.Session(region_name=REGION), stats,
                             extra_hooks=(*Paging().hooks, *fake.hooks))

    client = factory(CallStats()).client("cloudwatch", REGION)
    first = client.get_metric_data(**_request(queries))
    results = first["MetricDataResults"]
    assert sum(len(r["Values"]) for r in results) == 100_800
    assert first["NextToken"].startswith(TOKEN_PREFIX)
    cut = 100_800 // POINTS
    assert results[cut]["Id"] == f"q{cut}"
    assert results[cut]["StatusCode"] == "PartialData"
    assert len(results[cut]["Values"]) == 100_800 - cut * POINTS
    rest = client.get_metric_data(**_request(queries), NextToken=first["NextToken"])
    assert "NextToken" not in rest
    assert rest["MetricDataResults"][0]["Id"] == f"q{cut}"
    assert rest["MetricDataResults"][0]["StatusCode"] == "Complete"
    assert sum(len(r["Values"]) for r in rest["MetricDataResults"]) == 400 * POINTS - 100_800

    stats = CallStats()
    recorder = Recorder()
    store = fetch_metrics({ACCOUNT: factory(stats)}, queries, START, END, recorder)
    assert recorder.errors == []
    assert {query: len(series.values) for query, series in store.series.items()} == {
        query: POINTS for query in queries}
    assert stats.by_operation() == {
        "cloudwatch:GetMetricData": math.ceil(400 * POINTS / 100_800)}
