"""Lambda functions, event source mappings, and the per-function details the checks need.

`ListFunctions` and `ListEventSourceMappings` cover a region in a few pages. Everything else
Lambda only answers per function, so it is asked only where a check can use it: reserved
concurrency for functions in a VPC or behind an SQS queue, provisioned concurrency and aliases
for the functions CloudWatch shows using provisioned concurrency (one `ListMetrics` pass finds
them), function URLs only when that dataset is wanted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.collect.base import ScopeCollector, paginate, parse_time
from auditor.model import (
    EventSourceMapping,
    FunctionUrl,
    Inventory,
    LambdaAlias,
    LambdaFunction,
    ProvisionedConcurrency,
)

_NEED_FUNCTIONS = ("lambda.functions", "lambda.concurrency", "lambda.function_urls")
_NEED_MAPPINGS = ("lambda.event_source_mappings", "lambda.concurrency")
_NEED_PROVISIONED = ("lambda.provisioned_concurrency", "lambda.aliases")
_DATASETS = (*_NEED_FUNCTIONS, *_NEED_MAPPINGS, *_NEED_PROVISIONED)


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(*_DATASETS):
        return Inventory()
    client = ctx.client("lambda")
    functions: list[LambdaFunction] = []
    mappings: list[EventSourceMapping] = []
    provisioned: list[ProvisionedConcurrency] = []
    aliases: list[LambdaAlias] = []
    urls: list[FunctionUrl] = []
    provisioned_names: list[str] = []

    if ctx.wants(*_NEED_FUNCTIONS):
        wanted = ctx.wanted_among(_NEED_FUNCTIONS)
        with ctx.loading(wanted, "lambda", "ListFunctions"):
            functions = ctx.parse_each(paginate(client, "list_functions", "Functions"),
                                       lambda raw: _function(raw, ctx), wanted, "lambda",
                                       "ListFunctions")
    if ctx.wants(*_NEED_MAPPINGS):
        wanted = ctx.wanted_among(_NEED_MAPPINGS)
        with ctx.loading(wanted, "lambda", "ListEventSourceMappings"):
            mappings = ctx.parse_each(paginate(client, "list_event_source_mappings",
                                               "EventSourceMappings"),
                                      lambda raw: _mapping(raw, ctx), wanted, "lambda",
                                      "ListEventSourceMappings")
    # Lambda answers the rest per function only: each call's failure costs that function
    # alone, and a function found gone (deleted since it was listed) is dropped.
    gone: set[str] = set()
    if ctx.wants("lambda.concurrency"):
        functions = _with_reserved_concurrency(ctx, client, functions, mappings, gone)
    if ctx.wants(*_NEED_PROVISIONED):
        with ctx.loading(ctx.wanted_among(_NEED_PROVISIONED), "cloudwatch", "ListMetrics"):
            provisioned_names = _provisioned_function_names(ctx.client("cloudwatch"))
    if ctx.wants("lambda.provisioned_concurrency"):
        for name in provisioned_names:
            function_arn = _arn(ctx, name)
            with ctx.describing("lambda.provisioned_concurrency", "lambda",
                                "ListProvisionedConcurrencyConfigs", resources=(function_arn,),
                                unread=(f"{function_arn}:*",)) as call:
                provisioned += ctx.parse_each(
                    paginate(client, "list_provisioned_concurrency_configs",
                             "ProvisionedConcurrencyConfigs", FunctionName=name),
                    lambda raw: _provisioned(raw, ctx), ("lambda.provisioned_concurrency",),
                    "lambda", "ListProvisionedConcurrencyConfigs")
            if call.gone:
                gone.add(function_arn)
    if ctx.wants("lambda.aliases"):
        for name in provisioned_names:
            function_arn = _arn(ctx, name)
            with ctx.describing("lambda.aliases", "lambda", "ListAliases",
                                resources=(function_arn,), unread=(f"{function_arn}:*",)) as call:
                aliases.extend(_alias(a, ctx) for a in paginate(
                    client, "list_aliases", "Aliases", FunctionName=name))
            if call.gone:
                gone.add(function_arn)
    if ctx.wants("lambda.function_urls"):
        for function in functions:
            with ctx.describing("lambda.function_urls", "lambda", "ListFunctionUrlConfigs",
                                resources=(function.arn,),
                                unread=(f"{function.arn}/function-url",)) as call:
                urls.extend(_url(u, ctx) for u in paginate(
                    client, "list_function_url_configs", "FunctionUrlConfigs",
                    FunctionName=function.name))
            if call.gone:
                gone.add(function.arn)
    return Inventory(
        lambda_functions=tuple(f for f in functions if f.arn not in gone),
        event_source_mappings=tuple(m for m in mappings if m.function_arn not in gone),
        provisioned_concurrency=tuple(p for p in provisioned if p.function_arn not in gone),
        lambda_aliases=tuple(a for a in aliases if a.function_arn not in gone),
        function_urls=tuple(u for u in urls if u.function_arn not in gone))


def unqualified(arn: str) -> str:
    """`arn:aws:lambda:r:a:function:name:alias` -> `arn:aws:lambda:r:a:function:name`."""
    return ":".join(arn.split(":")[:7])


def _arn(ctx: ScopeCollector, name: str) -> str:
    return f"arn:aws:lambda:{ctx.scope.region}:{ctx.scope.account}:function:{name}"


def _with_reserved_concurrency(
    ctx: ScopeCollector, client: Any, functions: list[LambdaFunction],
    mappings: list[EventSourceMapping], gone: set[str],
) -> list[LambdaFunction]:
    """Ask only for the functions whose checks need it: in a VPC (ENI and IP exhaustion) or
    fed by SQS (the mapping's maximum concurrency against the reserved concurrency)."""
    queue_fed = {m.function_arn for m in mappings if m.source_service == "sqs"}
    reserved: dict[str, int | None] = {}
    for function in functions:
        if function.vpc_id or function.arn in queue_fed:
            with ctx.describing("lambda.concurrency", "lambda", "GetFunctionConcurrency",
                                resources=(function.arn,)) as call:
                answer = client.get_function_concurrency(FunctionName=function.arn)
                reserved[function.arn] = answer.get("ReservedConcurrentExecutions")
            if call.gone:
                gone.add(function.arn)
    return [
        replace(f, reserved_concurrency=reserved[f.arn], reserved_concurrency_known=True)
        if f.arn in reserved else f
        for f in functions
    ]


def _provisioned_function_names(cloudwatch: Any) -> list[str]:
    """Lambda publishes ProvisionedConcurrencyUtilization per function and qualifier only for
    functions with provisioned concurrency, so the metric list names them in one pass."""
    names: dict[str, None] = {}
    for metric in paginate(cloudwatch, "list_metrics", "Metrics", Namespace="AWS/Lambda",
                           MetricName="ProvisionedConcurrencyUtilization"):
        dimensions = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
        if dimensions.get("FunctionName") and dimensions.get("Resource"):
            names[str(dimensions["FunctionName"])] = None
    return list(names)


def _function(raw: dict[str, Any], ctx: ScopeCollector) -> LambdaFunction:
    name = raw.get("FunctionName", "")
    vpc = raw.get("VpcConfig") or {}
    return LambdaFunction(
        raw["FunctionArn"], ctx.scope.account, ctx.scope.region,
        name=name,
        runtime=raw.get("Runtime"),
        architectures=tuple(raw.get("Architectures") or ("x86_64",)),
        memory_mb=int(raw.get("MemorySize", 128)),
        timeout_s=int(raw.get("Timeout", 3)),
        role_arn=raw.get("Role", ""),
        package_type=raw.get("PackageType", "Zip"),
        code_size_bytes=int(raw.get("CodeSize", 0)),
        vpc_id=vpc.get("VpcId") or None,
        subnet_ids=tuple(vpc.get("SubnetIds", [])),
        security_group_ids=tuple(vpc.get("SecurityGroupIds", [])),
        environment={str(k): str(v) for k, v in
                     ((raw.get("Environment") or {}).get("Variables") or {}).items()},
        log_group_name=(raw.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}",
        last_modified=parse_time(raw.get("LastModified")),
    )


def _mapping(raw: dict[str, Any], ctx: ScopeCollector) -> EventSourceMapping:
    uuid = raw.get("UUID", "")
    arn = (raw.get("EventSourceMappingArn")
           or f"arn:aws:lambda:{ctx.scope.region}:{ctx.scope.account}:event-source-mapping:{uuid}")
    return EventSourceMapping(
        arn, ctx.scope.account, ctx.scope.region,
        uuid=uuid,
        function_arn=unqualified(raw.get("FunctionArn", "")),
        event_source_arn=raw.get("EventSourceArn", ""),
        state=raw.get("State", "Unknown"),
        batch_size=raw.get("BatchSize"),
        maximum_concurrency=(raw.get("ScalingConfig") or {}).get("MaximumConcurrency"),
    )


def _provisioned(raw: dict[str, Any], ctx: ScopeCollector) -> ProvisionedConcurrency:
    arn = raw["FunctionArn"]
    function_arn = unqualified(arn)
    return ProvisionedConcurrency(
        arn, ctx.scope.account, ctx.scope.region,
        function_arn=function_arn,
        function_name=function_arn.rsplit(":", 1)[-1],
        qualifier=arn.rsplit(":", 1)[-1] if arn != function_arn else "",
        allocated=int(raw.get("AllocatedProvisionedConcurrentExecutions", 0)),
        requested=int(raw.get("RequestedProvisionedConcurrentExecutions", 0)),
        status=raw.get("Status", "UNKNOWN"),
    )


def _alias(raw: dict[str, Any], ctx: ScopeCollector) -> LambdaAlias:
    arn = raw.get("AliasArn", "")
    return LambdaAlias(arn, ctx.scope.account, ctx.scope.region, unqualified(arn),
                       raw.get("Name", ""), raw.get("FunctionVersion", ""))


def _url(raw: dict[str, Any], ctx: ScopeCollector) -> FunctionUrl:
    function_arn = raw.get("FunctionArn", "")
    # A URL has no ARN of its own; suffixing keeps it apart from the function's record.
    return FunctionUrl(f"{function_arn}/function-url", ctx.scope.account, ctx.scope.region,
                       unqualified(function_arn), raw.get("FunctionUrl", ""),
                       raw.get("AuthType", ""))
