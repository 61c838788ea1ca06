"""AWS Compute Optimizer's recommendations for the workloads the first pass found.

Read only with `--compute-optimizer`, after the inventory, because the calls name what they
ask about: each region's Lambda functions and ECS services on Fargate (the only launch type
Compute Optimizer covers), up to 1,000 ARNs a call (the most one page returns, `maxResults`
0-1,000 in the service model, which sets no limit on the ARN list itself), each call paged.

`GetEnrollmentStatus` goes first, once per region with something to ask: an account that is
not enrolled (or a call refused with `OptInRequiredException`) is one `OptimizerEnrollment`
record, which the report states once, not a failed call per batch. Any other failure is an
errors entry that costs only this evidence: no check reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError, PaginationError

from auditor.collect.base import ScopeCollector, chunks, paginate, parse_time
from auditor.collect.lambda_ import unqualified
from auditor.model import (
    Inventory,
    OptimizerEnrollment,
    OptimizerRecommendation,
    OptimizerSaving,
)

LAMBDA = "compute_optimizer.lambda"
ECS = "compute_optimizer.ecs"
SERVICE = "compute-optimizer"
BATCH = 1000
LAMBDA_FINDINGS = ("Optimized", "NotOptimized", "Unavailable")
"""Asked for by name: a function Compute Optimizer cannot judge is left out of the answer
unless the request filters for `Unavailable`."""
_NOT_ENROLLED = "OptInRequiredException"


Parse = Callable[[dict[str, Any], ScopeCollector], OptimizerRecommendation]


ENROLLMENT_STATUSES = ("Active", "Inactive", "Pending", "Failed")


class _NotEnrolled(Exception):
    """A recommendation call refused because the account is not opted in."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def collect(ctx: ScopeCollector, found: Inventory) -> Inventory:
    """The recommendations for `found`'s workloads in this scope."""
    functions = [f.arn for f in found.lambda_functions if f.scope == ctx.scope] \
        if ctx.wants(LAMBDA) else []
    services = [s.arn for s in found.ecs_services if s.scope == ctx.scope and s.on_fargate] \
        if ctx.wants(ECS) else []
    asked = tuple(name for name, arns in ((LAMBDA, functions), (ECS, services)) if arns)
    if not asked:
        return Inventory()
    client = ctx.client(SERVICE)
    enrollment: OptimizerEnrollment | None = None
    with ctx.loading(asked, SERVICE, "GetEnrollmentStatus"):
        answer = client.get_enrollment_status()
        enrollment = OptimizerEnrollment(ctx.scope.account, ctx.scope.region,
                                         _enrollment_status(answer.get("status")),
                                         str(answer.get("statusReason") or ""))
    if enrollment is None or not enrollment.active:
        return Inventory(optimizer_enrollment=(enrollment,) if enrollment else ())
    recommendations: list[OptimizerRecommendation] = []
    try:
        for batch in chunks(functions, BATCH):
            recommendations += _read(ctx, LAMBDA, "GetLambdaFunctionRecommendations", batch,
                                     _lambda_pages(client, batch), _lambda)
        for batch in chunks(services, BATCH):
            recommendations += _read(ctx, ECS, "GetECSServiceRecommendations", batch,
                                     _ecs_pages(client, batch), _ecs)
    except _NotEnrolled as refused:
        enrollment = OptimizerEnrollment(ctx.scope.account, ctx.scope.region, "Inactive",
                                         refused.message)
        recommendations = []
    return Inventory(optimizer_recommendations=tuple(recommendations),
                     optimizer_enrollment=(enrollment,))


def _enrollment_status(status: Any) -> str:
    """The status as the API documents it. Anything else is an answer that cannot be read,
    not an account that is not enrolled: read as "Inactive", it would silently drop every
    recommendation where an error belongs."""
    if status not in ENROLLMENT_STATUSES:
        raise ValueError(f"GetEnrollmentStatus status {status!r} is none of "
                         f"{', '.join(ENROLLMENT_STATUSES)}")
    return str(status)


def _read(ctx: ScopeCollector, dataset: str, operation: str, batch: list[str],
          records: Iterator[dict[str, Any]], parse: Parse) -> list[OptimizerRecommendation]:
    """One batch (`records` makes its calls as it is read): its failure costs these
    workloads their evidence, and nothing else."""
    read: list[OptimizerRecommendation] = []
    refused: str | None = None
    with ctx.recorder.loading(ctx.scope, dataset, SERVICE, operation, tuple(batch)):
        try:
            read = ctx.parse_each(records, lambda raw: parse(raw, ctx), (dataset,), SERVICE,
                                  operation)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != _NOT_ENROLLED:
                raise
            refused = str(exc.response.get("Error", {}).get("Message") or exc)
    if refused is not None:
        raise _NotEnrolled(refused)
    return read


def _lambda_pages(client: Any, arns: list[str]) -> Iterator[dict[str, Any]]:
    yield from paginate(client, "get_lambda_function_recommendations",
                        "lambdaFunctionRecommendations", functionArns=arns,
                        filters=[{"name": "Finding", "values": list(LAMBDA_FINDINGS)}],
                        PaginationConfig={"PageSize": BATCH})


def _ecs_pages(client: Any, arns: list[str]) -> Iterator[dict[str, Any]]:
    """The recommendations, and one record per service the call answered with an error.

    botocore ships no paginator for this call, so its pages are followed here; a token seen
    before ends the listing as a failure rather than a loop (botocore's own paginators catch
    only a token repeated at once)."""
    seen: set[str] = set()
    token: str | None = None
    while True:
        page = client.get_ecs_service_recommendations(
            serviceArns=arns, maxResults=BATCH, **({"nextToken": token} if token else {}))
        yield from page.get("ecsServiceRecommendations") or []
        yield from ({"error": error} for error in page.get("errors") or [])
        token = page.get("nextToken")
        if not token:
            return
        if token in seen:
            raise PaginationError(message=f"the page token {token!r} came back a second time")
        seen.add(token)


def _lambda(raw: dict[str, Any], ctx: ScopeCollector) -> OptimizerRecommendation:
    options = sorted(raw.get("memorySizeRecommendationOptions") or [],
                     key=lambda option: _int(option.get("rank")) or BATCH)
    top = options[0] if options else {}
    return OptimizerRecommendation(
        unqualified(raw["functionArn"]), ctx.scope.account, ctx.scope.region,
        finding=str(raw.get("finding") or "Unavailable"),
        reasons=_strings(raw.get("findingReasonCodes")),
        current_memory_mb=_int(raw.get("currentMemorySize")),
        recommended_memory_mb=_int(top.get("memorySize")),
        saving=_saving(top.get("savingsOpportunity")),
        saving_after_discounts=_saving(top.get("savingsOpportunityAfterDiscounts")),
        saving_basis=_basis(raw),
        lookback_days=_float(raw.get("lookbackPeriodInDays")),
        performance_risk=_text(raw.get("currentPerformanceRisk")),
        refreshed_at=parse_time(raw.get("lastRefreshTimestamp")),
    )


def _ecs(raw: dict[str, Any], ctx: ScopeCollector) -> OptimizerRecommendation:
    if "error" in raw:
        error = raw["error"]
        return OptimizerRecommendation(
            str(error["identifier"]), ctx.scope.account, ctx.scope.region, "Unavailable",
            reasons=_strings([error.get("code") or "Error"]), current_memory_mb=None,
            recommended_memory_mb=None, saving=None, saving_after_discounts=None,
            saving_basis=None, lookback_days=None, performance_risk=None, refreshed_at=None,
            message=str(error.get("message") or ""))
    current = raw.get("currentServiceConfiguration") or {}
    # The options carry no rank: the first is the one Compute Optimizer lists first.
    options = raw.get("serviceRecommendationOptions") or []
    top = options[0] if options else {}
    return OptimizerRecommendation(
        str(raw["serviceArn"]), ctx.scope.account, ctx.scope.region,
        finding=str(raw.get("finding") or "Unavailable"),
        reasons=_strings(raw.get("findingReasonCodes")),
        current_memory_mb=_int(current.get("memory")),
        recommended_memory_mb=_int(top.get("memory")),
        saving=_saving(top.get("savingsOpportunity")),
        saving_after_discounts=_saving(top.get("savingsOpportunityAfterDiscounts")),
        saving_basis=_basis(raw),
        lookback_days=_float(raw.get("lookbackPeriodInDays")),
        performance_risk=_text(raw.get("currentPerformanceRisk")),
        refreshed_at=parse_time(raw.get("lastRefreshTimestamp")),
        current_cpu_units=_int(current.get("cpu")),
        recommended_cpu_units=_int(top.get("cpu")),
    )


def _saving(raw: Any) -> OptimizerSaving | None:
    if not isinstance(raw, dict):
        return None
    estimate = raw.get("estimatedMonthlySavings") or {}
    amount = _float(estimate.get("value"))
    if amount is None:
        return None
    return OptimizerSaving(amount, str(estimate.get("currency") or "USD"),
                           _float(raw.get("savingsOpportunityPercentage")))


def _basis(raw: dict[str, Any]) -> str | None:
    mode = (raw.get("effectiveRecommendationPreferences") or {}).get("savingsEstimationMode")
    return _text((mode or {}).get("source"))


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _strings(values: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(str(value) for value in values or ())


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None
