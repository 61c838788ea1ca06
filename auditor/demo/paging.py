"""AWS's page sizes and batch limits, applied to the moto emulator.

moto answers most listings in one page and accepts batches of any size, so code that pages or
batches wrongly would pass every test and the demo, then lose resources (or fail) on the first
large account. `Paging` makes the emulator page like AWS for every listing the scan makes,
with three botocore hooks:

- `before-parameter-build` reads a call's page token and page size (the `input_token` and
  `limit_key` botocore's `paginators-1.json` names for the operation) and checks batches
  against AWS's hard limits (`REQUEST_LIMITS`);
- `after-call` cuts a result longer than AWS's page (`PAGE_SIZES`, or the smaller size the
  caller asked for) and keeps the rest under a synthetic token put in the operation's
  `output_token` field;
- `before-call` answers a request carrying such a token from what was kept, and refuses an
  over-limit batch with the error AWS returns. Returning a response from `before-call` makes
  botocore skip the HTTP request, and so moto, as `MissingApiResponder.hook` does.

Where moto pages by itself at or below AWS's size, its pages and tokens pass untouched; when a
cut moto page carried moto's own token, the last synthetic page hands it back so the listing
carries on in moto. The cut applies to whatever answered the call: moto, or the demo's
`MissingApiResponder`.

`Paging.hooks` goes on clients one by one (`ClientFactory(extra_hooks=...)`, as the demo does);
`aws_page_sizes()` puts the hooks on every client created while it is active (the tests' `aws`
fixture). Nothing here is used against real AWS, which pages by itself.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.loaders import create_loader


@dataclass(frozen=True)
class PageSize:
    """How many items AWS puts in one page of a listing."""

    default: int | None
    """When the caller asks for no page size; None: the whole listing."""
    maximum: int
    """The most one page holds, whatever the caller asks for."""

    def for_request(self, asked: int | None) -> int | None:
        return self.default if asked is None else min(asked, self.maximum)


# EC2 returns everything when MaxResults is left out ("If this parameter is not specified,
# then all items are returned", DescribeSecurityGroups) and at most 1,000 items when it is set
# (MaxResults 5-1000 in service-2.json; DescribeVpcEndpoints: "If the value is greater than
# 1,000, we return only 1,000 items").
_EC2 = PageSize(None, 1000)
# EKS list calls: "This value can be between 1 and 100. If you don't use this parameter, 100
# results and a nextToken value, if applicable, are returned."
_EKS = PageSize(100, 100)
# RDS MaxRecords: "Default: 100 Constraints: Minimum 20, maximum 100."
_RDS = PageSize(100, 100)

PAGE_SIZES: dict[tuple[str, str], PageSize] = {
    ("ec2", "DescribeVpcs"): _EC2,
    ("ec2", "DescribeSubnets"): _EC2,
    # MaxResults 5-100 for route tables (service-2.json), unlike the other EC2 listings.
    ("ec2", "DescribeRouteTables"): PageSize(None, 100),
    ("ec2", "DescribeNatGateways"): _EC2,
    ("ec2", "DescribeInternetGateways"): _EC2,
    ("ec2", "DescribeVpcEndpoints"): _EC2,
    ("ec2", "DescribeSecurityGroups"): _EC2,
    ("ec2", "DescribeInstances"): _EC2,
    # "Specify a value between 1 and 1000. The default value is 1000." (MaxResults)
    ("ec2", "DescribeSpotPriceHistory"): PageSize(1000, 1000),
    # ECS maxResults: "between 1 and 100. If this parameter isn't used, then ListClusters
    # returns up to 100 results" (ListContainerInstances the same); ListServices "returns up
    # to 10 results".
    ("ecs", "ListClusters"): PageSize(100, 100),
    ("ecs", "ListServices"): PageSize(10, 100),
    ("ecs", "ListContainerInstances"): PageSize(100, 100),
    # "between 1 and 10. If this parameter isn't used, then ListAccountSettings returns up to
    # 10 results" (maxResults).
    ("ecs", "ListAccountSettings"): PageSize(10, 10),
    # MaxResults: "This value can be between 1 and 50. The default value is 50."
    ("application-autoscaling", "DescribeScalableTargets"): PageSize(50, 50),
    ("eks", "ListClusters"): _EKS,
    ("eks", "ListNodegroups"): _EKS,
    ("eks", "ListFargateProfiles"): _EKS,
    ("eks", "ListAddons"): _EKS,
    ("eks", "DescribeAddonVersions"): _EKS,
    ("eks", "ListInsights"): _EKS,
    # Only the maximum (1-100) is documented; the default is taken to be the same.
    ("eks", "DescribeClusterVersions"): _EKS,
    # "Lambda returns up to 50 functions per call" / "returns a maximum of 50 items in each
    # response, even if you set the number higher" (ListFunctions, ListFunctionUrlConfigs).
    ("lambda", "ListFunctions"): PageSize(50, 50),
    ("lambda", "ListFunctionUrlConfigs"): PageSize(50, 50),
    # "ListEventSourceMappings returns a maximum of 100 items in each response".
    ("lambda", "ListEventSourceMappings"): PageSize(100, 100),
    # MaxItems 1-50 (service-2.json).
    ("lambda", "ListProvisionedConcurrencyConfigs"): PageSize(50, 50),
    # MaxItems 1-50 (service-2.json); a function has one config per version or alias.
    ("lambda", "ListFunctionEventInvokeConfigs"): PageSize(50, 50),
    # "Returns a list of the requester's subscriptions. Each call returns a limited list of
    # subscriptions, up to 100."
    ("sns", "ListSubscriptions"): PageSize(100, 100),
    # Limit 1-100 (service-2.json), no default documented: taken as the most.
    ("events", "ListRules"): PageSize(100, 100),
    ("events", "ListTargetsByRule"): PageSize(100, 100),
    # No page size is documented; 50, the smallest of Lambda's per-function listings.
    ("lambda", "ListAliases"): PageSize(50, 50),
    # ResourcesPerPage: "a minimum of 1 and a maximum value of 100"; no default documented:
    # taken as the most, which the scan asks for anyway.
    ("resourcegroupstaggingapi", "GetResources"): PageSize(100, 100),
    # "Up to 500 results are returned for any one call."
    ("cloudwatch", "ListMetrics"): PageSize(500, 500),
    # Datapoints, not results: "as many as 100,800 data points" a call; MaxDatapoints "If you
    # omit this, the default of 100,800 is used".
    ("cloudwatch", "GetMetricData"): PageSize(100_800, 100_800),
    # MaxItems defaults to 100 and may be set up to 1,000, but "IAM might return fewer
    # results, even when there are more results available": 100 whatever is asked, so a
    # caller asking for 1,000 still sees pages.
    ("iam", "GetAccountAuthorizationDetails"): PageSize(100, 100),
    ("rds", "DescribeDBInstances"): _RDS,
    ("rds", "DescribeDBClusters"): _RDS,
    ("rds", "DescribeDBProxies"): _RDS,
    ("rds", "DescribeDBProxyTargets"): _RDS,
    ("rds", "DescribeDBParameters"): _RDS,
    # limit: "If you don't specify a value, the default is up to 50 items" (1-50).
    ("logs", "DescribeLogGroups"): PageSize(50, 50),
    # maxResults 0-1,000 (service-2.json), no default documented: taken as the most, which
    # the scan asks for anyway.
    ("compute-optimizer", "GetLambdaFunctionRecommendations"): PageSize(1000, 1000),
    # PageSize 1-400; ELBv2 documents no default (classic ELB's is 400), so 400.
    ("elbv2", "DescribeLoadBalancers"): PageSize(400, 400),
    ("elbv2", "DescribeTargetGroups"): PageSize(400, 400),
    # limit: "The default value is 25 and the maximum value is 500."
    ("apigateway", "GetRestApis"): PageSize(25, 500),
    ("apigateway", "GetResources"): PageSize(25, 500),
    # MaxResults has no documented default or maximum for v2; taken as v1's.
    ("apigatewayv2", "GetApis"): PageSize(25, 500),
    ("apigatewayv2", "GetIntegrations"): PageSize(25, 500),
}
"""Every paginated operation the scan calls (tests check the list against `datasets.py`)."""


@dataclass(frozen=True)
class RequestLimit:
    """A batch AWS refuses outright when it names more than `maximum` items."""

    member: str
    maximum: int
    code: str
    message: str


REQUEST_LIMITS: dict[tuple[str, str], RequestLimit] = {
    # "You may specify up to 10 services"; AWS's answer beyond that, verbatim.
    ("ecs", "DescribeServices"): RequestLimit(
        "services", 10, "InvalidParameterException",
        "service names can have at most 10 items."),
    # "A list of up to 100" (clusters, container instances); worded like the services error.
    ("ecs", "DescribeClusters"): RequestLimit(
        "clusters", 100, "InvalidParameterException", "clusters can have at most 100 items."),
    ("ecs", "DescribeContainerInstances"): RequestLimit(
        "containerInstances", 100, "InvalidParameterException",
        "containerInstances can have at most 100 items."),
    # "A single GetMetricData call can include as many as 500 MetricDataQuery structures";
    # CloudWatch's answer beyond that, verbatim.
    ("cloudwatch", "GetMetricData"): RequestLimit(
        "MetricDataQueries", 500, "ValidationError",
        "The collection MetricDataQueries must not have a size greater than 500."),
}

TOKEN_PREFIX = "emulated-page-"

_Item = tuple[str, Any]
"""One listed item with the result key it came under (IAM lists four kinds in one page)."""
Hook = Callable[..., Any]
_CONTEXT_KEY = "auditor_paging"
_METRIC_RESULTS = "MetricDataResults"


@dataclass(frozen=True)
class _Keys:
    """An operation's pagination fields, from botocore's `paginators-1.json`."""

    input_token: str
    output_token: str
    result_keys: tuple[str, ...]
    limit_key: str | None
    more_results: str | None


_LOADER = create_loader()


@cache
def _keys(service: str, api_version: str, operation: str) -> _Keys:
    config = _LOADER.load_service_model(service, "paginators-1", api_version)["pagination"][
        operation]
    results = config["result_key"]
    return _Keys(config["input_token"], config["output_token"],
                 tuple(results) if isinstance(results, list) else (results,),
                 config.get("limit_key"), config.get("more_results"))


@dataclass(frozen=True)
class _Request:
    """What `before-parameter-build` saw of one call, for the hooks after it."""

    operation: tuple[str, str]
    keys: _Keys | None
    size: int | None
    token: str | None
    refusal: RequestLimit | None


@dataclass(frozen=True)
class _Rest:
    """What a synthetic token stands for."""

    operation: tuple[str, str]
    items: tuple[_Item, ...]
    present: tuple[str, ...]
    """The result keys the first page carried: every page carries them, empty or not."""
    then: str | None
    """The emulator's own token for what follows these items, if it paged too."""


def _take(operation: tuple[str, str], items: Sequence[_Item], size: int | None
          ) -> tuple[list[_Item], list[_Item]]:
    """One page of `items`, and the rest."""
    if size is None:
        return list(items), []
    if operation == ("cloudwatch", "GetMetricData"):
        return _take_datapoints(items, size)
    return list(items[:size]), list(items[size:])


def _take_datapoints(items: Sequence[_Item], budget: int) -> tuple[list[_Item], list[_Item]]:
    """GetMetricData pages by datapoints: a series cut short goes on under the same Id in the
    next page, marked `PartialData` as CloudWatch marks a result with more to come."""
    page: list[_Item] = []
    rest: list[_Item] = []
    for key, item in items:
        values = list(item.get("Values", [])) if key == _METRIC_RESULTS else []
        if not rest and len(values) <= budget:
            page.append((key, item))
            budget -= len(values)
        elif not rest and budget > 0:
            stamps = list(item.get("Timestamps", []))
            page.append((key, {**item, "Timestamps": stamps[:budget], "Values": values[:budget],
                               "StatusCode": "PartialData"}))
            rest.append((key, {**item, "Timestamps": stamps[budget:], "Values": values[budget:]}))
            budget = 0
        else:
            rest.append((key, item))
    return page, rest


def _fill(parsed: dict[str, Any], keys: _Keys, present: Sequence[str], page: Sequence[_Item],
          token: str | None) -> None:
    for key in present:
        parsed[key] = [item for kind, item in page if kind == key]
    if token:
        parsed[keys.output_token] = token
    else:
        parsed.pop(keys.output_token, None)
    if keys.more_results:
        parsed[keys.more_results] = bool(token)


def _response(params: Mapping[str, Any], status: int, body: dict[str, Any]
              ) -> tuple[AWSResponse, dict[str, Any]]:
    metadata = {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": status, "HTTPHeaders": {},
                "RetryAttempts": 0}
    return (AWSResponse(str(params.get("url", "")), status, HTTPHeaders(), None),
            {**body, "ResponseMetadata": metadata})


class Paging:
    """AWS's page sizes and batch limits for the clients its `hooks` are registered on.

    Tokens are kept for the life of the object (a test, a demo run): AWS accepts a token
    more than once, and nothing here is large.
    """

    def __init__(self) -> None:
        self._kept: dict[str, _Rest] = {}
        self._lock = threading.Lock()

    @property
    def hooks(self) -> tuple[tuple[str, Hook], ...]:
        """(event, handler) pairs. `read_request` and `answer` must run before any other hook
        that answers calls (the demo's `MissingApiResponder`), so tokens reach this object."""
        return (("before-parameter-build.*.*", self.read_request),
                ("before-call.*.*", self.answer),
                ("after-call.*.*", self.cut))

    def read_request(self, params: Mapping[str, Any], model: Any, context: dict[str, Any],
                     **_: Any) -> None:
        """botocore `before-parameter-build` handler: note the call's token, page size and
        any broken batch limit in the call's context, which the other two hooks receive."""
        service = model.service_model
        operation = (service.service_name, model.name)
        page, limit = PAGE_SIZES.get(operation), REQUEST_LIMITS.get(operation)
        if page is None and limit is None:
            return
        refusal = limit if limit and len(params.get(limit.member) or ()) > limit.maximum else None
        keys = _keys(service.service_name, service.api_version, model.name) if page else None
        size = token = None
        if page and keys:
            asked = params.get(keys.limit_key) if keys.limit_key else None
            size = page.for_request(int(asked) if asked is not None else None)
            token = params.get(keys.input_token)
        context[_CONTEXT_KEY] = _Request(operation, keys, size, token, refusal)

    def answer(self, params: Mapping[str, Any], context: Mapping[str, Any], **_: Any
               ) -> tuple[AWSResponse, dict[str, Any]] | None:
        """botocore `before-call` handler: AWS's error for an over-limit batch, or the page a
        synthetic token stands for; None (go on to the emulator) otherwise."""
        request: _Request | None = context.get(_CONTEXT_KEY)
        if request is None:
            return None
        if request.refusal:
            return _response(params, 400, {"Error": {"Code": request.refusal.code,
                                                     "Message": request.refusal.message}})
        if request.keys is None or not isinstance(request.token, str):
            return None
        with self._lock:
            rest = self._kept.get(request.token)
        if rest is None or rest.operation != request.operation:
            # Not this object's token: moto's own, or another `Paging`'s.
            return None
        page, remaining = _take(request.operation, rest.items, request.size)
        token = self._keep(rest.operation, remaining, rest.present, rest.then)
        http, parsed = _response(params, 200, {})
        _fill(parsed, request.keys, rest.present, page, token)
        return http, parsed

    def cut(self, http_response: Any, parsed: dict[str, Any], context: Mapping[str, Any],
            **_: Any) -> None:
        """botocore `after-call` handler: cut a result longer than the page in place, keeping
        the rest under a synthetic token."""
        request: _Request | None = context.get(_CONTEXT_KEY)
        if (request is None or request.keys is None or "Error" in parsed
                or getattr(http_response, "status_code", 200) >= 300):
            return
        keys = request.keys
        present = tuple(key for key in keys.result_keys if key in parsed)
        items = [(key, item) for key in present for item in parsed[key] or ()]
        page, rest = _take(request.operation, items, request.size)
        if not rest:
            return
        more = keys.more_results is None or bool(parsed.get(keys.more_results))
        then = parsed.get(keys.output_token) if more else None
        token = self._keep(request.operation, rest, present, then or None)
        _fill(parsed, keys, present, page, token)

    def _keep(self, operation: tuple[str, str], items: Sequence[_Item], present: tuple[str, ...],
              then: str | None) -> str | None:
        """The token for `items`, or, with none left, the emulator's own token (if any)."""
        if not items:
            return then
        token = f"{TOKEN_PREFIX}{uuid.uuid4().hex}"
        with self._lock:
            self._kept[token] = _Rest(operation, tuple(items), present, then)
        return token


@contextmanager
def aws_page_sizes() -> Iterator[Paging]:
    """AWS's page sizes on every botocore client created while the block runs.

    The hooks join botocore's built-in handlers, which every new session registers on its
    clients (moto's mock registers itself the same way). They are registered in the middle
    section, so hooks a client adds with `register_first` (the `ClientFactory`'s read-only
    guard and call counter) run before them and count every page.
    """
    paging = Paging()
    builtin = botocore.handlers.BUILTIN_HANDLERS
    # In place, not a new list: moto appends its own handler to this list object.
    builtin.extend(paging.hooks)
    try:
        yield paging
    finally:
        for hook in paging.hooks:
            builtin.remove(hook)
