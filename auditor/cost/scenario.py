"""`auditor estimate`: one stated workload priced on every platform, and where Lambda and
Fargate cross.

The scenario is what the user states (volume, duration, memory, front door, task shape); what
is not stated comes from `Assumptions` and is listed. The crossover is the monthly volume at
which the stated Lambda shape costs as much as the stated Fargate shape (`ecs-fargate`, x86 on
demand): with `--tasks` the task count stays as stated, otherwise it grows with the peak rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.cost.model import (
    FRONT_DOORS,
    LAMBDA_PLATFORMS,
    Assumptions,
    LambdaShape,
    Option,
    TaskShape,
    Traffic,
    alb_line,
    capacity_per_task,
    cheapest,
    control_plane_line,
    count,
    eks_option,
    fargate_options,
    lambda_option,
    peak_from_average,
    tasks_for,
)
from auditor.errors import ConfigError
from auditor.pricing.book import HOURS_PER_MONTH, SECONDS_PER_MONTH, PriceBook
from auditor.pricing.discounts import effective_rates
from auditor.pricing.fargate import FargateSize, cheapest_fitting, is_valid

CONTAINER_LINE = "ecs-fargate"
MAX_REQUESTS = 1e13
"""Beyond ten trillion requests a month there is no crossover worth reporting."""


@dataclass(frozen=True)
class Scenario:
    requests_per_month: float
    avg_duration_ms: float = 100.0
    memory_mb: float = 512.0
    arch: str = "x86_64"
    front_door: str = "apigw-http"
    peak_rps: float | None = None
    tasks: int | None = None
    vcpu: float = 1.0
    memory_gb: float = 2.0
    alb_monthly_usd: float | None = None
    prices: PriceBook = field(default_factory=PriceBook)
    assumptions: Assumptions = field(default_factory=Assumptions)

    def __post_init__(self) -> None:
        checks: list[tuple[str, float | None, float]] = [
            ("--requests-per-month", self.requests_per_month, 0),
            ("--avg-duration-ms", self.avg_duration_ms, 0),
            ("--memory-mb", self.memory_mb, 1),
            ("--vcpu", self.vcpu, 0.25),
            ("--memory-gb", self.memory_gb, 0.5),
            ("--peak-rps", self.peak_rps, 0),
            ("--alb-monthly-usd", self.alb_monthly_usd, 0),
        ]
        for flag, value, low in checks:
            if value is not None and not (math.isfinite(value) and value >= low):
                raise ConfigError(f"{flag} must be a number >= {low:g}, got {value:g}")
        if self.tasks is not None and self.tasks < 1:
            raise ConfigError(f"--tasks must be a whole number >= 1, got {self.tasks}")
        if self.arch not in LAMBDA_PLATFORMS:
            raise ConfigError(f"--arch must be x86_64 or arm64, got {self.arch!r}")
        if self.front_door not in FRONT_DOORS:
            raise ConfigError(f"--front-door must be one of {', '.join(FRONT_DOORS)}, "
                              f"got {self.front_door!r}")
        if self.size() is None:
            raise ConfigError(f"no Fargate task size has {self.vcpu:g} vCPU and "
                              f"{self.memory_gb:g} GB (largest: 16 vCPU, 120 GB)")

    def size(self) -> FargateSize | None:
        """The stated task size, or the cheapest valid Fargate size that holds it."""
        units, mib = round(self.vcpu * 1024), round(self.memory_gb * 1024)
        if is_valid(units, mib):
            return FargateSize(units, mib)
        return cheapest_fitting(self.vcpu * 1024, self.memory_gb * 1024,
                                lambda s: self.prices.fargate_task_month(s.vcpu, s.memory_gb))

    def traffic(self, requests_per_month: float | None = None) -> Traffic:
        """The stated traffic, or the same shape at another volume (for the crossover): the
        peak keeps its stated ratio to the average, else the peak factor applies."""
        n = self.requests_per_month if requests_per_month is None else requests_per_month
        if self.peak_rps is None:
            return peak_from_average(n, self.avg_duration_ms, self.assumptions)
        stated = Traffic(self.requests_per_month, self.avg_duration_ms, self.peak_rps,
                         "stated with --peak-rps")
        return stated if requests_per_month is None or stated.avg_rps == 0 else stated.scaled(n)


@dataclass(frozen=True)
class Estimate:
    scenario: Scenario
    traffic: Traffic
    options: tuple[Option, ...]
    crossover_requests_per_month: float | None
    assumptions: tuple[str, ...]

    @property
    def cheapest(self) -> Option | None:
        return cheapest(self.options)

    @property
    def lambda_platform(self) -> str:
        return LAMBDA_PLATFORMS[self.scenario.arch]

    def option(self, platform: str) -> Option:
        return next(o for o in self.options if o.platform == platform)

    def inputs(self) -> dict[str, Any]:
        s = self.scenario
        return {
            "requests_per_month": s.requests_per_month,
            "avg_duration_ms": s.avg_duration_ms,
            "memory_mb": s.memory_mb,
            "arch": s.arch,
            "front_door": s.front_door,
            "average_rps": round(self.traffic.avg_rps, 4),
            "peak_rps": round(self.traffic.peak_rps, 4),
            "peak_basis": self.traffic.peak_basis,
            "tasks": s.tasks,
            "vcpu": s.vcpu,
            "memory_gb": s.memory_gb,
            "alb_monthly_usd": s.alb_monthly_usd,
            "prices": s.prices.describe(),
        }

    def to_dict(self) -> dict[str, Any]:
        best = self.cheapest
        crossover = self.crossover_requests_per_month
        return {
            "inputs": self.inputs(),
            "options": [o.to_dict() for o in self.options],
            "cheapest": best.platform if best else None,
            "crossover_requests_per_month": None if crossover is None else round(crossover),
            "crossover_between": [self.lambda_platform, CONTAINER_LINE],
            "assumptions": list(self.assumptions),
        }


def options_at(s: Scenario, traffic: Traffic) -> list[Option]:
    """Every platform for the scenario at `traffic` (the stated volume, or another one)."""
    return [*lambda_options(s, traffic), *container_options(s, traffic)]


def lambda_options(s: Scenario, traffic: Traffic) -> list[Option]:
    """Lambda on x86_64 and arm64, behind the stated front door."""
    front = (alb_line(s.prices, traffic, s.assumptions, monthly_usd=s.alb_monthly_usd,
                      lambda_targets=True) if s.front_door == "alb" else None)
    return [lambda_option(s.prices, traffic, LambdaShape(s.memory_mb, arch, s.front_door),
                          s.assumptions, front=front) for arch in LAMBDA_PLATFORMS]


def container_options(s: Scenario, traffic: Traffic, tasks: int | None = None) -> list[Option]:
    a, prices = s.assumptions, s.prices
    size = s.size()
    assert size is not None
    if tasks is None and s.tasks is not None:
        tasks, basis = s.tasks, f"{s.tasks} task(s), stated with --tasks"
    elif tasks is None:
        tasks, basis = tasks_for(traffic, size.vcpu, a)
    else:
        basis = f"{tasks} task(s)"
    shape = TaskShape(tasks, size.vcpu, size.memory_gb, basis)
    front = [] if s.front_door == "none" else [
        alb_line(prices, traffic, a, monthly_usd=s.alb_monthly_usd)]
    blockers = _overloaded(tasks, size.vcpu, traffic, s)
    return [*fargate_options(prices, shape, a, extra=front, blockers=blockers),
            eks_option(prices, shape, control_plane=control_plane_line(prices), extra=front,
                       blockers=blockers)]


def _overloaded(tasks: int, vcpu: float, traffic: Traffic, s: Scenario) -> tuple[str, ...]:
    """Tasks too few for the peak at the assumed per-task capacity cannot carry the load:
    an option that cannot serve the traffic is no option, whatever it costs."""
    capacity = capacity_per_task(vcpu, traffic.avg_duration_ms, s.assumptions)
    if capacity <= 0 or traffic.peak_rps <= tasks * capacity:
        return ()
    needed = math.ceil(traffic.peak_rps / capacity)
    return (f"overloaded: {tasks} task(s) serve up to {tasks * capacity:,.0f} req/s at "
            f"{capacity:,.0f} req/s each; the peak of {traffic.peak_rps:,.1f} req/s needs "
            f"{traffic.peak_rps / (tasks * capacity):.0%} of that, so at least {needed} "
            "task(s)",)


def estimate(s: Scenario) -> Estimate:
    traffic = s.traffic()
    options = tuple(options_at(s, traffic))
    crossover = crossover_volume(s)
    return Estimate(s, traffic, options, crossover, tuple(_assumptions(s, traffic, options,
                                                                         crossover)))


# --------------------------------------------------------------------------- crossover


def crossover_volume(s: Scenario) -> float | None:
    """Requests a month at which the stated Lambda line costs as much as `ecs-fargate`."""
    platform = LAMBDA_PLATFORMS[s.arch]

    def lambda_cost(n: float) -> float:
        return next(o for o in lambda_options(s, s.traffic(n)) if o.platform == platform).exact

    def fargate_cost(n: float, tasks: int | None) -> float:
        options = container_options(s, s.traffic(n), tasks)
        return next(o for o in options if o.platform == CONTAINER_LINE).exact

    if s.tasks is not None:
        return _first_root(lambda n: lambda_cost(n) - fargate_cost(n, s.tasks), 0.0,
                           MAX_REQUESTS)
    # Tasks grow with the peak: segment k is the volume range run by k tasks.
    size = s.size()
    assert size is not None
    traffic = s.traffic()
    ratio = traffic.peak_rps / traffic.avg_rps if traffic.avg_rps > 0 else s.assumptions.peak_factor
    if ratio <= 0:
        return None
    width = capacity_per_task(size.vcpu, s.avg_duration_ms, s.assumptions) * SECONDS_PER_MONTH \
        / ratio
    if width <= 0:
        return None
    first = s.assumptions.min_tasks

    def gap_at_end(k: int) -> float:
        return lambda_cost(k * width) - fargate_cost(k * width, k)

    # The gap at each segment's end is affine in k: find the first k where it is >= 0.
    g1, g2 = gap_at_end(first), gap_at_end(first + 1)
    if g1 >= 0:
        k = first
    elif g2 <= g1:
        return None
    else:
        k = max(first, first + math.floor(-g1 / (g2 - g1)) - 2)
        while gap_at_end(k) < 0:
            k += 1
            if k * width > MAX_REQUESTS:
                return None
        while k > first and gap_at_end(k - 1) >= 0:
            k -= 1
    low = 0.0 if k == first else (k - 1) * width
    return _first_root(lambda n: lambda_cost(n) - fargate_cost(n, k), low, k * width)


def _first_root(gap: Callable[[float], float], low: float, high: float) -> float | None:
    """The smallest n in [low, high] with gap(n) >= 0, for a gap increasing in n."""
    if gap(high) < 0:
        return None
    if gap(low) >= 0:
        return low
    for _ in range(200):
        middle = (low + high) / 2
        if gap(middle) >= 0:
            high = middle
        else:
            low = middle
        if high - low <= max(1.0, high * 1e-12):
            break
    return math.ceil(high)


# --------------------------------------------------------------------------- assumptions


def _against_list(s: Scenario, traffic: Traffic, options: tuple[Option, ...]) -> list[str]:
    """Said when the discounts make another platform the cheapest than list prices would."""
    if not s.prices.discounts:
        return []
    listed = cheapest(options_at(replace(s, prices=s.prices.at_list()), traffic))
    best = cheapest(options)
    if listed is None or best is None or listed.platform == best.platform:
        return []
    return [f"Effective rates change the answer: at list prices {listed.platform} would be the "
            f"cheapest (${listed.monthly_usd:,.2f} a month); with the discounts, "
            f"{best.platform} is (${best.monthly_usd:,.2f})."]


def _assumptions(s: Scenario, traffic: Traffic, options: tuple[Option, ...],
                 crossover: float | None) -> list[str]:
    a = s.assumptions
    fargate = next(o for o in options if o.platform == CONTAINER_LINE)
    size = s.size()
    notes = [
        "A month is 730 hours (AWS's convention); tasks and load balancers run all of it.",
        f"Prices: {s.prices.source}, as of {s.prices.as_of}"
        + (f"; set by hand: {s.prices.describe()['overrides']}" if s.prices.overrides else "")
        + "." + ("" if s.prices.free_tier else " Free tiers are not applied."),
        *([effective_rates(s.prices.discounts)] if s.prices.discounts else []),
        f"Peak rate {traffic.peak_rps:,.2f} req/s: {traffic.peak_basis}.",
        f"Containers: {fargate.shape['sizing']}.",
    ]
    if size is not None and (size.vcpu, size.memory_gb) != (s.vcpu, s.memory_gb):
        notes.append(f"{s.vcpu:g} vCPU / {s.memory_gb:g} GB is not a Fargate size; priced as "
                     f"the cheapest valid size holding it, {size}.")
    if s.tasks is not None and size is not None:
        capacity = capacity_per_task(size.vcpu, s.avg_duration_ms, a)
        notes.append(
            f"Per-task capacity assumed {capacity:,.0f} req/s, so the stated {s.tasks} task(s) "
            f"serve up to {s.tasks * capacity:,.0f} req/s; the stated peak "
            f"{traffic.peak_rps:,.1f} req/s uses {traffic.peak_rps / (s.tasks * capacity):.0%}.")
    if s.front_door == "none":
        notes.append("No front door: the function is invoked directly or by an event source, "
                     "and containers would read the same source, so no load balancer is priced.")
    elif s.alb_monthly_usd is not None:
        notes.append(f"ALB cost stated: ${s.alb_monthly_usd:,.2f}/month.")
    else:
        notes.append(
            f"ALB priced from hours and LCUs: {a.kb_per_request:g} KB per request and "
            f"{a.requests_per_connection:g} requests per connection at the average rate; "
            "active connections and rule evaluations assumed not to dominate.")
    if s.front_door != "none":
        notes.append(f"Containers sit behind an ALB in place of {FRONT_DOORS[s.front_door]}.")
    notes.append("EKS: a cluster of its own (the full control plane) with the tasks as Fargate "
                 "pods.")
    if crossover is None:
        notes.append(f"The {LAMBDA_PLATFORMS[s.arch]} and {CONTAINER_LINE} lines do not cross "
                     f"below {count(MAX_REQUESTS)} requests/month for these shapes.")
    else:
        notes.append(
            f"Crossover: at {count(crossover)} requests/month the {LAMBDA_PLATFORMS[s.arch]} "
            f"line costs as much as {CONTAINER_LINE} "
            + ("with the stated task count." if s.tasks is not None else
               "with tasks sized from the peak at each volume.")
            + f" ({count(crossover / HOURS_PER_MONTH / 3600)} req/s on average.)")
    return [*notes, *_against_list(s, traffic, options)]
