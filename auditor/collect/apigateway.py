"""API Gateway: the REST APIs (v1) and HTTP and WebSocket APIs (v2) of a region, and the Lambda
functions their integrations invoke, so that the cost model prices a function behind the front
door it pays for.

Each API is read once, however many functions it fronts: `GetResources` with the methods
embedded for a REST API (their integrations come with them), `GetIntegrations` for a v2 API.
A listing that fails leaves every function of the region without a known front door; an API
that cannot be read, every function it could front, which is any function of the region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from auditor.collect.base import ScopeCollector, paginate
from auditor.model import ApiGateway, ApiProtocol, Inventory

_DATASET = "apigateway.apis"
_LAMBDA_TYPES = frozenset({"AWS", "AWS_PROXY"})
"""Integration types that invoke an AWS service; a Lambda one names the function's ARN."""
_FUNCTION = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"function:(?P<name>[A-Za-z0-9_-]+)(?=$|[:/])")
"""A function's ARN inside an integration URI: bare (HTTP APIs) or in the
`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations` form. A name
made of a stage variable (`${stageVariables.fn}`) names no function this can see."""
_MOST = {"PageSize": 500}
"""API Gateway v1 pages 25 items unless asked for more, and gives at most 500."""


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(_DATASET):
        return Inventory()
    acct, region = ctx.scope.account, ctx.scope.region
    # Unread, an API's integrations could name any function of the region.
    anyone = (f"arn:aws:lambda:{region}:{acct}:function:*",)
    apis: list[ApiGateway] = []

    v1 = ctx.client("apigateway")
    rest: list[tuple[str, str]] = []
    with ctx.loading(_DATASET, "apigateway", "GetRestApis"):
        rest = ctx.parse_each(paginate(v1, "get_rest_apis", "items", PaginationConfig=_MOST),
                              lambda raw: _listed(raw, "id", "name"), (_DATASET,),
                              "apigateway", "GetRestApis")
    for api_id, name in rest:
        arn = f"arn:aws:apigateway:{region}::/restapis/{api_id}"
        with ctx.describing(_DATASET, "apigateway", "GetResources", unread=(arn,),
                            resources=anyone):
            resources = paginate(v1, "get_resources", "items", restApiId=api_id,
                                 embed=["methods"], PaginationConfig=_MOST)
            integrations = (method.get("methodIntegration") or {}
                            for resource in resources
                            for method in (resource.get("resourceMethods") or {}).values())
            apis.append(ApiGateway(arn, acct, region, api_id, name, "REST", _functions(
                (i.get("type"), i.get("uri")) for i in integrations)))

    v2 = ctx.client("apigatewayv2")
    listed: list[tuple[str, str, ApiProtocol]] = []
    with ctx.loading(_DATASET, "apigatewayv2", "GetApis"):
        listed = ctx.parse_each(paginate(v2, "get_apis", "Items"),
                                lambda raw: (*_listed(raw, "ApiId", "Name"),
                                             _protocol(raw.get("ProtocolType"))),
                                (_DATASET,), "apigatewayv2", "GetApis")
    for api_id, name, protocol in listed:
        arn = f"arn:aws:apigateway:{region}::/apis/{api_id}"
        with ctx.describing(_DATASET, "apigatewayv2", "GetIntegrations", unread=(arn,),
                            resources=anyone):
            apis.append(ApiGateway(arn, acct, region, api_id, name, protocol, _functions(
                (i.get("IntegrationType"), i.get("IntegrationUri"))
                for i in paginate(v2, "get_integrations", "Items", ApiId=api_id))))
    return Inventory(api_gateways=tuple(apis))


def _listed(raw: dict[str, Any], id_key: str, name_key: str) -> tuple[str, str]:
    api_id = raw[id_key]
    if not isinstance(api_id, str) or not api_id:
        raise TypeError(f"the listing returned an API whose {id_key} is not a string")
    return api_id, str(raw.get(name_key) or api_id)


def _protocol(value: Any) -> ApiProtocol:
    if value == "WEBSOCKET":
        return "WEBSOCKET"
    if value == "HTTP":
        return "HTTP"
    raise ValueError(f"unknown API protocol {value!r}")


def _functions(integrations: Iterable[tuple[Any, Any]]) -> tuple[str, ...]:
    """The unqualified ARNs of the functions the integrations invoke, each once."""
    found: dict[str, None] = {}
    for kind, uri in integrations:
        match = _FUNCTION.search(uri) if kind in _LAMBDA_TYPES and isinstance(uri, str) else None
        if match is not None:
            found[(f"arn:{match['partition']}:lambda:{match['region']}:{match['account']}:"
                   f"function:{match['name']}")] = None
    return tuple(found)
