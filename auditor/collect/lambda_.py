"""Lambda functions, event source mappings, and the per-function details the checks need.

`ListFunctions` and `ListEventSourceMappings` cover a region in a few pages. Everything else
Lambda only answers per function, so it is asked only where a check can use it: reserved
concurrency for functions behind an SQS queue or able to reach a database (asked after the
first pass, `reserved_concurrency`), provisioned concurrency and aliases
for the functions CloudWatch shows using provisioned concurrency (one `ListMetrics` pass finds
them), function URLs for the functions CloudWatch shows called through one (`UrlRequestCount`,
another pass), asynchronous invocation's on-failure destinations for the functions an SNS
topic or EventBridge rule invokes (regional listings find them: `auditor.collect.sns`,
`auditor.collect.events`). Their tags come from the Resource Groups Tagging API, one listing
per region (`auditor.collect.tagging`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from botocore import xform_name

from auditor.collect import events, sns
from auditor.collect.base import ScopeCollector, paginate, parse_time
from auditor.collect.tagging import LAMBDA_TAGS, with_lambda_tags
from auditor.databases import databases
from auditor.model import (
    AsyncInvoker,
    EventSourceMapping,
    FunctionUrl,
    Inventory,
    InvokerSource,
    LambdaAlias,
    LambdaFunction,
    ProvisionedConcurrency,
    ReservedConcurrency,
)
from auditor.network import ingress_paths

_NEED_INVOKERS = (sns.DATASET, events.DATASET, "lambda.event_invoke_configs")
_NEED_FUNCTIONS = ("lambda.functions", "lambda.concurrency", "lambda.function_urls",
                   LAMBDA_TAGS, *_NEED_INVOKERS)
_NEED_MAPPINGS = ("lambda.event_source_mappings", "lambda.concurrency")
_NEED_PROVISIONED = ("lambda.provisioned_concurrency", "lambda.aliases")
_DATASETS = (*_NEED_FUNCTIONS, *_NEED_MAPPINGS, *_NEED_PROVISIONED)
T = TypeVar("T")


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants(*_DATASETS):
        return Inventory()
    client = ctx.client("lambda")
    functions: list[LambdaFunction] = []
    mappings: list[EventSourceMapping] = []
    provisioned_names: list[str] = []
    if ctx.wants(*_NEED_FUNCTIONS):
        functions = _listing(ctx, client, _NEED_FUNCTIONS, "ListFunctions", "Functions",
                             lambda raw: _function(raw, ctx))
        functions = with_lambda_tags(ctx, functions)
    if ctx.wants(*_NEED_MAPPINGS):
        mappings = _listing(ctx, client, _NEED_MAPPINGS, "ListEventSourceMappings",
                            "EventSourceMappings", lambda raw: _mapping(raw, ctx))
    # Lambda answers the rest per function only: each call's failure costs that function
    # alone, and a function found gone (deleted since it was listed) is dropped.
    gone: set[str] = set()
    if ctx.wants(*_NEED_INVOKERS) and functions:
        functions = _with_async_invokers(ctx, client, functions, gone)
    if ctx.wants(*_NEED_PROVISIONED):
        with ctx.loading(ctx.wanted_among(_NEED_PROVISIONED), "cloudwatch", "ListMetrics"):
            provisioned_names = _provisioned_function_names(ctx.client("cloudwatch"))
    with_provisioned = [(name, _arn(ctx, name)) for name in provisioned_names]
    provisioned = _per_function(
        ctx, client, "lambda.provisioned_concurrency", "ListProvisionedConcurrencyConfigs",
        "ProvisionedConcurrencyConfigs", with_provisioned, lambda arn: f"{arn}:*",
        lambda raw: _provisioned(raw, ctx), gone)
    aliases = _per_function(ctx, client, "lambda.aliases", "ListAliases", "Aliases",
                            with_provisioned, lambda arn: f"{arn}:*",
                            lambda raw: _alias(raw, ctx), gone)
    urls = _per_function(ctx, client, "lambda.function_urls", "ListFunctionUrlConfigs",
                         "FunctionUrlConfigs", _url_candidates(ctx, functions),
                         lambda arn: f"{arn}/function-url", lambda raw: _url(raw, ctx), gone)
    return Inventory(
        lambda_functions=tuple(f for f in functions if f.arn not in gone),
        event_source_mappings=tuple(m for m in mappings if m.function_arn not in gone),
        provisioned_concurrency=tuple(p for p in provisioned if p.function_arn not in gone),
        lambda_aliases=tuple(a for a in aliases if a.function_arn not in gone),
        function_urls=tuple(u for u in urls if u.function_arn not in gone))


def _listing(ctx: ScopeCollector, client: Any, datasets: tuple[str, ...], operation: str,
             key: str, parse: Callable[[Any], T]) -> list[T]:
    """A region-wide listing, each record parsed on its own."""
    wanted = ctx.wanted_among(datasets)
    found: list[T] = []
    with ctx.loading(wanted, "lambda", operation):
        found = ctx.parse_each(paginate(client, xform_name(operation), key), parse, wanted,
                               "lambda", operation)
    return found


def _per_function(ctx: ScopeCollector, client: Any, dataset: str, operation: str, key: str,
                  functions: Iterable[tuple[str, str]], children: Callable[[str], str],
                  parse: Callable[[Any], T], gone: set[str]) -> list[T]:
    """One listing per function, (name, ARN): its failure leaves that function and its
    `children` unknown; a function found gone is added to `gone`."""
    if not ctx.wants(dataset):
        return []
    found: list[T] = []
    for name, function_arn in functions:
        with ctx.describing(dataset, "lambda", operation, resources=(function_arn,),
                            unread=(children(function_arn),)) as call:
            found += ctx.parse_each(
                paginate(client, xform_name(operation), key, FunctionName=name), parse,
                (dataset,), "lambda", operation)
        if call.gone:
            gone.add(function_arn)
    return found



def unqualified(arn: str) -> str:
    """`arn:aws:lambda:r:a:function:name:alias` -> `arn:aws:lambda:r:a:function:name`."""
    return ":".join(arn.split(":")[:7])


def _arn(ctx: ScopeCollector, name: str) -> str:
    return f"arn:aws:lambda:{ctx.scope.region}:{ctx.scope.account}:function:{name}"


_REACH = ("rds.databases", "ec2.security_groups", "ec2.network")
"""What tells which functions in a VPC can reach a database."""


def reserved_concurrency(ctx: ScopeCollector, found: Inventory) -> Inventory:
    """The reserved concurrency of the functions whose checks weigh it, asked after the first
    pass so that it knows them: fed by an SQS queue (the mapping's maximum concurrency against
    the reserved concurrency), or in a VPC whose security groups let it reach a database
    (the connection storm). Where the databases or the security groups of the region could not
    be read, every function in a VPC is asked: whether it reaches one cannot be told; with
    no database check selected, none is."""
    if not ctx.wants("lambda.concurrency"):
        return Inventory()
    here = [f for f in found.lambda_functions if f.scope == ctx.scope]
    queue_fed = {m.function_arn for m in found.event_source_mappings
                 if m.source_service == "sqs"}
    # With no database read, no check weighs a VPC function against one.
    in_vpc = [f for f in here if f.vpc_id] if ctx.wants("rds.databases") else []
    if in_vpc and not _reach_unread(ctx):
        reachable = [d for d in databases(found) if d.resource.scope == ctx.scope]
        in_vpc = [f for f in in_vpc if any(
            ingress_paths(found, f, d.security_group_ids, d.port) for d in reachable)]
    asked = {f.arn for f in in_vpc} | queue_fed
    client = ctx.client("lambda")
    reserved: list[ReservedConcurrency] = []
    for function in (f for f in here if f.arn in asked):
        with ctx.describing("lambda.concurrency", "lambda", "GetFunctionConcurrency",
                            resources=(function.arn,)):
            answer = client.get_function_concurrency(FunctionName=function.arn)
            reserved.append(ReservedConcurrency(
                function.arn, _reserved(answer.get("ReservedConcurrentExecutions"))))
    return Inventory(reserved_concurrency=tuple(reserved))


def _reach_unread(ctx: ScopeCollector) -> bool:
    """The first pass failed to read this region's databases, security groups or network."""
    return any((e.account, e.region) == (ctx.scope.account, ctx.scope.region)
               and set(e.datasets) & set(_REACH) for e in list(ctx.recorder.errors))


def _reserved(value: Any) -> int | None:
    """No reserved concurrency (None), or a count; anything else is an answer that cannot be
    read, not a function without a reservation (found by the generated accounts at 300)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"ReservedConcurrentExecutions {value!r} is not a whole number")
    return value


def _with_async_invokers(ctx: ScopeCollector, client: Any, functions: list[LambdaFunction],
                         gone: set[str]) -> list[LambdaFunction]:
    """The SNS topics and EventBridge rules that invoke each function (regional listings),
    and the on-failure destinations of those functions only (one call each)."""
    invokers: dict[str, list[AsyncInvoker]] = {}
    sources: tuple[tuple[str, InvokerSource, Callable[..., list[tuple[str, str]]]], ...] = (
        (sns.DATASET, "sns", sns.lambda_subscriptions),
        (events.DATASET, "eventbridge", events.lambda_targets))
    for dataset, source, read in sources:
        if ctx.wants(dataset, "lambda.event_invoke_configs"):
            for source_arn, target in read(
                    ctx, ctx.wanted_among((dataset, "lambda.event_invoke_configs"))):
                invokers.setdefault(unqualified(target), []).append(
                    AsyncInvoker(source, source_arn, ":".join(target.split(":")[7:])))
    destinations: dict[str, dict[str, str]] = {}
    if ctx.wants("lambda.event_invoke_configs"):
        for function in functions:
            if function.arn in invokers:
                destinations[function.arn] = _on_failure_destinations(ctx, client, function,
                                                                      gone)
    return [replace(f, async_invokers=tuple(invokers.get(f.arn, ())),
                    on_failure_destinations=destinations.get(f.arn, {})) for f in functions]


def _on_failure_destinations(ctx: ScopeCollector, client: Any, function: LambdaFunction,
                             gone: set[str]) -> dict[str, str]:
    """Qualifier -> on-failure destination, from the function's event invoke configs."""
    found: dict[str, str] = {}
    with ctx.describing("lambda.event_invoke_configs", "lambda",
                        "ListFunctionEventInvokeConfigs", resources=(function.arn,)) as call:
        for config in paginate(client, "list_function_event_invoke_configs",
                               "FunctionEventInvokeConfigs", FunctionName=function.arn):
            destination = ((config.get("DestinationConfig") or {}).get("OnFailure")
                           or {}).get("Destination")
            if destination:
                qualifier = ":".join(str(config.get("FunctionArn", "")).split(":")[7:])
                found[qualifier or "$LATEST"] = str(destination)
    if call.gone:
        gone.add(function.arn)
    return found


def _provisioned_function_names(cloudwatch: Any) -> list[str]:
    """Lambda publishes ProvisionedConcurrencyUtilization per function and qualifier only for
    functions with provisioned concurrency, so the metric list names them in one pass."""
    return _metric_function_names(cloudwatch, "ProvisionedConcurrencyUtilization",
                                  qualified=True)


def _metric_function_names(cloudwatch: Any, metric_name: str, qualified: bool = False
                           ) -> list[str]:
    """The functions CloudWatch lists `metric_name` for (those with a datapoint in the last
    two weeks), in one paginated pass; `qualified`: only series per alias or version."""
    names: dict[str, None] = {}
    for metric in paginate(cloudwatch, "list_metrics", "Metrics", Namespace="AWS/Lambda",
                           MetricName=metric_name):
        dimensions = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
        if dimensions.get("FunctionName") and (dimensions.get("Resource") or not qualified):
            names[str(dimensions["FunctionName"])] = None
    return list(names)


def _url_candidates(ctx: ScopeCollector, functions: list[LambdaFunction]
                    ) -> list[tuple[str, str]]:
    """The listed functions with a function URL in use. Lambda answers URL configurations one
    function at a time; `UrlRequestCount` is published only for functions whose URL was
    called, so one metric listing per region names the few worth asking about (a URL nobody
    called in two weeks is not read)."""
    if not ctx.wants("lambda.function_urls") or not functions:
        return []
    names: list[str] | None = None
    with ctx.loading("lambda.function_urls", "cloudwatch", "ListMetrics"):
        names = _metric_function_names(ctx.client("cloudwatch"), "UrlRequestCount")
    called = set(names or ())
    return [(f.name, f.arn) for f in functions if f.name in called]


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
        dead_letter_target=(raw.get("DeadLetterConfig") or {}).get("TargetArn") or None,
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
    origins = (raw.get("Cors") or {}).get("AllowOrigins") or ()
    return FunctionUrl(f"{function_arn}/function-url", ctx.scope.account, ctx.scope.region,
                       unqualified(function_arn), raw.get("FunctionUrl", ""),
                       raw.get("AuthType", ""), tuple(str(o) for o in origins))
