"""Every workload of a scan priced now and on each platform it could run on.

A workload is a Lambda function, an ECS service or an EKS cluster. `estimate_workloads` is a
pure function of the inventory, the metric series (`auditor.cost.usage` declares them; the
scan fetches them in its one batched pass), the price book and the stated assumptions, so the
report's `workloads` and the `cost.migration_opportunity` findings always agree.

Each estimate has the current monthly cost (priced by the same model as the options), the
options with their lines and blockers, the recommended platform (the cheapest feasible
option, or staying put when nothing is cheaper), the saving, a confidence from the metric
coverage and the assumptions it rests on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from auditor.cost.model import (
    LAMBDA_MAX_MEMORY_MB,
    LAMBDA_MAX_VCPU,
    LAMBDA_PLATFORMS,
    Assumptions,
    LambdaShape,
    Line,
    Option,
    TaskShape,
    Traffic,
    alb_line,
    at_rates,
    cheapest,
    control_plane_line,
    eks_option,
    fargate_options,
    graviton_saving,
    graviton_types,
    lambda_option,
    lambda_vcpu_share,
    on_graviton,
    right_size,
    shared,
    task_option,
    tasks_for,
)
from auditor.cost.optimizer import OptimizerEvidence, optimizer_evidence
from auditor.cost.priced import PricedWorkload
from auditor.cost.usage import (
    Front,
    Window,
    albs_of,
    balancer_users,
    confidence,
    days_covered,
    lambda_target_groups,
    summed_by_hour,
    weighted_mean,
)
from auditor.data import eks_calendar, lambda_runtimes, version_key
from auditor.metrics import (
    MetricStore,
    Series,
    Statistic,
    ecs_query,
    eks_query,
    lambda_query,
    lcu_query,
    provisioned_query,
    target_group_query,
)
from auditor.model import (
    ApiGateway,
    ClusterNode,
    EcsService,
    EksCluster,
    EksNodegroup,
    Inventory,
    LambdaFunction,
    ProvisionedConcurrency,
    Resource,
    Scope,
    TaskDefinition,
)
from auditor.params import Param, ParamValue
from auditor.pricing import automode
from auditor.pricing.book import HOURS_PER_MONTH, PriceBook, cents, rate
from auditor.pricing.commitments import effective_book
from auditor.pricing.discounts import blend, effective_rates
from auditor.pricing.ec2 import InstanceSpec, embedded_instance
from auditor.pricing.fargate import FargateSize, cheapest_fitting

LAMBDA_DATASETS = frozenset({"lambda.functions", "lambda.event_source_mappings",
                             "lambda.provisioned_concurrency", "elbv2.load_balancers",
                             "apigateway.apis", "cloudwatch.metrics"})
"""Function URLs are recognised by their `UrlRequestCount` metric (in the batched metrics
pass), not by `ListFunctionUrlConfigs`, which costs one call per function."""
ECS_DATASETS = frozenset({"ecs.clusters", "ecs.services", "ecs.task_definitions",
                          "ecs.container_instances", "elbv2.load_balancers",
                          "cloudwatch.metrics"})
EKS_DATASETS = frozenset({"eks.clusters", "eks.nodegroups", "eks.fargate_profiles",
                          "ec2.cluster_nodes", "ec2.spot_prices", "cloudwatch.metrics"})
COST_DATASETS = LAMBDA_DATASETS | ECS_DATASETS | EKS_DATASETS | {"ec2.network"}
"""What the cost model reads; a check or scan that prices workloads requires these. A Spot
node group's price is averaged over the zones of its subnets (`ec2.network`), or, unread,
over every zone with a price, which the estimate says: no verdict is lost for it."""
SUBJECT_DATASETS: Mapping[str, frozenset[str]] = {
    "lambda-function": LAMBDA_DATASETS, "ecs-service": ECS_DATASETS,
    "eks-cluster": EKS_DATASETS,
}
MODEL_PARAMETERS: Mapping[str, Param] = {
    "peak_factor": Param(3.0, "peak over average request rate when no peak is observed"),
    "rps_per_vcpu": Param(500.0, "requests a second one container vCPU serves"),
    "min_tasks": Param(2, "tasks a container service keeps at least, for availability"),
    "target_peak_percent": Param(70.0, "right-sized tasks keep the observed peak at or below "
                                       "this"),
    "idle_cpu_max_percent": Param(5.0, "a Fargate service whose hourly peak CPU stayed below "
                                       "this all lookback is idle: its whole cost is the "
                                       "saving"),
    "min_hours_of_data": Param(72, "hourly datapoints needed before a service is called "
                                   "idle"),
    "provisioned_percentile": Param(95.0, "provisioned concurrency kept: this percentile of "
                                          "hourly peak utilisation"),
}
"""The cost model's assumptions, set in the config's `[cost]` table. Every dollar figure of a
report comes from the one model they configure, checks' savings included."""

def assumptions_from(params: Mapping[str, ParamValue]) -> Assumptions:
    """The model's assumptions from `[cost]` (defaults for what it leaves out)."""
    defaults = Assumptions()

    def number(name: str, default: float) -> float:
        value = params.get(name, default)
        return float(value) if isinstance(value, int | float) and not isinstance(
            value, bool) else default

    return Assumptions(
        peak_factor=number("peak_factor", defaults.peak_factor),
        rps_per_vcpu=number("rps_per_vcpu", defaults.rps_per_vcpu),
        min_tasks=max(1, int(number("min_tasks", defaults.min_tasks))),
        target_utilization=number("target_peak_percent",
                                  defaults.target_utilization * 100) / 100,
        idle_cpu_max_percent=number("idle_cpu_max_percent", defaults.idle_cpu_max_percent),
        min_hours_of_data=int(number("min_hours_of_data", defaults.min_hours_of_data)),
        provisioned_percentile=number("provisioned_percentile",
                                      defaults.provisioned_percentile),
    )


@dataclass(frozen=True)
class WorkloadEstimate:
    resource: Resource
    name: str
    platform: str
    """`lambda`, `ecs-fargate`, `ecs-ec2` or `eks`."""
    usage: Mapping[str, Any]
    current: Option
    options: tuple[Option, ...]
    confidence: str
    assumptions: tuple[str, ...]
    metric_days: float
    steps: tuple[tuple[str, Option], ...] = ()
    """The in-place changes, in order, each with the option it leads to (see
    `auditor.cost.priced.SAVINGS_KINDS`)."""
    idle: bool = False
    """The workload does no work (a Fargate service under the idle CPU threshold)."""
    rates_flip: Mapping[str, Any] | None = None
    """When effective rates recommend another platform than list prices would: both, with
    what each costs on either basis and the discounts that made the difference."""
    compute_optimizer: OptimizerEvidence | None = None
    """AWS Compute Optimizer's recommendation beside ours, with `--compute-optimizer`:
    evidence that enters none of the figures here."""
    recommended: Option = field(init=False)
    savings: Mapping[str, float] = field(init=False)
    """Dollars a month by kind, composed: their sum never exceeds the current cost."""

    def __post_init__(self) -> None:
        best = cheapest(self.options)
        if best is None or best.monthly_usd >= self.current.monthly_usd:
            best = self.current
        object.__setattr__(self, "recommended", best)
        object.__setattr__(self, "savings", self._compose())

    def _compose(self) -> dict[str, float]:
        if self.idle:
            return {"idle": self.current.monthly_usd} if self.current.monthly_usd else {}
        savings: dict[str, float] = {}
        reached = self.current
        for kind, option in self.steps:
            if option.feasible and option.monthly_usd < reached.monthly_usd:
                savings[kind] = cents(reached.monthly_usd - option.monthly_usd)
                reached = option
        if self.recommended.monthly_usd < reached.monthly_usd:
            savings["migration"] = cents(reached.monthly_usd - self.recommended.monthly_usd)
        return savings

    @property
    def best_in_place(self) -> Option:
        """Where the in-place steps that save anything lead (the workload as it is, if
        none)."""
        reached = self.current
        for kind, option in self.steps:
            if kind in self.savings:
                reached = option
        return reached

    def step(self, kind: str) -> Option | None:
        """The option an in-place step leads to, when it saves anything."""
        return next((option for k, option in self.steps if k == kind and k in self.savings),
                    None)

    @property
    def monthly_savings_usd(self) -> float:
        return cents(sum(self.savings.values()))

    @property
    def migration_savings_usd(self) -> float:
        """What moving platform saves beyond the best the current platform can do (the part
        no in-place change claims)."""
        return self.savings.get("migration", 0.0)

    def to_dict(self) -> dict[str, Any]:
        """The report's entry for it (`auditor.cost.priced.PricedWorkload`)."""
        return PricedWorkload.of(self).to_dict()


@dataclass(frozen=True)
class Costs:
    """Every workload of a scan priced, by ARN: the one source of the report's dollar figures.
    Checks read their savings from here; the report's workloads are these estimates."""

    estimates: tuple[WorkloadEstimate, ...] = ()

    @cached_property
    def _by_arn(self) -> dict[str, WorkloadEstimate]:
        return {estimate.resource.arn: estimate for estimate in self.estimates}

    def of(self, arn: str) -> WorkloadEstimate | None:
        return self._by_arn.get(arn)


@dataclass(frozen=True)
class _Context:
    inventory: Inventory
    window: Window
    prices: PriceBook
    a: Assumptions
    now: datetime
    balancer_users: Mapping[str, int]
    books: Mapping[Scope, PriceBook] = field(default_factory=dict)
    """Each account and region's book at its effective rates (`effective_book`)."""

    def book(self, resource: Resource) -> PriceBook:
        return self.books.get(resource.scope) or self.prices.in_region(resource.region)

    def at_list(self) -> _Context:
        """The same workloads priced at list prices, without any discount."""
        return replace(self, prices=self.prices.at_list(),
                       books={scope: book.at_list() for scope, book in self.books.items()})

    def general(self, book: PriceBook) -> list[str]:
        notes = [
            "Usage is scaled to a 730-hour month over the hours the workload was seen.",
            f"Prices: {book.source}, as of {book.as_of}"
            + (f" ({book.basis})" if book.basis else "") + "."
            + ("" if book.free_tier else " Free tiers are not applied."),
        ]
        if book.discounts:
            notes.append(effective_rates(book.discounts))
        notes.extend(book.discount_notes)
        if not self.window.metrics.series and self.window.metrics.start is None:
            notes.append("No CloudWatch metrics were read: usage comes from the configuration.")
        return notes


def estimate_workloads(inventory: Inventory, metrics: MetricStore, prices: PriceBook,
                       assumptions: Assumptions, lookback_days: int, now: datetime
                       ) -> tuple[WorkloadEstimate, ...]:
    scopes = {w.scope for w in (*inventory.lambda_functions, *inventory.ecs_services,
                                *inventory.eks_clusters)}
    ctx = _Context(inventory, Window(lookback_days, metrics), prices, assumptions, now,
                   balancer_users(inventory),
                   {scope: effective_book(inventory, prices, scope) for scope in scopes})
    found: list[WorkloadEstimate] = []
    found.extend(_lambda(ctx, fn) for fn in inventory.lambda_functions)
    for service in inventory.ecs_services:
        estimate = _ecs(ctx, service)
        if estimate is not None:
            found.append(estimate)
    found.extend(_eks(ctx, cluster) for cluster in inventory.eks_clusters)
    found = [_against_list(ctx, w) for w in found]
    found = [replace(w, compute_optimizer=evidence)
             if (evidence := optimizer_evidence(w, inventory)) else w for w in found]
    return tuple(sorted(found, key=lambda w: (w.resource.account, w.resource.region,
                                              w.resource.arn)))


def _against_list(ctx: _Context, estimate: WorkloadEstimate) -> WorkloadEstimate:
    """The estimate, saying so when its effective rates recommend another platform than list
    prices would (a Compute Savings Plan takes far more off Fargate than off Lambda)."""
    if not ctx.book(estimate.resource).discounts:
        return estimate
    listed = _estimate(ctx.at_list(), estimate.resource)
    if listed is None or listed.recommended.platform == estimate.recommended.platform:
        return estimate
    was, now = listed.recommended, estimate.recommended
    rates = "; ".join(dict.fromkeys(label for option in (estimate.current, *estimate.options)
                                    for line in option.lines for label in line.rates))
    note = (f"Effective rates change the recommendation: at list prices {was.platform} would "
            f"be the cheapest ({_usd(was.monthly_usd)} a month; {now.platform} "
            f"{_usd(_priced_as(listed, now.platform))}); with {rates}, {now.platform} is "
            f"({_usd(now.monthly_usd)}; {was.platform} "
            f"{_usd(_priced_as(estimate, was.platform))}).")
    flip: dict[str, Any] = {
        basis: {"recommended_platform": best.platform,
                "monthly_usd": {p: _priced_as(priced, p) for p in (was.platform, now.platform)}}
        for basis, best, priced in (("at_list", was, listed),
                                    ("at_effective_rates", now, estimate))}
    flip.update(rates=rates, note=note)
    return replace(estimate, rates_flip=flip, assumptions=(*estimate.assumptions, note))


def _estimate(ctx: _Context, resource: Resource) -> WorkloadEstimate | None:
    if isinstance(resource, LambdaFunction):
        return _lambda(ctx, resource)
    if isinstance(resource, EcsService):
        return _ecs(ctx, resource)
    return _eks(ctx, resource) if isinstance(resource, EksCluster) else None


def _priced_as(estimate: WorkloadEstimate, platform: str) -> float | None:
    """What the workload costs on a platform: as it runs now, or its cheapest feasible
    option there."""
    return min((o.monthly_usd for o in (estimate.current, *estimate.options)
                if o.platform == platform and (o is estimate.current or o.feasible)),
               default=None)


def _usd(value: float | None) -> str:
    return "not feasible" if value is None else f"${value:,.2f}"


# --------------------------------------------------------------------------- shared pieces


def _alb(ctx: _Context, book: PriceBook, front: Front, traffic: Traffic,
         lambda_targets: bool = False) -> Line | None:
    """The workload's share of the ALBs in front of it, from measured LCUs when CloudWatch has
    them (else the LCU model)."""
    if not front.pairs:
        return None
    lines = []
    for lb in front.balancers:
        lcu = ctx.window.series(lcu_query(lb))
        measured = (None if lcu is None or lcu.empty
                    else lcu.total() / ctx.window.observed([lcu]).hours)
        users = max(1, ctx.balancer_users.get(lb.arn, 1))
        lines.append(alb_line(book, traffic, ctx.a, lambda_targets=lambda_targets,
                              measured_lcu=measured, share=1 / users,
                              share_basis=f"{lb.name} serves {users} workloads"))
    if len(lines) == 1:
        return lines[0]
    return Line("load_balancer", sum(line.exact for line in lines),
                " + ".join(line.formula for line in lines))


def _eks_share(ctx: _Context, resource: Resource, book: PriceBook) -> Line:
    """A new workload on EKS: on a cluster already in its account and region it adds no
    control plane (that is paid already, whatever else runs there); else a cluster of its
    own."""
    clusters = sorted(c.name for c in ctx.inventory.eks_clusters
                      if (c.account, c.region) == (resource.account, resource.region))
    if not clusters:
        return control_plane_line(book)
    return Line("control_plane", 0.0,
                f"joins cluster {clusters[0]}, whose control plane is paid already")


def in_extended_support(cluster: EksCluster, now: datetime) -> bool:
    """Billed at the extended-support rate now: from DescribeClusterVersions when it answered,
    else from the embedded EKS calendar (an unknown older version counts as extended)."""
    support = cluster.version_support
    if support is not None and support.end_of_standard_support is not None:
        return now >= support.end_of_standard_support
    calendar = eks_calendar()
    window = calendar.versions.get(cluster.version)
    if window is not None:
        return now >= window.end_of_standard_support
    try:
        return version_key(cluster.version) < version_key(calendar.oldest())
    except ValueError:
        return False


def _days(*series: Series | None) -> float:
    return max((days_covered(s) for s in series), default=0.0)


# --------------------------------------------------------------------------- Lambda


def _front_door(ctx: _Context, fn: LambdaFunction) -> tuple[str, Front, str]:
    """What invokes the function, as far as the inventory shows."""
    inventory = ctx.inventory
    front = albs_of(inventory, lambda_target_groups(inventory, fn.arn))
    if front.pairs:
        names = ", ".join(lb.name for lb in front.balancers)
        return "alb", front, f"invoked through ALB {names} (a Lambda target group)"
    through_api = _through_api(inventory.apis_fronting(fn.arn))
    if through_api is not None:
        return through_api[0], front, through_api[1]
    url_requests = ctx.window.series(lambda_query(fn, "UrlRequestCount", "Sum"))
    if any(u.function_arn == fn.arn for u in inventory.function_urls) or (
            url_requests is not None and url_requests.total() > 0):
        return "function-url", front, "invoked through its function URL"
    sources = sorted({m.source_service for m in inventory.event_source_mappings
                      if m.function_arn == fn.arn})
    if sources:
        return "none", front, (f"invoked by an event source mapping ({', '.join(sources)}); "
                               "containers would poll the same source, with no load balancer")
    return "none", front, ("no function URL traffic (UrlRequestCount), ALB target group, API "
                           "Gateway integration or event source mapping seen: taken as "
                           "invoked directly; containers would sit behind an ALB")


def _through_api(apis: Sequence[ApiGateway]) -> tuple[str, str] | None:
    """The front door the API Gateway APIs in front of a function make, and how it reads."""
    billed = [api for api in apis if api.protocol in ("REST", "HTTP")]
    if billed:
        names = ", ".join(f"{api.protocol} API {api.name}" for api in billed)
        # Which API carries how many of its requests is not seen: the dearer one counts.
        door = "apigw-rest" if any(api.protocol == "REST" for api in billed) else "apigw-http"
        mixed = (" (the split between them is not seen: all priced as REST, the dearer)"
                 if len({api.protocol for api in billed}) > 1 else "")
        return door, (f"invoked through API Gateway {names}, each invocation one API "
                      f"request{mixed}; containers would sit behind an ALB instead")
    if apis:
        return "none", (f"invoked through WebSocket API {', '.join(api.name for api in apis)}, "
                        "whose message and connection-minute charges are not priced; "
                        "containers would sit behind an ALB")
    return None


@dataclass(frozen=True)
class _LambdaUsage:
    traffic: Traffic
    fetched: bool
    days: float
    max_duration_ms: float | None
    peak_concurrency: float | None


def _lambda_usage(ctx: _Context, fn: LambdaFunction, notes: list[str]) -> _LambdaUsage:
    window = ctx.window
    invocations = window.series(lambda_query(fn, "Invocations", "Sum"))
    duration_sum = window.series(lambda_query(fn, "Duration", "Sum"))
    duration_max = window.series(lambda_query(fn, "Duration", "Maximum"))
    concurrency = window.series(lambda_query(fn, "ConcurrentExecutions", "Maximum"))
    total = invocations.total() if invocations is not None else 0.0
    avg_ms = (duration_sum.total() / total) if duration_sum is not None and total > 0 else 0.0
    hourly_peak = (invocations.maximum() or 0.0) / 3600 if invocations is not None else 0.0
    peak_concurrency = concurrency.maximum() if concurrency is not None else None
    from_concurrency = (peak_concurrency / (avg_ms / 1000)
                        if peak_concurrency and avg_ms > 0 else 0.0)
    basis = ("peak ConcurrentExecutions / average duration" if from_concurrency >= hourly_peak
             and from_concurrency > 0 else "busiest hour's Invocations / 3600")
    # A function existed at least since it was last modified (Lambda reports no creation
    # date): with that, a bursty old function is not mistaken for a young one.
    observed = window.observed([invocations, duration_sum, concurrency], fn.last_modified)
    if invocations is None:
        notes.append("Lambda metrics could not be read: no traffic assumed.")
    elif total == 0:
        notes.append("No Invocations datapoints in the lookback: treated as no traffic.")
    else:
        notes.append(observed.describe()[0].upper() + observed.describe()[1:] + ".")
    return _LambdaUsage(
        Traffic(total * observed.to_month, avg_ms, max(hourly_peak, from_concurrency),
                f"observed: {basis}"),
        invocations is not None, _days(invocations),
        duration_max.maximum() if duration_max is not None else None, peak_concurrency)


def _lambda(ctx: _Context, fn: LambdaFunction) -> WorkloadEstimate:
    book, a = ctx.book(fn), ctx.a
    notes = ctx.general(book)
    seen = _lambda_usage(ctx, fn, notes)
    traffic = seen.traffic
    front_door, front, how = _front_door(ctx, fn)
    notes.append(f"Front door: {how}.")
    configs = ctx.inventory.provisioned_concurrency_for(fn.arn)
    provisioned = sum(p.allocated for p in configs)
    kept_by_config = _provisioned_kept(ctx, configs, notes)
    kept = sum(entry["kept"] for entry in kept_by_config.values())
    lambda_front = _alb(ctx, book, front, traffic, lambda_targets=True)

    def on_lambda(arch: str, provisioned: int = kept) -> Option:
        blockers: list[str] = []
        arm_notes: list[str] = []
        runtime = lambda_runtimes().get(fn.runtime)
        if arch == "arm64" and fn.architecture != "arm64":
            if fn.runtime is None:
                arm_notes.append("a container image function needs its image built for arm64")
            elif runtime is not None and not runtime.arm64:
                blockers.append(f"runtime {fn.runtime} has no arm64 build")
        return lambda_option(book, traffic, LambdaShape(fn.memory_mb, arch, front_door,
                                                        provisioned), a,
                             front=lambda_front, blockers=blockers, notes=arm_notes)

    current = on_lambda(fn.architecture, provisioned)
    options = [on_lambda(arch) for arch in LAMBDA_PLATFORMS]
    in_place = {option.shape["arch"]: option for option in options}
    steps = [("provisioned_concurrency", in_place[fn.architecture])] \
        if fn.architecture in in_place else []
    if fn.architecture != "arm64":
        steps.append(("arm64", in_place["arm64"]))

    # Containers: a task shape that gives each request at least Lambda's CPU and memory.
    share = lambda_vcpu_share(fn.memory_mb)
    size = cheapest_fitting(max(a.task_vcpu, share) * 1024,
                            max(a.task_memory_gb * 1024, fn.memory_mb),
                            lambda s: book.fargate_task_month(s.vcpu, s.memory_gb))
    if size is not None:
        tasks, sizing = tasks_for(traffic, size.vcpu, a)
        shape = TaskShape(tasks, size.vcpu, size.memory_gb,
                          f"{size} per task (at least {a.task_vcpu:g} vCPU / "
                          f"{a.task_memory_gb:g} GB, and the function's {fn.memory_mb} MB and "
                          f"{share:.2g} vCPU); {sizing}")
        if front_door == "alb":
            container_front = [_alb(ctx, book, front, traffic) or alb_line(book, traffic, a)]
        elif front_door == "none" and _has_event_source(ctx, fn):
            container_front = []
        else:
            container_front = [alb_line(book, traffic, a)]
        options.extend(fargate_options(book, shape, a, extra=container_front))
        options.append(eks_option(book, shape, control_plane=_eks_share(ctx, fn, book),
                                  extra=container_front))
    usage = {
        "requests_per_month": round(traffic.requests_per_month),
        "avg_duration_ms": round(traffic.avg_duration_ms, 1),
        "max_duration_ms": _round(seen.max_duration_ms),
        "memory_mb": fn.memory_mb,
        "architecture": fn.architecture,
        "average_rps": round(traffic.avg_rps, 3),
        "peak_rps": round(traffic.peak_rps, 3),
        "peak_basis": traffic.peak_basis,
        "peak_concurrency": _round(seen.peak_concurrency),
        "provisioned_concurrency": provisioned,
        "provisioned_concurrency_used": kept if configs else None,
        "provisioned_configs": kept_by_config,
        "front_door": front_door,
    }
    return _finish(fn, fn.name, "lambda", usage, current, options, seen.days, seen.fetched,
                   notes, steps)


def _provisioned_kept(ctx: _Context, configs: Sequence[ProvisionedConcurrency],
                      notes: list[str]) -> dict[str, dict[str, Any]]:
    """Provisioned environments a Lambda option keeps, by configuration: what the busy hours
    used (a percentile of hourly peak utilisation, the rule
    lambda.provisioned_concurrency_waste judges by), at least one; all of them when the
    utilisation is unknown."""
    pct = ctx.a.provisioned_percentile
    kept: dict[str, dict[str, Any]] = {}
    for config in configs:
        series = ctx.window.series(provisioned_query(config))
        busy = series.percentile(pct) if series is not None else None
        keep = config.allocated if busy is None else max(1, math.ceil(config.allocated * busy))
        kept[config.arn] = {"allocated": config.allocated, "kept": min(keep, config.allocated),
                            "utilization_percentile": pct,
                            "utilization": None if busy is None else round(busy, 4)}
        notes.append(
            f"Provisioned concurrency {config.function_name}:{config.qualifier}: "
            f"{config.allocated} configured (the current cost); the Lambda options keep "
            + (f"{keep}, the p{pct:g} of hourly peak utilisation ({busy:.0%}) of them."
               if busy is not None else "all of them (no utilisation metrics).")
            + " Invocations use provisioned environments first.")
    return kept


def _has_event_source(ctx: _Context, fn: LambdaFunction) -> bool:
    return any(m.function_arn == fn.arn for m in ctx.inventory.event_source_mappings)


# --------------------------------------------------------------------------- ECS


def _task_size(td: TaskDefinition | None) -> tuple[int, int, str]:
    """CPU units and MiB of a task: task-level, else the containers' sum, else the smallest
    Fargate size (said so)."""
    if td is not None and td.cpu_units and td.memory_mib:
        return td.cpu_units, td.memory_mib, "task definition size"
    cpu = sum(c.cpu for c in td.containers) if td else 0
    memory = sum(c.memory_mib or 0 for c in td.containers) if td else 0
    if cpu and memory:
        return cpu, memory, "the containers' CPU and memory added up"
    return max(cpu, 256), max(memory, 512), "no task size set: taken as 0.25 vCPU / 0.5 GB"


@dataclass(frozen=True)
class _Utilization:
    """A service's CPU and memory over the lookback, and whether it did any work."""

    cpu_max: Series | None
    cpu_peak: float | None
    memory_peak: float | None
    usage: Mapping[str, Any]
    idle: bool


def _utilization(ctx: _Context, service: EcsService, tasks: int) -> _Utilization:
    window, a = ctx.window, ctx.a
    cpu_max = window.series(ecs_query(service, "CPUUtilization", "Maximum"))
    mem_max = window.series(ecs_query(service, "MemoryUtilization", "Maximum"))
    cpu_avg = window.series(ecs_query(service, "CPUUtilization", "Average"))
    mem_avg = window.series(ecs_query(service, "MemoryUtilization", "Average"))
    cpu_peak = cpu_max.percentile(99) if cpu_max else None
    mem_peak = mem_max.maximum() if mem_max else None
    highest = cpu_max.maximum() if cpu_max is not None else None
    idle = bool(tasks and cpu_max is not None and len(cpu_max) >= a.min_hours_of_data
                and highest is not None and highest < a.idle_cpu_max_percent)
    usage = {
        "cpu_avg_percent": _round(cpu_avg.mean() if cpu_avg else None),
        "cpu_peak_percent": _round(cpu_peak),
        "cpu_max_percent": _round(highest),
        "memory_avg_percent": _round(mem_avg.mean() if mem_avg else None),
        "memory_peak_percent": _round(mem_peak),
        "hourly_datapoints": len(cpu_max) if cpu_max is not None else 0,
        "peak_basis": "p99 of hourly Maximum CPU, Maximum of hourly Maximum memory",
    }
    return _Utilization(cpu_max, cpu_peak, mem_peak, usage, idle)


@dataclass(frozen=True)
class _Requests:
    """A service's requests through its ALBs, when it is behind one."""

    traffic: Traffic
    measured: bool
    avg_s: float | None
    max_s: float


def _requests(ctx: _Context, service: EcsService, front: Front, utilization: _Utilization,
              notes: list[str]) -> _Requests:
    window = ctx.window

    def each(metric: str, stat: Statistic) -> list[Series | None]:
        return [window.series(target_group_query(lb, g, metric, stat)) for lb, g in front.pairs]

    requests = [s for s in each("RequestCount", "Sum") if s is not None and not s.empty]
    response_avg = each("TargetResponseTime", "Average")
    response_max = each("TargetResponseTime", "Maximum")
    per_hour = summed_by_hour(requests)
    avg_s = weighted_mean([s for s in response_avg if s is not None][:len(requests)],
                          requests) if len(response_avg) == len(requests) else None
    max_s = max((s.maximum() or 0.0 for s in response_max if s is not None), default=0.0)
    observed = window.observed([utilization.cpu_max, *requests], service.created_at)
    if requests:
        notes.append(observed.describe()[0].upper() + observed.describe()[1:] + ".")
    traffic = Traffic(sum(s.total() for s in requests) * observed.to_month,
                      (avg_s or 0.0) * 1000, max(per_hour.values(), default=0.0) / 3600,
                      "observed: busiest hour's RequestCount / 3600")
    return _Requests(traffic, bool(requests), avg_s, max_s)


def _ecs(ctx: _Context, service: EcsService) -> WorkloadEstimate | None:
    if service.scheduling_strategy == "DAEMON":
        return None
    book, a = ctx.book(service), ctx.a
    run = _service_tasks(ctx, service)
    notes = ctx.general(book)
    notes.append(f"Tasks: {run.tasks} (the larger of desired and running count); size: "
                 f"{run.size_basis}.")
    used = _utilization(ctx, service, run.tasks)
    front = albs_of(ctx.inventory, service.target_group_arns)
    seen = _requests(ctx, service, front, used, notes)
    on_spot = _fargate_spot_only(service)
    alb = _alb(ctx, book, front, seen.traffic)
    extra = [alb] if alb else []
    current = _ecs_current(ctx, service, run, book, on_spot, extra, notes)
    shape = _right_sized_shape(book, a, run, used)
    options = fargate_options(book, shape, a, extra=extra, on_spot=on_spot)
    steps = _fargate_steps(service, current, options)
    options.append(eks_option(book, shape, control_plane=_eks_share(ctx, service, book),
                              extra=extra))
    options.extend(_ecs_on_lambda(ctx, book, front, seen.traffic, seen.measured, seen.max_s,
                                  run.cpu_units, run.memory_mib, alb, notes))
    usage = _ecs_usage(a, run, front, used, seen)
    # An EC2-backed service's instances may run other work: idle, it is reported, but its
    # share of them is not promised back.
    return _finish(service, service.name, "ecs-fargate" if service.on_fargate else "ecs-ec2",
                   usage, current, options, _days(used.cpu_max), used.cpu_max is not None,
                   notes, steps, used.idle and service.on_fargate)


@dataclass(frozen=True)
class _ServiceTasks:
    """What an ECS service runs: how many tasks, of what size and architecture."""

    tasks: int
    cpu_units: int
    memory_mib: int
    size_basis: str
    arch: str


def _service_tasks(ctx: _Context, service: EcsService) -> _ServiceTasks:
    td = ctx.inventory.task_definition(service.task_definition_arn)
    cpu_units, memory_mib, size_basis = _task_size(td)
    return _ServiceTasks(max(service.desired_count, service.running_count), cpu_units,
                         memory_mib, size_basis, td.cpu_architecture if td else "X86_64")


def _fargate_spot_only(service: EcsService) -> bool:
    """Whether the service runs on Fargate Spot and not on Fargate at all."""
    return any(p == "FARGATE_SPOT" for p in service.capacity_providers) and not any(
        p == "FARGATE" for p in service.capacity_providers)


def _ecs_current(ctx: _Context, service: EcsService, run: _ServiceTasks, book: PriceBook,
                 on_spot: bool, extra: list[Line], notes: list[str]) -> Option:
    """The service as configured: on its Fargate capacity type and architecture, or its share
    of the cluster's container instances."""
    shape = TaskShape(run.tasks, run.cpu_units / 1024, run.memory_mib / 1024, "as configured")
    if not service.on_fargate:
        return _ec2_current(ctx, service, shape, book, extra, notes)
    label = "ecs-fargate-spot" if on_spot else (
        "ecs-fargate-arm" if run.arch.upper() == "ARM64" else "ecs-fargate")
    return task_option(book, shape, platform=label, arch=run.arch, spot=on_spot, extra=extra)


def _right_sized_shape(book: PriceBook, a: Assumptions, run: _ServiceTasks,
                       used: _Utilization) -> TaskShape:
    """As many tasks as now, each the cheapest Fargate size that keeps the observed peaks at
    the target utilisation."""

    def month(size: FargateSize) -> float:
        return book.fargate_task_month(size.vcpu, size.memory_gb, run.arch)

    best, sizing = right_size(run.cpu_units, run.memory_mib, used.cpu_peak, used.memory_peak,
                              a.target_utilization, month)
    return TaskShape(run.tasks, best.vcpu, best.memory_gb,
                     f"{run.tasks} task(s) as now; {sizing}")


def _fargate_steps(service: EcsService, current: Option, fargate: Sequence[Option]
                   ) -> list[tuple[str, Option]]:
    """The savings steps of a Fargate service: right-sizing keeps the capacity type and
    architecture; arm64 is the next step."""
    if not service.on_fargate:
        return []
    right = {o.platform: o for o in fargate}
    steps = [("right_size", right[current.platform])]
    if current.platform == "ecs-fargate":
        steps.append(("arm64", right["ecs-fargate-arm"]))
    return steps


def _ecs_usage(a: Assumptions, run: _ServiceTasks, front: Front, used: _Utilization,
               seen: _Requests) -> dict[str, Any]:
    traffic, measured = seen.traffic, seen.measured
    return {
        "tasks": run.tasks,
        "vcpu": run.cpu_units / 1024,
        "memory_mb": run.memory_mib,
        "architecture": run.arch,
        "requests_per_month": round(traffic.requests_per_month) if measured else None,
        "avg_duration_ms": round(traffic.avg_duration_ms, 1) if seen.avg_s is not None
        else None,
        "max_duration_ms": round(seen.max_s * 1000, 1) if measured else None,
        "average_rps": round(traffic.avg_rps, 3) if measured else None,
        "peak_rps": round(traffic.peak_rps, 3) if measured else None,
        "load_balancers": [lb.name for lb in front.balancers],
        "utilization": dict(used.usage),
        "idle": used.idle,
        "idle_rule": (f"hourly peak CPU below {a.idle_cpu_max_percent:g}% in every hour, with at "
                      f"least {a.min_hours_of_data} hours of data"),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _ecs_on_lambda(ctx: _Context, book: PriceBook, front: Front, traffic: Traffic,
                   measured: bool, max_s: float, cpu_units: int,
                   memory_mib: int, alb: Line | None, notes: list[str]) -> list[Option]:
    """The service's requests as Lambda invocations, behind the same ALB."""
    a = ctx.a
    memory = min(max(128, memory_mib), a.lambda_memory_cap_mb)
    blockers: list[str] = []
    if not front.pairs:
        blockers.append("not behind a load balancer: a worker or daemon rather than "
                        "request/response, and its invocation count is unknown")
    elif not measured:
        blockers.append("no RequestCount datapoints for its target groups: request volume "
                        "unknown")
    if max_s * 1000 > 15 * 60 * 1000:
        blockers.append(f"its slowest response took {max_s / 60:,.1f} min; Lambda stops at 15")
    if memory_mib > LAMBDA_MAX_MEMORY_MB:
        blockers.append(f"tasks have {memory_mib:,} MB; Lambda's maximum is 10,240 MB")
    if cpu_units / 1024 > LAMBDA_MAX_VCPU:
        blockers.append(f"tasks have {cpu_units / 1024:g} vCPU; Lambda gives at most 6")
    lambda_front = None
    if front.pairs:
        lambda_front = _alb(ctx, book, front, traffic, lambda_targets=True)
    note = (f"On Lambda each request gets {memory} MB (the task's memory, at most "
            f"{a.lambda_memory_cap_mb} MB) and takes the observed average response time; "
            "cold starts add latency.")
    if front.pairs:
        notes.append("Behind ALB " + ", ".join(lb.name for lb in front.balancers)
                     + ": on Lambda the ALB stays, with a Lambda target group.")
    return [lambda_option(book, traffic, LambdaShape(memory, arch, "alb"), a,
                          front=lambda_front or alb, blockers=blockers, notes=(note,))
            for arch in LAMBDA_PLATFORMS]


def _ec2_current(ctx: _Context, service: EcsService, shape: TaskShape, book: PriceBook,
                 extra: list[Line], notes: list[str]) -> Option:
    """An EC2-backed service: its share of the cluster's container instances by reserved
    vCPU; the Fargate price of its tasks when the instances cannot be priced."""
    instances = [i for i in ctx.inventory.container_instances
                 if i.cluster_arn == service.cluster_arn and i.instance_type]
    prices = [book.instance_hour(str(i.instance_type)) for i in instances]
    services = [s for s in ctx.inventory.ecs_services if s.cluster_arn == service.cluster_arn]
    reserved = sum(max(s.desired_count, s.running_count) * _task_size(
        ctx.inventory.task_definition(s.task_definition_arn))[0] for s in services)
    mine = shape.tasks * shape.vcpu * 1024
    if not instances or any(p is None for p in prices) or reserved <= 0:
        notes.append("The cluster's container instances could not be priced: the current cost "
                     "is the Fargate price of the same tasks.")
        return task_option(book, shape, platform="ecs-ec2", extra=extra)
    share = mine / reserved
    hourly = sum(p or 0.0 for p in prices)
    types = ", ".join(sorted({str(i.instance_type) for i in instances}))
    discount = blend([(p or 0.0, book.instance_discount(str(i.instance_type)))
                      for i, p in zip(instances, prices, strict=True)])
    line = at_rates("compute", HOURS_PER_MONTH * hourly * share,
                    f"730 h x ${rate(hourly)}/h for {len(instances)} container instance(s) "
                    f"({types}) x {share:.3g} (its share of the reserved vCPU)", discount)
    return Option("ecs-ec2", (line, *extra), (), {"tasks": shape.tasks, "vcpu": shape.vcpu,
                                                  "memory_gb": shape.memory_gb})


# --------------------------------------------------------------------------- EKS


@dataclass(frozen=True)
class _Nodes:
    count: int
    vcpu: float
    memory_gb: float
    line: Line | None
    fee: Line | None
    """EKS Auto Mode's management fee on the nodes it runs."""
    others: Mapping[str, int]
    """Nodes outside managed node groups, by what launched them."""

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for line in (self.line, self.fee) if line is not None)


@dataclass
class _Tally:
    """Nodes priced so far: how many, their size and cost, and each part's arithmetic."""

    count: int = 0
    vcpu: float = 0.0
    memory_gb: float = 0.0
    cost: float = 0.0
    parts: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    def add(self, nodes: int, spec: InstanceSpec, hourly: float) -> None:
        self.count += nodes
        self.vcpu += nodes * spec.vcpu
        self.memory_gb += nodes * spec.memory_gb
        self.cost += nodes * HOURS_PER_MONTH * hourly


def _nodes(ctx: _Context, cluster: EksCluster, book: PriceBook,
           groups: Sequence[EksNodegroup], notes: list[str]) -> _Nodes:
    """The cluster's EC2 nodes for a 730-hour month: managed node groups at their desired
    size, the instances running outside them (Karpenter, Auto Mode, self-managed) one by one;
    each at its Spot price in effect, else on-demand; and Auto Mode's fee on its nodes."""
    tally = _Tally()
    for group in groups:
        _price_group(ctx, cluster, book, group, tally, notes)
    others = _outside_node_groups(ctx, cluster)
    fee = _price_others(ctx, cluster, book, others, tally, notes)
    shapes = Counter(n.provisioner for n in others)
    if others:
        notes.append(f"{len(others)} node(s) outside managed node groups ("
                     + ", ".join(f"{n} {kind}" for kind, n in sorted(shapes.items()))
                     + ") priced as running all month: Karpenter and Auto Mode add and remove "
                       "nodes as pods come and go, so this is the month at today's size.")
    if tally.unpriced:
        notes.append("Nodes not priced (instance type not in the price table): "
                     + ", ".join(tally.unpriced) + ".")
    rates = _on_demand_rates(book, groups, others)
    line = Line("nodes", tally.cost, "; ".join(tally.parts), rates) if tally.parts else None
    return _Nodes(tally.count, tally.vcpu, tally.memory_gb, line, fee,
                  {str(kind): n for kind, n in shapes.items()})


def _outside_node_groups(ctx: _Context, cluster: EksCluster) -> list[ClusterNode]:
    """The cluster's instances that no managed node group launched. A managed node group's
    instances carry the cluster's tags too: priced from its desired size, they are not counted
    again (nor those of an ended node group, draining)."""
    return [n for n in ctx.inventory.cluster_nodes
            if n.cluster_name == cluster.name and n.scope == cluster.scope
            and n.provisioner != "managed-nodegroup"]


def _on_demand_rates(book: PriceBook, groups: Sequence[EksNodegroup],
                     others: Sequence[ClusterNode]) -> tuple[str, ...]:
    """The labels of the discounts on the on-demand nodes' instance types."""
    on_demand = [*(g.instance_types[0] for g in groups
                   if g.instance_types and g.capacity_type != "SPOT"),
                 *(n.instance_type for n in others if not n.spot)]
    return tuple(dict.fromkeys(d.label for t in on_demand
                               if (d := book.instance_discount(t)) is not None))


def _price_group(ctx: _Context, cluster: EksCluster, book: PriceBook, group: EksNodegroup,
                 tally: _Tally, notes: list[str]) -> None:
    """A managed node group: its desired size of its first instance type."""
    instance_type = group.instance_types[0] if group.instance_types else "unknown"
    spec = embedded_instance(instance_type)
    price = _node_price(ctx, book, cluster, instance_type, group.capacity_type == "SPOT",
                        _zones(ctx, group), f"Node group {group.name}", notes)
    if price is None or spec is None:
        tally.unpriced.append(f"{group.name} ({instance_type})")
        return
    hourly, basis = price
    tally.add(group.desired_size, spec, hourly)
    tally.parts.append(f"{group.name}: {group.desired_size} x {instance_type} x 730 h x "
                       f"${rate(hourly)}{basis}")
    if group.capacity_type == "SPOT" and len(group.instance_types) > 1:
        notes.append(f"Node group {group.name} runs Spot on {len(group.instance_types)} "
                     f"instance types: priced as its first, {instance_type}.")


def _price_others(ctx: _Context, cluster: EksCluster, book: PriceBook,
                  others: Sequence[ClusterNode], tally: _Tally, notes: list[str]
                  ) -> Line | None:
    """Nodes outside managed node groups, one by one, alike ones in one part; returns Auto
    Mode's fee on those it runs."""
    priced: Counter[tuple[str, str, float, str]] = Counter()
    fees: Counter[tuple[str, float]] = Counter()
    for node in others:
        spec = embedded_instance(node.instance_type)
        zones = (node.availability_zone,) if node.availability_zone else ()
        price = _node_price(ctx, book, cluster, node.instance_type, node.spot, zones,
                            f"{node.provisioner} node {node.instance_id}", notes)
        fee_hour = automode.fee_hour(book, node.instance_type)
        if price is None or spec is None:
            tally.unpriced.append(f"{node.instance_id} ({node.instance_type})")
            continue
        tally.add(1, spec, price[0])
        priced[(node.provisioner, node.instance_type, *price)] += 1
        if node.provisioner == "auto-mode" and fee_hour is not None:
            fees[(node.instance_type, fee_hour)] += 1
    tally.parts.extend(f"{provisioner}: {n} x {instance_type} x 730 h x ${rate(hourly)}{basis}"
                       for (provisioner, instance_type, hourly, basis), n
                       in sorted(priced.items()))
    if not fees:
        return None
    parts = [f"{n} x {instance_type} x 730 h x ${rate(hourly)} ({automode.FEE_SHARE:.0%} of "
             f"${rate(book.instance_hour(instance_type) or 0.0)} on-demand)"
             for (instance_type, hourly), n in sorted(fees.items())]
    return Line("auto_mode", sum(n * HOURS_PER_MONTH * hourly
                                 for (_, hourly), n in fees.items()),
                "; ".join(parts) + f" [EKS Auto Mode fee; {automode.SOURCE}, as of "
                                   f"{automode.AS_OF}]")


def _zones(ctx: _Context, group: EksNodegroup) -> tuple[str, ...]:
    """The Availability Zones of a node group's subnets, as far as they were read."""
    subnets = (ctx.inventory.subnet(group.scope, subnet_id) for subnet_id in group.subnet_ids)
    return tuple(sorted({s.availability_zone for s in subnets
                         if s is not None and s.availability_zone}))


def _on_demand(book: PriceBook, instance_type: str, hourly: float) -> tuple[float, str]:
    """An on-demand instance's $/hour at the book's effective rate, and, discounted, how."""
    discount = book.instance_discount(instance_type)
    if discount is None:
        return hourly, ""
    return hourly * (1 - discount.fraction), f" (${rate(hourly)} on demand{discount.formula()})"


def _node_price(ctx: _Context, book: PriceBook, cluster: EksCluster, instance_type: str,
                spot: bool, zones: Sequence[str], label: str, notes: list[str]
                ) -> tuple[float, str] | None:
    """$/hour of one node and how it was priced (said only for Spot): on-demand, or the mean
    Spot price in effect over its zones; on-demand, an upper bound, when no Spot price was
    read. None when the type is not in the price table."""
    on_demand = book.instance_hour(instance_type)
    if not spot:
        return None if on_demand is None else _on_demand(book, instance_type, on_demand)
    prices = ctx.inventory.spot_prices_of(cluster.scope, instance_type)
    chosen = [prices[zone] for zone in zones if zone in prices]
    if not chosen and prices:
        chosen = [prices[zone] for zone in sorted(prices)]
        where = ", ".join(zones) if zones else "its zones (its subnets were not read)"
        notes.append(f"{label}: no Spot price of {instance_type} read for {where}: the mean "
                     f"over every zone with one.")
    if not chosen:
        if on_demand is None:
            return None
        notes.append(f"{label} runs Spot, but no Spot price of {instance_type} could be read: "
                     "priced at on-demand (an upper bound).")
        return on_demand, " (on-demand: no Spot price read)"
    mean = sum(p.usd_per_hour for p in chosen) / len(chosen)
    if len(chosen) == 1:
        return mean, f" (Spot in {chosen[0].availability_zone})"
    each = ", ".join(f"{p.availability_zone} ${rate(p.usd_per_hour)}" for p in chosen)
    return mean, f" (Spot: the mean of {each})"


def _eks(ctx: _Context, cluster: EksCluster) -> WorkloadEstimate:
    book, a, window = ctx.book(cluster), ctx.a, ctx.window
    notes = ctx.general(book)
    scope = (cluster.account, cluster.region)
    groups = [g for g in ctx.inventory.eks_nodegroups
              if g.cluster_name == cluster.name and (g.account, g.region) == scope]
    profiles = [p for p in ctx.inventory.fargate_profiles
                if p.cluster_name == cluster.name and (p.account, p.region) == scope]
    extended = in_extended_support(cluster, ctx.now)
    control = control_plane_line(book, extended=extended, basis="this cluster")

    nodes = _nodes(ctx, cluster, book, groups, notes)
    vcpu, memory = nodes.vcpu, nodes.memory_gb
    lines = [control, *nodes.lines]
    if profiles:
        notes.append(f"{len(profiles)} Fargate profile(s): their pods are not visible without "
                     "the Kubernetes API and are not priced.")
    notes.append("Load balancers of the cluster's Kubernetes services are not attributed to "
                 "it.")
    current = Option("eks", tuple(lines), (), {"nodes": nodes.count, "vcpu": vcpu,
                                               "memory_gb": memory, "extended_support": extended})

    cpu = window.series(eks_query(cluster, "node_cpu_utilization"))
    mem = window.series(eks_query(cluster, "node_memory_utilization"))
    cpu_peak = cpu.percentile(99) if cpu is not None and not cpu.empty else None
    mem_peak = mem.maximum() if mem is not None and not mem.empty else None
    standard = Option("eks", (control_plane_line(book, basis="this cluster, on a version in "
                                                 "standard support"), *lines[1:]), (),
                      current.shape, ("upgraded to a version in standard support",)) \
        if extended else current
    graviton = _graviton_savings(book, groups)
    arm = [on_graviton(standard, graviton)] if graviton else []
    options = [standard, *arm, *_eks_on_fargate(book, a, nodes, cpu_peak, mem_peak, notes),
               Option("lambda", (), ("a cluster's pods are not visible to the auditor; "
                                     "move its services to Lambda one at a time",))]
    steps = [("extended_support", standard)] if extended else []
    steps += [("arm64", option) for option in arm]
    usage = {
        "graviton": {name: {"exact": line.exact, "arithmetic": line.formula}
                     for name, line in graviton.items()},
        "nodes": nodes.count, "vcpu": vcpu, "memory_gb": memory,
        "node_groups": [g.name for g in groups], "other_nodes": dict(nodes.others),
        "fargate_profiles": len(profiles),
        "version": cluster.version, "extended_support": extended,
        "utilization": {"cpu_peak_percent": _round(cpu_peak),
                        "memory_peak_percent": _round(mem_peak)},
    }
    return _finish(cluster, cluster.name, "eks", usage, current, options, _days(cpu),
                   cpu is not None, notes, steps)


def _graviton_savings(book: PriceBook, groups: Sequence[EksNodegroup]) -> dict[str, Line]:
    """What each on-demand x86 node group would save on Graviton, priced as the cluster's
    nodes are (its desired size of its first instance type). Spot groups are left out: the
    Graviton type's Spot price is not read."""
    found: dict[str, Line] = {}
    for group in groups:
        if group.capacity_type == "SPOT" or graviton_types(group.ami_type,
                                                           group.instance_types) is None:
            continue
        line = graviton_saving(book, group.instance_types[0], group.desired_size)
        if line is not None:
            found[group.name] = line
    return found


def _eks_on_fargate(book: PriceBook, a: Assumptions, nodes: _Nodes, cpu_peak: float | None,
                    memory_peak: float | None, notes: list[str]) -> list[Option]:
    """The cluster's workloads as ECS services on Fargate: one task per node's worth of pods,
    right-sized to the nodes' observed peaks; none when no node was priced."""
    if not (nodes.count and nodes.vcpu):
        notes.append("No priced nodes: no ECS option (the pods' size is unknown).")
        return []

    def month(size: FargateSize) -> float:
        return book.fargate_task_month(size.vcpu, size.memory_gb)

    units = round(nodes.vcpu / nodes.count * 1024)
    mib = round(nodes.memory_gb / nodes.count * 1024)
    size = cheapest_fitting(units, mib, month) or FargateSize(units, mib)
    best, sizing = right_size(size.cpu_units, size.memory_mib, cpu_peak, memory_peak,
                              a.target_utilization, month)
    if cpu_peak is None:
        sizing = (f"{best}, a node's capacity (no Container Insights node metrics: the "
                  "nodes are assumed fully used)")
    shape = TaskShape(nodes.count, best.vcpu, best.memory_gb,
                      f"one Fargate task per node's worth of pods; {sizing}")
    return fargate_options(book, shape, a, notes=(
        "the cluster's Kubernetes workloads rewritten as ECS services",))


# --------------------------------------------------------------------------- finishing


def _finish(resource: Resource, name: str, platform: str, usage: Mapping[str, Any],
            current: Option, options: Sequence[Option], days: float, fetched: bool,
            notes: list[str], steps: Sequence[tuple[str, Option]] = (),
            idle: bool = False) -> WorkloadEstimate:
    level = confidence(days, fetched)
    coverage = (f"Confidence {level}: {days:g} day(s) of hourly metrics"
                if fetched else f"Confidence {level}: no metrics (configuration only)")
    estimate = WorkloadEstimate(resource, name, platform, usage, current, tuple(options),
                                level, (), days, tuple(steps), idle)
    extra = [*notes, coverage + "."]
    if idle:
        extra.append("Idle: its whole cost is the saving, and nothing else is counted.")
    elif estimate.recommended is not current:
        story = "; ".join(part.rstrip(".") for part in _option_story(estimate.recommended))
        extra.append(f"Recommended {estimate.recommended.platform}"
                     + (f": {story}." if story else "."))
    return replace(estimate, assumptions=tuple(dict.fromkeys(map(shared, extra))))


def _option_story(option: Option) -> list[str]:
    story = [str(option.shape["sizing"])] if "sizing" in option.shape else []
    return story + list(option.notes)

