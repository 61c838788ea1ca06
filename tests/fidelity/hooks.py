"""botocore plumbing both harnesses share: a call's own parameters, answers that skip the HTTP
request, and the failures AWS answers with.

A `before-call` handler that returns `(http_response, parsed)` makes botocore skip the request
(as `botocore.stub.Stubber` does); everything after it runs for real: `after-call` handlers
(the auditor's own included), the error-to-exception mapping, the paginators.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from tests.fidelity.operations import Operation, service_model

Answer = tuple[AWSResponse, dict[str, Any]]
_PARAMS = "fidelity_params"


def stash_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    """`before-parameter-build` handler: keeps the call's parameters as the scan passed them
    (`before-call` only sees them serialised for the wire)."""
    context[_PARAMS] = copy.deepcopy(dict(params))


PARAMS_HOOK = ("before-parameter-build.*.*", stash_params)
"""Register it with any hook that reads `call_params`."""


def call_params(context: Mapping[str, Any]) -> Mapping[str, Any]:
    params: Mapping[str, Any] = context.get(_PARAMS, {})
    return params


def canonical(params: Mapping[str, Any]) -> str:
    """The same parameters, whatever their order, give the same text."""
    return json.dumps(params, sort_keys=True, default=str)


def answer(body: Mapping[str, Any], status: int = 200, **metadata: Any) -> Answer:
    parsed = {**body, "ResponseMetadata": {"RequestId": "fidelity", "HTTPStatusCode": status,
                                           "HTTPHeaders": {}, "RetryAttempts": 0, **metadata}}
    return AWSResponse("https://fidelity.invalid/", status, HTTPHeaders(), None), parsed


@dataclass(frozen=True)
class Failure:
    """An error answer, as the service sends it."""

    kind: str
    code: str
    status: int
    message: str

    def answer(self) -> Answer:
        metadata = {"MaxAttemptsReached": True} if self.kind == "throttled" else {}
        return answer({"Error": {"Code": self.code, "Message": self.message}}, self.status,
                      **metadata)


def _protocol(operation: Operation) -> str:
    protocol: str = service_model(operation.service).protocol
    return protocol


def denied(operation: Operation) -> Failure:
    message = f"User is not authorized to perform: {operation}"
    if operation.service == "ec2":
        return Failure("denied", "UnauthorizedOperation", 403, message)
    if _protocol(operation) == "query":
        return Failure("denied", "AccessDenied", 403, message)
    return Failure("denied", "AccessDeniedException", 403, message)


def throttled(operation: Operation) -> Failure:
    """What the scan sees once botocore's retries are spent (the answer carries
    `MaxAttemptsReached`, as botocore's own does)."""
    message = "Rate exceeded"
    if operation.service == "ec2":
        return Failure("throttled", "RequestLimitExceeded", 503, message)
    if operation.service == "lambda":
        return Failure("throttled", "TooManyRequestsException", 429, message)
    if _protocol(operation) == "query":
        return Failure("throttled", "Throttling", 400, message)
    return Failure("throttled", "ThrottlingException", 400, message)


def internal(operation: Operation) -> Failure:
    code = "InternalError" if operation.service == "ec2" else "InternalFailure"
    return Failure("internal", code, 500, "We encountered an internal error. Please try again.")


FAILURES: Mapping[str, Callable[[Operation], Failure]] = {
    "denied": denied, "throttled": throttled, "internal": internal}
"""Failures any call can meet, by kind."""

NOT_FOUND: Mapping[Operation, Failure] = {
    Operation("ecs", "DescribeTaskDefinition"): Failure(
        "not-found", "ClientException", 400, "Unable to describe task definition."),
    Operation("ecs", "DescribeServices"): Failure(
        "not-found", "ClusterNotFoundException", 400, "Cluster not found."),
    **{Operation("eks", name): Failure("not-found", "ResourceNotFoundException", 404,
                                       "No cluster found for name: platform.")
       for name in ("DescribeCluster", "ListNodegroups", "ListAddons", "ListInsights")},
    **{Operation("eks", name): Failure("not-found", "ResourceNotFoundException", 404,
                                       f"The resource {what} was not found.")
       for name, what in (("DescribeNodegroup", "nodegroup"),
                          ("DescribeFargateProfile", "Fargate profile"),
                          ("DescribeAddon", "addon"))},
    Operation("rds", "DescribeDBProxyTargets"): Failure(
        "not-found", "DBProxyNotFoundFault", 404, "DB proxy not found."),
    Operation("rds", "DescribeDBParameters"): Failure(
        "not-found", "DBParameterGroupNotFound", 404, "DB parameter group not found."),
    Operation("elbv2", "DescribeTargetHealth"): Failure(
        "not-found", "TargetGroupNotFound", 400, "One or more target groups not found"),
    **{Operation("lambda", name): Failure("not-found", "ResourceNotFoundException", 404,
                                          "Function not found.")
       for name in ("GetFunctionConcurrency", "ListProvisionedConcurrencyConfigs",
                    "ListAliases", "ListFunctionUrlConfigs", "ListFunctionEventInvokeConfigs")},
    **{Operation(service, name): Failure("not-found", "NotFoundException", 404,
                                         "Invalid API identifier specified")
       for service, name in (("apigateway", "GetResources"),
                             ("apigatewayv2", "GetIntegrations"))},
}
"""The error each per-resource call answers when its resource was deleted since it was
listed. These are the operations that read one resource (or one batch, or one cluster's
children) at a time."""
