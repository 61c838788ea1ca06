"""API Gateway: REST, HTTP and WebSocket APIs and the functions their integrations invoke, each
API read once, on moto paging like AWS (25 items a page unless asked for more)."""

from __future__ import annotations

from collections.abc import Callable

import boto3

from auditor.collect import apigateway
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, fail_when

FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
INVOKE = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions"


def _rest_api(resources: int = 30) -> str:
    """`orders`: 30 resources (more than a default page), the last one invoking
    `orders-api` through its `live` alias; others an HTTP backend and a function named by a
    stage variable. Returns its ID."""
    client = boto3.client("apigateway", region_name=REGION)
    api = client.create_rest_api(name="orders")
    parent = api["rootResourceId"]
    for index in range(resources):
        resource = client.create_resource(restApiId=api["id"], parentId=parent,
                                          pathPart=f"r{index}")["id"]
        targets = {0: ("HTTP_PROXY", "https://backend.example.com/{proxy}"),
                   1: ("AWS_PROXY", f"{INVOKE}/{FUNCTION}:${{stageVariables.fn}}/invocations"),
                   resources - 1: ("AWS_PROXY",
                                   f"{INVOKE}/{FUNCTION}:orders-api:live/invocations")}
        if index in targets:
            kind, uri = targets[index]
            client.put_method(restApiId=api["id"], resourceId=resource, httpMethod="ANY",
                              authorizationType="NONE")
            client.put_integration(restApiId=api["id"], resourceId=resource, httpMethod="ANY",
                                   type=kind, integrationHttpMethod="POST", uri=uri)
    return str(api["id"])


def _v2_apis(http: int = 26) -> dict[str, str]:
    """26 HTTP APIs (more than a default page), the last invoking two functions, and a
    WebSocket API; by name, their IDs."""
    client = boto3.client("apigatewayv2", region_name=REGION)
    ids = {}
    for index in range(http):
        ids[f"http-{index}"] = client.create_api(Name=f"http-{index}",
                                                 ProtocolType="HTTP")["ApiId"]
    for uri in (f"{FUNCTION}:edge-auth", f"{INVOKE}/{FUNCTION}:edge-log/invocations"):
        client.create_integration(ApiId=ids[f"http-{http - 1}"], IntegrationType="AWS_PROXY",
                                  IntegrationUri=uri, PayloadFormatVersion="2.0")
    ids["chat"] = client.create_api(Name="chat", ProtocolType="WEBSOCKET",
                                    RouteSelectionExpression="$request.body.action")["ApiId"]
    client.create_integration(ApiId=ids["chat"], IntegrationType="AWS_PROXY",
                              IntegrationUri=f"{FUNCTION}:chat")
    return ids


def test_each_api_is_read_once_with_the_functions_it_invokes(scan: Callable[..., Scan]
                                                             ) -> None:
    rest = _rest_api()
    v2 = _v2_apis()
    run = scan(wanted={"apigateway.apis"})

    inventory = apigateway.collect(run.ctx)

    assert run.errors == []
    apis = {api.name: api for api in inventory.api_gateways}
    assert len(apis) == 28
    orders = apis["orders"]
    assert (orders.arn, orders.protocol, orders.function_arns) == (
        f"arn:aws:apigateway:{REGION}::/restapis/{rest}", "REST", (f"{FUNCTION}:orders-api",))
    assert (apis["http-25"].protocol, apis["http-25"].function_arns) == (
        "HTTP", (f"{FUNCTION}:edge-auth", f"{FUNCTION}:edge-log"))
    assert apis["http-25"].arn == f"arn:aws:apigateway:{REGION}::/apis/{v2['http-25']}"
    assert (apis["chat"].protocol, apis["chat"].function_arns) == (
        "WEBSOCKET", (f"{FUNCTION}:chat",))
    assert apis["http-0"].function_arns == ()
    assert inventory.apis_fronting(f"{FUNCTION}:edge-auth") == (apis["http-25"],)
    # Once per API, never per function; a REST API's 30 resources in one page of 500.
    assert (run.calls("apigateway:GetRestApis"), run.calls("apigateway:GetResources")) == (1, 1)
    assert run.calls("apigatewayv2:GetApis") == 2  # 27 APIs at 25 a page
    assert run.calls("apigatewayv2:GetIntegrations") == 27


def test_an_api_that_cannot_be_read_leaves_the_functions_it_could_front_unknown(
        scan: Callable[..., Scan]) -> None:
    rest = _rest_api(resources=3)
    v2 = _v2_apis(http=1)
    run = scan(wanted={"apigateway.apis"})
    fail_when(run.ctx.client("apigateway"), "GetResources",
              lambda params: params.get("restApiId") == rest, code="AccessDeniedException")

    inventory = apigateway.collect(run.ctx)

    [error] = run.errors
    assert (error.operation, error.code, error.datasets) == (
        "GetResources", "AccessDeniedException", ("apigateway.apis",))
    # Any function of the region might be behind it; nothing else is touched.
    assert error.resources == (f"{FUNCTION}:*",)
    assert error.unread == (f"arn:aws:apigateway:{REGION}::/restapis/{rest}",)
    assert {api.api_id for api in inventory.api_gateways} == set(v2.values())


def test_a_failed_listing_fails_the_dataset_for_the_region(scan: Callable[..., Scan]) -> None:
    _rest_api(resources=3)
    run = scan(wanted={"apigateway.apis"})
    deny(run.ctx.client("apigatewayv2"), "GetApis")

    inventory = apigateway.collect(run.ctx)

    [error] = run.errors
    assert (error.service, error.operation, error.resources, error.unread) == (
        "apigatewayv2", "GetApis", (), ())
    assert [api.name for api in inventory.api_gateways] == ["orders"]
