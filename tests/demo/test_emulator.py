"""The in-process emulator extensions: indexed GetMetricData and the missing-API responder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from moto.cloudwatch.models import CloudWatchBackend, MetricDatumBase, cloudwatch_backends

from auditor.demo.emulator import (
    DEFAULT_ACCOUNT,
    MissingApiResponder,
    fast_metric_data,
    fast_role_validation,
    install_fast_metric_data,
    unique_list_metrics,
)
from auditor.session import CallStats, ClientFactory

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- fast metrics


def _ecs_dims(service: str) -> list[dict[str, str]]:
    return [{"Name": "ClusterName", "Value": "prod"}, {"Name": "ServiceName", "Value": service}]


def _put_small_data_set(cloudwatch: Any) -> None:
    """Several series; StatisticValues and plain values, several in one bucket."""
    data: list[dict[str, Any]] = []
    for hour in range(1, 30):
        at = NOW - timedelta(hours=hour, minutes=hour % 7)
        for service, base in (("api", 40.0), ("worker", 10.0)):
            data.append({
                "MetricName": "CPUUtilization", "Dimensions": _ecs_dims(service),
                "Timestamp": at, "Unit": "Percent",
                "StatisticValues": {"SampleCount": 60, "Sum": base * 60 + hour,
                                    "Minimum": base / 2, "Maximum": base + hour % 5},
            })
        data.append({
            "MetricName": "Invocations", "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
            "Timestamp": at, "Unit": "Count", "Value": float(hour * 3),
        })
        data.append({
            "MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
            "Timestamp": at - timedelta(minutes=20), "Unit": "Milliseconds",
            "Values": [100.0 + hour, 250.5, 80.25], "Counts": [2, 1, 3],
        })
        if hour % 3 == 0:
            # A StatisticValues datum in the same bucket as plain values of the same series.
            data.append({
                "MetricName": "Duration",
                "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
                "Timestamp": at - timedelta(minutes=5), "Unit": "Milliseconds",
                "StatisticValues": {"SampleCount": 4, "Sum": 1000.0, "Minimum": 12.5,
                                    "Maximum": 600.0},
            })
    cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=[
        d for d in data if d["MetricName"] == "CPUUtilization"
    ])
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        d for d in data if d["MetricName"] != "CPUUtilization"
    ])


def _queries() -> list[dict[str, Any]]:
    queries: list[dict[str, Any]] = []
    stats = ("Average", "Maximum", "Minimum", "Sum", "SampleCount")
    for index, stat in enumerate(stats):
        for period in (300, 3600, 86400):
            queries.append({
                "Id": f"cpu{index}p{period}",
                "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                                          "Dimensions": _ecs_dims("api")},
                               "Period": period, "Stat": stat},
            })
            queries.append({
                "Id": f"dur{index}p{period}",
                "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration",
                                          "Dimensions": [{"Name": "FunctionName",
                                                          "Value": "fn"}]},
                               "Period": period, "Stat": stat},
                "Label": "duration",
            })
        queries.append({
            "Id": f"inv{index}",
            "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                                      "Dimensions": [{"Name": "FunctionName", "Value": "fn"}]},
                           "Period": 7200, "Stat": stat, "Unit": "Count"},
        })
    queries.append({
        "Id": "worker",
        "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                                  "Dimensions": _ecs_dims("worker")},
                       "Period": 3600, "Stat": "Maximum"},
    })
    queries.append({
        "Id": "wrongunit",
        "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                                  "Dimensions": _ecs_dims("worker")},
                       "Period": 3600, "Stat": "Maximum", "Unit": "Seconds"},
    })
    queries.append({
        "Id": "missing",
        "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                                  "Dimensions": _ecs_dims("nope")},
                       "Period": 3600, "Stat": "Maximum"},
    })
    queries.append({
        "Id": "hidden", "ReturnData": False,
        "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                                  "Dimensions": _ecs_dims("api")},
                       "Period": 3600, "Stat": "Sum"},
    })
    return queries


def _backend() -> Any:
    return cloudwatch_backends[ACCOUNT][REGION]


def _window() -> list[tuple[datetime, datetime]]:
    return [
        (NOW - timedelta(days=2), NOW),
        (NOW - timedelta(hours=13, minutes=17, seconds=3, microseconds=5), NOW),
        (NOW - timedelta(days=1), NOW - timedelta(hours=5)),
    ]


def test_fast_metric_data_matches_moto(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    _put_small_data_set(cloudwatch)
    backend = _backend()
    queries = _queries()

    for start, end in _window():
        for scan_by in ("TimestampAscending", "TimestampDescending"):
            expected = backend.get_metric_data(queries, _naive(start), _naive(end), scan_by)
            with fast_metric_data():
                got = backend.get_metric_data(queries, _naive(start), _naive(end), scan_by)
            assert got == expected
            assert any(result["values"] for result in got)

    # And through the API, as the auditor calls it.
    request = {"MetricDataQueries": queries, "StartTime": NOW - timedelta(days=2),
               "EndTime": NOW, "ScanBy": "TimestampAscending"}
    expected_api = cloudwatch.get_metric_data(**request)["MetricDataResults"]
    with fast_metric_data():
        got_api = cloudwatch.get_metric_data(**request)["MetricDataResults"]
    assert got_api == expected_api
    by_id = {result["Id"]: result for result in got_api}
    assert len(by_id["cpu1p3600"]["Values"]) > 20
    assert by_id["wrongunit"]["Values"] == [] and by_id["missing"]["Values"] == []
    assert "hidden" not in by_id


def test_fast_metric_data_ignores_dimension_order(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    _put_small_data_set(cloudwatch)
    query = _queries()[0]
    query["MetricStat"]["Metric"]["Dimensions"].reverse()
    with fast_metric_data():
        result = _backend().get_metric_data([query], _naive(NOW - timedelta(days=2)),
                                            _naive(NOW))
    # CloudWatch identifies a series by its dimension set; moto compares them in order.
    assert len(result[0]["values"]) > 0


def test_expressions_fall_back_to_moto(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    _put_small_data_set(cloudwatch)
    queries = [
        {**_queries()[3], "Id": "m1", "ReturnData": False},
        # moto's metric math only resolves a bare query ID, which needs the hidden result.
        {"Id": "same", "Expression": "m1"},
    ]
    start, end = _naive(NOW - timedelta(days=2)), _naive(NOW)
    expected = _backend().get_metric_data(queries, start, end)
    with fast_metric_data():
        assert _backend().get_metric_data(queries, start, end) == expected
    assert [r["id"] for r in expected] == ["same"] and expected[0]["values"]


def test_patch_is_undone() -> None:
    original = CloudWatchBackend.__dict__["get_metric_data"]
    with pytest.raises(RuntimeError), fast_metric_data():
        assert CloudWatchBackend.__dict__["get_metric_data"] is not original
        raise RuntimeError("boom")
    assert CloudWatchBackend.__dict__["get_metric_data"] is original

    outer = install_fast_metric_data()
    inner = install_fast_metric_data()
    inner()
    assert CloudWatchBackend.__dict__["get_metric_data"] is not original
    outer()
    assert CloudWatchBackend.__dict__["get_metric_data"] is original


def _seed_cpu(series: int, hours: int) -> tuple[Any, list[dict[str, Any]]]:
    """`series` ECS services' hourly CPUUtilization over `hours`, and the queries for their
    Maximum and Average, as the auditor's metrics pass asks (a client that skips parameter
    validation: 80 queries of 336 points is more than a real call would be asked)."""
    cloudwatch = boto3.client(
        "cloudwatch", region_name=REGION, config=Config(parameter_validation=False)
    )
    stamps = [NOW - timedelta(hours=k) for k in range(1, hours + 1)]
    datums = [
        {"MetricName": "CPUUtilization", "Dimensions": _ecs_dims(f"svc{index}"),
         "Timestamp": hour, "StatisticValues": {"SampleCount": 60, "Sum": 600.0 + index,
                                                "Minimum": 1.0, "Maximum": 20.0 + index}}
        for index in range(series)
        for hour in stamps
    ]
    for start in range(0, len(datums), 1000):
        cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=datums[start:start + 1000])
    queries = [
        {"Id": f"q{index}{stat[:3].lower()}",
         "MetricStat": {"Metric": {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
                                   "Dimensions": _ecs_dims(f"svc{index}")},
                        "Period": 3600, "Stat": stat}}
        for index in range(series)
        for stat in ("Maximum", "Average")
    ]
    return cloudwatch, queries


def _get(cloudwatch: Any, queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = cloudwatch.get_metric_data(
        MetricDataQueries=queries, StartTime=NOW - timedelta(days=14), EndTime=NOW,
        ScanBy="TimestampAscending",
    )["MetricDataResults"]
    return answer


def test_fast_metric_data_reads_only_the_series_asked_for(aws: None) -> None:
    """40 series x 336 hourly points x 2 stats, as the auditor's metrics pass asks.

    Proven by counting work, not by timing it (bench/demo.py prints the times): moto's own
    version reads every stored datapoint's timestamp once per period of every query, 8 x 337
    x 13,440 reads for 8 of these queries; the indexed one reads only the datapoints of the
    series a query asks for, whatever else is stored (the bench's x10 account stores 2.7
    million)."""
    cloudwatch, queries = _seed_cpu(series=40, hours=336)
    reads = [0]

    def timestamp(datum: MetricDatumBase) -> datetime:
        reads[0] += 1
        stamp: datetime = datum.__dict__["timestamp"]
        return stamp

    # Counted only here: a counting property would make moto's own run far slower.
    with fast_metric_data(), pytest.MonkeyPatch.context() as counting:
        counting.setattr(MetricDatumBase, "timestamp", property(timestamp), raising=False)
        eight = _get(cloudwatch, queries[:8])
        eight_reads, reads[0] = reads[0], 0
        results = _get(cloudwatch, queries)
        all_reads = reads[0]

    assert eight_reads == 8 * 336
    assert all_reads == 80 * 336
    assert results[:8] == eight  # equal to moto's own: test_fast_metric_data_matches_moto
    assert len(results) == 80
    assert all(len(result["Values"]) == 336 for result in results)
    assert results[0]["Values"][0] == 20.0 and results[1]["Values"][0] == 10.0


def test_fast_metric_data_sees_datapoints_put_after_a_call_and_forgets_a_reset(
    aws: None,
) -> None:
    cloudwatch, queries = _seed_cpu(series=1, hours=2)
    with fast_metric_data():
        assert _get(cloudwatch, queries[:1])[0]["Values"] == [20.0, 20.0]
        cloudwatch.put_metric_data(Namespace="AWS/ECS", MetricData=[
            {"MetricName": "CPUUtilization", "Dimensions": _ecs_dims("svc0"),
             "Timestamp": NOW - timedelta(hours=3), "Value": 55.0}])
        assert _get(cloudwatch, queries[:1])[0]["Values"] == [55.0, 20.0, 20.0]
        cloudwatch_backends[DEFAULT_ACCOUNT][REGION].reset()
        assert _get(cloudwatch, queries[:1])[0]["Values"] == []


# --------------------------------------------------------------------------- missing APIs


@pytest.fixture
def responder() -> MissingApiResponder:
    responder = MissingApiResponder(now=NOW)
    responder.seed_provisioned_concurrency(REGION, "checkout-api", "live", 50)
    responder.seed_provisioned_concurrency(REGION, "search-api", "live", 10)
    responder.seed_addon(REGION, "platform", "vpc-cni", "v1.16.0-eksbuild.1",
                         "v1.18.3-eksbuild.2", cluster_version="1.29")
    responder.seed_addon(REGION, "platform", "coredns", "v1.11.1-eksbuild.9",
                         "v1.11.1-eksbuild.9", cluster_version="1.29")
    responder.seed_insight(REGION, "platform", "i-1", "Kubelet version skew",
                           status="PASSING", kubernetes_version="1.30")
    responder.seed_insight(REGION, "platform", "i-2", "Deprecated APIs", status="ERROR",
                           kubernetes_version="1.30", recommendation="Migrate.")
    return responder


@pytest.fixture
def hooked(aws: None, responder: MissingApiResponder) -> Iterator[tuple[Any, Any]]:
    lam = boto3.client("lambda", region_name=REGION)
    eks = boto3.client("eks", region_name=REGION)
    for client in (lam, eks):
        client.meta.events.register("before-call.*.*", responder.hook)
    yield lam, eks


_VALIDATOR = ParamValidator()
_SESSION = botocore.session.get_session()


def _assert_shape(service: str, operation: str, response: dict[str, Any]) -> None:
    """The response fits the real API's output shape (no unknown keys, right types)."""
    shape = _SESSION.get_service_model(service).operation_model(operation).output_shape
    assert shape is not None
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = _VALIDATOR.validate(body, shape)
    assert not report.has_errors(), report.generate_report()


def _lambda_role() -> str:
    iam = boto3.client("iam", region_name=REGION)
    return str(iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"])


def test_provisioned_concurrency_is_served(hooked: tuple[Any, Any]) -> None:
    lam, _ = hooked
    lam.create_function(FunctionName="checkout-api", Runtime="python3.12", Role=_lambda_role(),
                        Handler="index.handler", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})

    by_name = lam.list_provisioned_concurrency_configs(FunctionName="checkout-api")
    by_arn = lam.list_provisioned_concurrency_configs(
        FunctionName=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:checkout-api"
    )
    _assert_shape("lambda", "ListProvisionedConcurrencyConfigs", by_name)
    assert by_name["ProvisionedConcurrencyConfigs"] == by_arn["ProvisionedConcurrencyConfigs"]
    (config,) = by_name["ProvisionedConcurrencyConfigs"]
    assert config["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:checkout-api:live"
    assert config["AllocatedProvisionedConcurrentExecutions"] == 50
    assert config["Status"] == "READY"

    one = lam.get_provisioned_concurrency_config(FunctionName="search-api", Qualifier="live")
    _assert_shape("lambda", "GetProvisionedConcurrencyConfig", one)
    assert one["RequestedProvisionedConcurrentExecutions"] == 10
    with pytest.raises(ClientError) as missing:
        lam.get_provisioned_concurrency_config(FunctionName="search-api", Qualifier="beta")
    code = missing.value.response["Error"]["Code"]
    assert code == "ProvisionedConcurrencyConfigNotFoundException"
    assert lam.list_provisioned_concurrency_configs(
        FunctionName="other")["ProvisionedConcurrencyConfigs"] == []

    settings = lam.get_account_settings()
    _assert_shape("lambda", "GetAccountSettings", settings)
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000

    # Everything else still reaches moto.
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert names == ["checkout-api"]


def test_eks_addons_insights_and_versions_are_served(hooked: tuple[Any, Any]) -> None:
    _, eks = hooked
    role = _lambda_role()
    eks.create_cluster(name="platform", version="1.29", roleArn=role,
                       resourcesVpcConfig={"subnetIds": []})
    assert eks.list_clusters()["clusters"] == ["platform"]  # moto

    addons = eks.list_addons(clusterName="platform")
    _assert_shape("eks", "ListAddons", addons)
    assert addons["addons"] == ["coredns", "vpc-cni"]
    addon = eks.describe_addon(clusterName="platform", addonName="vpc-cni")
    _assert_shape("eks", "DescribeAddon", addon)
    assert addon["addon"]["addonVersion"] == "v1.16.0-eksbuild.1"
    assert addon["addon"]["addonArn"].startswith(
        f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/platform/vpc-cni/"
    )
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_addon(clusterName="platform", addonName="kube-proxy")

    versions = eks.describe_addon_versions(kubernetesVersion="1.29", addonName="vpc-cni")
    _assert_shape("eks", "DescribeAddonVersions", versions)
    (entry,) = versions["addons"]
    defaults = [v["addonVersion"] for v in entry["addonVersions"]
                if any(c["defaultVersion"] for c in v["compatibilities"])]
    assert defaults == ["v1.18.3-eksbuild.2"]
    assert {v["addonVersion"] for v in entry["addonVersions"]} == {
        "v1.16.0-eksbuild.1", "v1.18.3-eksbuild.2"
    }
    assert eks.describe_addon_versions(kubernetesVersion="1.35")["addons"] == []

    insights = eks.list_insights(clusterName="platform")
    _assert_shape("eks", "ListInsights", insights)
    assert len(insights["insights"]) == 2
    failing = eks.list_insights(clusterName="platform",
                                filter={"statuses": ["ERROR", "WARNING"]})["insights"]
    assert [i["id"] for i in failing] == ["i-2"]
    insight = eks.describe_insight(clusterName="platform", id="i-2")
    _assert_shape("eks", "DescribeInsight", insight)
    assert insight["insight"]["recommendation"] == "Migrate."

    current = eks.describe_cluster_versions()
    _assert_shape("eks", "DescribeClusterVersions", current)
    statuses = {v["clusterVersion"]: v["versionStatus"] for v in current["clusterVersions"]}
    # On 2026-11-23: 1.29/1.30 unsupported (left out), 1.31-1.33 extended, 1.34+ standard.
    assert statuses == {"1.31": "EXTENDED_SUPPORT", "1.32": "EXTENDED_SUPPORT",
                        "1.33": "EXTENDED_SUPPORT", "1.34": "STANDARD_SUPPORT",
                        "1.35": "STANDARD_SUPPORT"}
    old = eks.describe_cluster_versions(clusterVersions=["1.29"])["clusterVersions"]
    assert old[0]["versionStatus"] == "UNSUPPORTED"
    assert old[0]["endOfExtendedSupportDate"] == datetime(2026, 3, 23, tzinfo=UTC)
    default = eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]
    assert [v["clusterVersion"] for v in default] == ["1.34"]


def test_hook_ignores_other_operations(responder: MissingApiResponder) -> None:
    model = _SESSION.get_service_model("lambda").operation_model("ListFunctions")
    assert responder.hook(model=model, params={"url_path": "/2015-03-31/functions/"},
                          context={"client_region": REGION}) is None


def test_hook_works_behind_the_read_only_factory(
    aws: None, responder: MissingApiResponder
) -> None:
    stats = CallStats()
    factory = ClientFactory(
        boto3.session.Session(), stats, extra_hooks=(("before-call.*.*", responder.hook),)
    )
    eks = factory.client("eks", REGION)
    assert eks.list_addons(clusterName="platform")["addons"] == ["coredns", "vpc-cni"]
    lam = factory.client("lambda", REGION)
    configs = lam.list_provisioned_concurrency_configs(FunctionName="checkout-api")
    assert len(configs["ProvisionedConcurrencyConfigs"]) == 1
    assert stats.by_operation() == {"eks:ListAddons": 1,
                                    "lambda:ListProvisionedConcurrencyConfigs": 1}


def test_function_urls_are_listed_from_moto(hooked: tuple[Any, Any]) -> None:
    lam, _ = hooked
    role = _lambda_role()
    for name in ("with-url", "without-url"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                            Handler="index.handler",
                            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
    created = lam.create_function_url_config(FunctionName="with-url", AuthType="AWS_IAM")

    listed = lam.list_function_url_configs(FunctionName="with-url")
    _assert_shape("lambda", "ListFunctionUrlConfigs", listed)
    (url,) = listed["FunctionUrlConfigs"]
    assert url["FunctionUrl"] == created["FunctionUrl"] and url["AuthType"] == "AWS_IAM"
    assert lam.list_function_url_configs(FunctionName="without-url")["FunctionUrlConfigs"] == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.list_function_url_configs(FunctionName="nope")


# --------------------------------------------------------------------------- list metrics


def test_list_metrics_lists_each_metric_once(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    _put_small_data_set(cloudwatch)

    def listed(**filters: Any) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
        return [
            (m["Namespace"], m["MetricName"],
             tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
            for page in cloudwatch.get_paginator("list_metrics").paginate(**filters)
            for m in page["Metrics"]
        ]

    duplicated = listed(Namespace="AWS/ECS")
    assert len(duplicated) > 2  # moto: one entry per datapoint of a two-dimension metric
    with unique_list_metrics():
        ecs = listed(Namespace="AWS/ECS")
        assert sorted(ecs) == sorted(set(duplicated)) and len(ecs) == 2
        assert len(listed(Namespace="AWS/Lambda")) == 2
        assert listed(Namespace="AWS/ECS", MetricName="CPUUtilization",
                      Dimensions=[{"Name": "ServiceName", "Value": "worker"}]) == [
            ("AWS/ECS", "CPUUtilization", (("ClusterName", "prod"), ("ServiceName", "worker")))
        ]
        assert len(listed(Dimensions=[{"Name": "ServiceName"}])) == 2
    assert CloudWatchBackend.__dict__["get_filtered_metrics"].__name__ == "get_filtered_metrics"


def test_fast_role_validation_accepts_what_moto_accepts_and_is_undone(aws: None) -> None:
    import moto.eks.models as eks_models

    original = eks_models.validate_role_arn
    eks = boto3.client("eks", region_name=REGION)
    config = {"subnetIds": ["subnet-1"]}
    with fast_role_validation():
        assert eks_models.validate_role_arn is not original
        eks.create_cluster(name="ok", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
                           resourcesVpcConfig=config)
        with pytest.raises(ClientError, match="Invalid Role Arn"):
            eks.create_cluster(name="bad", roleArn="arn:aws:iam::role/eks",
                               resourcesVpcConfig=config)
    assert eks_models.validate_role_arn is original


def test_the_emulated_account_compiles_one_thread_at_a_time() -> None:
    """moto compiles in the scan's threads; CPython 3.11.7 fails two compiles at once."""
    import builtins
    import threading

    from auditor.demo import _COMPILING, emulated_aws

    with emulated_aws():
        done = threading.Event()
        with _COMPILING:  # as if another thread were compiling
            worker = threading.Thread(target=lambda: (compile("x = 1", "t", "exec"),
                                                      done.set()))
            worker.start()
            assert not done.wait(0.2), "a second compile ran alongside the first"
        assert done.wait(60)  # hang guard
        worker.join()
        assert getattr(builtins.compile, "serialised", False)
