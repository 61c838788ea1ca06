"""What one workload costs a month on each platform: the lines, their arithmetic, and the
blockers that rule a platform out.

Everything here is a pure function of a usage shape, a `PriceBook` and the stated
`Assumptions`; the scan (`auditor.cost.workloads`) and `auditor estimate`
(`auditor.cost.scenario`) both price through it, so a figure means the same in both. Each
line keeps its unrounded value for arithmetic and shows the cents; an option's total is the
sum of the lines as shown, so the printed lines always add up.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from auditor.pricing.book import HOURS_PER_MONTH, SECONDS_PER_MONTH, PriceBook, cents, rate
from auditor.pricing.discounts import Discount
from auditor.pricing.fargate import FargateSize, cheapest_fitting

LAMBDA_MAX_DURATION_MS = 15 * 60 * 1000
LAMBDA_MAX_MEMORY_MB = 10_240
LAMBDA_MAX_VCPU = 6
LAMBDA_MB_PER_VCPU = 1769
"""Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB."""
EKS_FARGATE_POD_OVERHEAD_GB = 0.25
"""EKS on Fargate adds 256 MB to each pod's memory request for the Kubernetes components."""

FRONT_DOORS: Mapping[str, str] = {
    "apigw-http": "API Gateway HTTP API",
    "apigw-rest": "API Gateway REST API",
    "function-url": "a function URL",
    "alb": "an Application Load Balancer",
    "none": "direct invocation or an event source",
}
LAMBDA_PLATFORMS = {"x86_64": "lambda", "arm64": "lambda-arm"}


class Family(StrEnum):
    """The service that runs a workload: a change of family is a migration."""

    LAMBDA = "lambda"
    ECS = "ecs"
    EKS = "eks"


FAMILIES: Mapping[str, Family] = {
    "lambda": Family.LAMBDA, "lambda-arm": Family.LAMBDA, "ecs-fargate": Family.ECS,
    "ecs-fargate-arm": Family.ECS, "ecs-fargate-spot": Family.ECS, "ecs-ec2": Family.ECS,
    "eks": Family.EKS, "eks-arm": Family.EKS, "eks-fargate": Family.EKS}
"""Every platform the model prices, by family."""


@dataclass(frozen=True)
class Assumptions:
    """The model's stated assumptions; each option names the ones it used."""

    peak_factor: float = 3.0
    """Peak request rate over the average, when no peak was observed or stated."""
    rps_per_vcpu: float = 500.0
    """Requests a second one container vCPU serves at the target utilisation (short requests)."""
    in_flight_per_vcpu: float = 50.0
    """Requests one container vCPU holds in flight: caps the rate for slow requests."""
    min_tasks: int = 2
    """Tasks a container service keeps at least, for availability across two AZs."""
    target_utilization: float = 0.70
    """Right-sizing keeps the observed peak at or below this share of a task's CPU/memory."""
    kb_per_request: float = 10.0
    """Request plus response bytes through a load balancer, for the LCU model."""
    requests_per_connection: float = 10.0
    """Requests each new client connection carries (keep-alive), for the LCU model."""
    lambda_memory_cap_mb: int = 1024
    """Memory given to a container service's requests on Lambda: the task's, at most this."""
    task_vcpu: float = 1.0
    task_memory_gb: float = 2.0
    """The task shape a Lambda function moves to, grown to fit its memory and CPU share."""
    concurrency_limit: int = 1000
    """Lambda's default account concurrency: a steady peak above it is a blocker."""
    interruptible: bool = False
    """Whether Fargate Spot's 2-minute interruptions are acceptable for the workload."""
    idle_cpu_max_percent: float = 5.0
    """A Fargate service whose hourly CPU peak stayed below this all lookback is idle."""
    min_hours_of_data: int = 72
    """Hourly datapoints needed before a service is called idle."""
    provisioned_percentile: float = 95.0
    """Provisioned concurrency kept: this percentile of hourly peak utilisation."""


# --------------------------------------------------------------------------- lines and options


def shared(text: str) -> str:
    """One copy of each text: a scan prices tens of thousands of workloads, and their
    arithmetic, sizing, blockers and assumptions, each made anew by an f-string, repeat
    word for word across most of them."""
    return sys.intern(text)


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a bill: name, exact dollars, and the arithmetic that produced them."""

    name: str
    exact: float
    formula: str
    rates: tuple[str, ...] = ()
    """The discounts it was priced with (`Discount.label`); none: at list."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "formula", shared(self.formula))

    @property
    def usd(self) -> float:
        return cents(self.exact)


def at_rates(name: str, list_usd: float, formula: str, discount: Discount | None) -> Line:
    """A line at list price, or at the effective rate when the book discounts it: then its
    arithmetic ends with the discount and where it came from."""
    if discount is None:
        return Line(name, list_usd, formula)
    return Line(name, list_usd * (1 - discount.fraction), formula + discount.formula(),
                (discount.label,))


@dataclass(frozen=True, slots=True)
class Option:
    """A platform the workload could run on, what it would cost and what rules it out."""

    platform: str
    lines: tuple[Line, ...]
    blockers: tuple[str, ...] = ()
    shape: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """Assumptions this option rests on, beyond the workload's."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "blockers", tuple(map(shared, self.blockers)))
        object.__setattr__(self, "notes", tuple(map(shared, self.notes)))
        object.__setattr__(self, "shape", {key: shared(value) if isinstance(value, str)
                                           else value for key, value in self.shape.items()})

    @property
    def monthly_usd(self) -> float:
        """The sum of the lines as shown (each to the cent)."""
        return cents(sum(line.usd for line in self.lines))

    @property
    def exact(self) -> float:
        return sum(line.exact for line in self.lines)

    @property
    def feasible(self) -> bool:
        return not self.blockers

    @property
    def family(self) -> Family:
        return FAMILIES[self.platform]

    @property
    def rates(self) -> str:
        """`list`, or `effective: ` and the discounts its lines were priced with."""
        labels = dict.fromkeys(label for line in self.lines for label in line.rates)
        return "effective: " + "; ".join(labels) if labels else "list"

    def line(self, name: str) -> Line | None:
        return next((line for line in self.lines if line.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "monthly_usd": self.monthly_usd,
            "feasible": self.feasible,
            "blockers": list(self.blockers),
            "breakdown": {line.name: line.usd for line in self.lines},
            "arithmetic": {line.name: line.formula for line in self.lines},
            "shape": dict(self.shape),
            "assumptions": list(self.notes),
            "rates": self.rates,
        }


def cheapest(options: Sequence[Option]) -> Option | None:
    """The cheapest feasible option (ties: the earlier one), None if none is feasible."""
    feasible = [o for o in options if o.feasible]
    return min(feasible, key=lambda o: o.monthly_usd) if feasible else None


def count(value: float) -> str:
    """10000000 -> 10,000,000; 0.5 -> 0.5."""
    return f"{value:,.0f}" if value >= 100 or float(value).is_integer() else f"{value:,.3g}"


# --------------------------------------------------------------------------- traffic


@dataclass(frozen=True)
class Traffic:
    """Requests over a 730-hour month, their average duration, and the peak rate."""

    requests_per_month: float
    avg_duration_ms: float
    peak_rps: float
    peak_basis: str

    @property
    def avg_rps(self) -> float:
        return self.requests_per_month / SECONDS_PER_MONTH

    @property
    def peak_concurrency(self) -> float:
        return self.peak_rps * self.avg_duration_ms / 1000

    def scaled(self, requests_per_month: float) -> Traffic:
        """The same shape at another volume: the peak keeps its ratio to the average."""
        ratio = self.peak_rps / self.avg_rps if self.avg_rps > 0 else 0.0
        peak = requests_per_month / SECONDS_PER_MONTH * ratio
        return Traffic(requests_per_month, self.avg_duration_ms, peak, self.peak_basis)


def peak_from_average(requests_per_month: float, avg_duration_ms: float,
                      a: Assumptions) -> Traffic:
    avg = requests_per_month / SECONDS_PER_MONTH
    return Traffic(requests_per_month, avg_duration_ms, avg * a.peak_factor,
                   f"average {avg:,.2f} req/s x peak factor {a.peak_factor:g}")


# --------------------------------------------------------------------------- load balancer


def alb_line(prices: PriceBook, traffic: Traffic, a: Assumptions, *,
             monthly_usd: float | None = None, lambda_targets: bool = False,
             measured_lcu: float | None = None, share: float = 1.0,
             share_basis: str = "") -> Line:
    """An ALB: hours plus LCUs. LCUs are measured (`ConsumedLCUs`) or modelled from the
    request rate: the larger of new connections / 25 a second and processed GB an hour (1 GB
    per LCU for instance and IP targets, 0.4 GB for Lambda targets); active connections and
    rule evaluations are assumed not to dominate. `share` splits a shared ALB."""
    part = "" if share == 1.0 else f" x {share:.3g} share ({share_basis})"
    if monthly_usd is not None:
        return Line("load_balancer", monthly_usd * share, f"stated ${monthly_usd:,.2f}/month{part}")
    if measured_lcu is not None:
        lcu, how = measured_lcu, "measured ConsumedLCUs"
    else:
        new_connections = traffic.avg_rps / a.requests_per_connection
        gb_per_hour = traffic.avg_rps * 3600 * a.kb_per_request / 1e6
        gb_per_lcu = 0.4 if lambda_targets else 1.0
        lcu = max(new_connections / 25, gb_per_hour / gb_per_lcu)
        how = (f"max({new_connections:,.3g} new conn/s / 25, {gb_per_hour:,.3g} GB/h / "
               f"{gb_per_lcu:g})")
    exact = (HOURS_PER_MONTH * prices.alb_hour + HOURS_PER_MONTH * lcu * prices.alb_lcu_hour)
    return Line("load_balancer", exact * share,
                f"730 h x ${rate(prices.alb_hour)} + 730 h x {lcu:,.3g} LCU [{how}] x "
                f"${rate(prices.alb_lcu_hour)}/LCU-h{part}")


# --------------------------------------------------------------------------- NAT gateways, zones


def nat_gateway_line(prices: PriceBook, *, name: str = "nat_gateway", share: int = 1,
                     basis: str = "") -> Line:
    """A NAT gateway's hours for a month (its per-GB charge follows the bytes wherever they
    go). `share` splits one gateway over the subnets it would serve."""
    part = "" if share == 1 else f" / {share} ({basis})"
    return Line(name, HOURS_PER_MONTH * prices.nat_hour / share,
                f"730 h x ${rate(prices.nat_hour)}/h{part}")


def cross_az_line(prices: PriceBook, gb_per_month: float, basis: str, *, share: int = 1,
                  share_basis: str = "") -> Line:
    """Bytes moved between two Availability Zones of a region in a month; `share` splits
    them evenly over the subnets they may come from."""
    part = "" if share == 1 else f" / {share} ({share_basis})"
    return Line("cross_az_transfer", gb_per_month / share * prices.cross_az_gb,
                f"{count(gb_per_month)} GB/month [{basis}]{part} x "
                f"${rate(prices.cross_az_gb)}/GB")


def balancer_line(prices: PriceBook, lb_type: str, lcu: float, basis: str) -> Line:
    """An application or network load balancer kept for a month: its hours and the capacity
    units it used (LCUs; NLCUs for a network load balancer)."""
    if lb_type == "network":
        hour, unit_hour, unit = prices.nlb_hour, prices.nlb_lcu_hour, "NLCU"
    else:
        hour, unit_hour, unit = prices.alb_hour, prices.alb_lcu_hour, "LCU"
    return Line("load_balancer", HOURS_PER_MONTH * (hour + lcu * unit_hour),
                f"730 h x ${rate(hour)} + 730 h x {lcu:,.3g} {unit} [{basis}] x "
                f"${rate(unit_hour)}/{unit}-h")


@dataclass(frozen=True)
class Change:
    """What a change outside the workloads' own bills (deleting a NAT gateway, rerouting a
    subnet) saves a month: the lines it stops paying less the lines it adds, each shown."""

    removed: tuple[Line, ...]
    added: tuple[Line, ...] = ()

    @property
    def monthly_usd(self) -> float:
        """To the cent, from the lines as shown; negative when the change costs more."""
        return cents(sum(line.usd for line in self.removed)
                     - sum(line.usd for line in self.added))

    def evidence(self) -> dict[str, Any]:
        """The saving with its breakdown (added lines negative) and arithmetic."""
        total = " + ".join(f"${line.usd:,.2f}" for line in self.removed) + "".join(
            f" - ${line.usd:,.2f}" for line in self.added)
        return {
            "monthly_usd": self.monthly_usd,
            "breakdown": {**{line.name: line.usd for line in self.removed},
                          **{line.name: -line.usd for line in self.added}},
            "arithmetic": {line.name: line.formula for line in (*self.removed, *self.added)},
            "total": f"{total} = ${self.monthly_usd:,.2f}",
        }


# --------------------------------------------------------------------------- Lambda


@dataclass(frozen=True)
class LambdaShape:
    memory_mb: float
    arch: str
    """`x86_64` or `arm64`."""
    front_door: str
    """A key of FRONT_DOORS."""
    provisioned: int = 0
    """Provisioned-concurrency environments kept all month."""


def lambda_option(prices: PriceBook, traffic: Traffic, shape: LambdaShape, a: Assumptions, *,
                  front: Line | None = None, blockers: Sequence[str] = (),
                  notes: Sequence[str] = ()) -> Option:
    """Lambda: requests, duration (GB-seconds), provisioned concurrency, and the front door.
    `front` prices an ALB front door (see `alb_line`); API Gateway is priced per request."""
    n = traffic.requests_per_month
    seconds = traffic.avg_duration_ms / 1000
    gb = shape.memory_mb / 1024
    gb_s = n * seconds * gb
    lines: list[Line] = []
    free_note = ""

    billable = n
    if prices.free_tier:
        billable = max(0.0, n - prices.lambda_free_requests)
        free_note = f" (after the {count(prices.lambda_free_requests)} free)"
    per_million = prices.lambda_requests_per_million
    lines.append(Line("requests", billable / 1e6 * per_million,
                      f"{count(n)} x ${rate(per_million)}/M{free_note}"))

    on_demand_gb_s = gb_s
    discount = prices.discount("lambda")
    if shape.provisioned > 0:
        capacity = shape.provisioned * gb * SECONDS_PER_MONTH
        price = prices.provisioned_gb_s(shape.arch)
        lines.append(at_rates("provisioned_concurrency", capacity * price,
                              f"{shape.provisioned} x {gb:g} GB x {count(SECONDS_PER_MONTH)} s "
                              f"x ${rate(price)}/GB-s", discount))
        served = min(gb_s, capacity)
        on_demand_gb_s = gb_s - served
        duration_price = prices.provisioned_duration_gb_s(shape.arch)
        lines.append(at_rates("provisioned_duration", served * duration_price,
                              f"{count(served)} GB-s on provisioned environments x "
                              f"${rate(duration_price)}/GB-s", discount))
    price = prices.lambda_gb_s_price(shape.arch)
    billable_gb_s = on_demand_gb_s
    free_note = ""
    if prices.free_tier:
        billable_gb_s = max(0.0, on_demand_gb_s - prices.lambda_free_gb_s)
        free_note = f" (after the {count(prices.lambda_free_gb_s)} free GB-s)"
    if shape.provisioned > 0:
        formula = f"{count(on_demand_gb_s)} GB-s above the provisioned x ${rate(price)}/GB-s"
    else:
        formula = f"{count(n)} x {seconds:g} s x {gb:g} GB x ${rate(price)}/GB-s"
    lines.append(at_rates("duration", billable_gb_s * price, formula + free_note, discount))

    if shape.front_door == "apigw-http":
        lines.append(Line("api_gateway", n / 1e6 * prices.apigw_http_per_million,
                          f"{count(n)} x ${rate(prices.apigw_http_per_million)}/M (HTTP API)"))
    elif shape.front_door == "apigw-rest":
        lines.append(Line("api_gateway", n / 1e6 * prices.apigw_rest_per_million,
                          f"{count(n)} x ${rate(prices.apigw_rest_per_million)}/M (REST API)"))
    elif shape.front_door == "function-url":
        lines.append(Line("function_url", 0.0, "function URLs have no charge of their own"))
    elif shape.front_door == "alb" and front is not None:
        lines.append(front)

    found = list(blockers)
    if traffic.avg_duration_ms > LAMBDA_MAX_DURATION_MS:
        found.append(f"runs {traffic.avg_duration_ms / 60000:,.1f} min on average; Lambda "
                     "stops an invocation at 15 minutes")
    if shape.memory_mb > LAMBDA_MAX_MEMORY_MB:
        found.append(f"needs {shape.memory_mb:,.0f} MB; Lambda's maximum is 10,240 MB")
    if traffic.peak_concurrency > a.concurrency_limit:
        found.append(
            f"peak concurrency {traffic.peak_concurrency:,.0f} ({traffic.peak_rps:,.1f} req/s x "
            f"{traffic.avg_duration_ms / 1000:g} s) is above the {a.concurrency_limit:,} "
            "default account limit: steady high concurrency, where cold starts and the quota "
            "matter")
    return Option(
        LAMBDA_PLATFORMS.get(shape.arch, "lambda"), tuple(lines), tuple(dict.fromkeys(found)),
        {"arch": shape.arch, "memory_mb": shape.memory_mb, "front_door": shape.front_door,
         "provisioned_concurrency": shape.provisioned},
        tuple(notes),
    )


def lambda_vcpu_share(memory_mb: float) -> float:
    return memory_mb / LAMBDA_MB_PER_VCPU


# --------------------------------------------------------------------------- containers


@dataclass(frozen=True)
class TaskShape:
    tasks: int
    vcpu: float
    memory_gb: float
    basis: str
    """How the count and size were chosen, in words."""


def capacity_per_task(vcpu: float, avg_duration_ms: float, a: Assumptions) -> float:
    """Requests a second one task serves: `rps_per_vcpu` per vCPU, fewer for slow requests
    (at most `in_flight_per_vcpu` requests in flight per vCPU)."""
    per_vcpu = a.rps_per_vcpu
    if avg_duration_ms > 0:
        per_vcpu = min(per_vcpu, a.in_flight_per_vcpu / (avg_duration_ms / 1000))
    return vcpu * per_vcpu


def tasks_for(traffic: Traffic, vcpu: float, a: Assumptions) -> tuple[int, str]:
    """Tasks for the peak rate at the assumed per-task capacity, at least `min_tasks`."""
    capacity = capacity_per_task(vcpu, traffic.avg_duration_ms, a)
    needed = math.ceil(traffic.peak_rps / capacity - 1e-9) if capacity > 0 else a.min_tasks
    tasks = max(a.min_tasks, needed)
    return tasks, (
        f"peak {traffic.peak_rps:,.1f} req/s ({traffic.peak_basis}) / {capacity:,.0f} req/s "
        f"per {vcpu:g}-vCPU task (min({a.rps_per_vcpu:g} req/s, {a.in_flight_per_vcpu:g} in "
        f"flight / {traffic.avg_duration_ms / 1000:.3g} s) per vCPU) = {needed} task(s), at "
        f"least {a.min_tasks} for availability"
    )


def task_option(prices: PriceBook, shape: TaskShape, *, platform: str, arch: str = "X86_64",
                spot: bool = False, extra: Sequence[Line] = (), blockers: Sequence[str] = (),
                notes: Sequence[str] = ()) -> Option:
    """Always-on tasks for a 730-hour month, plus the load balancer and other `extra` lines."""
    vcpu_price, gb_price = prices.fargate_prices(arch)
    exact = shape.tasks * HOURS_PER_MONTH * (shape.vcpu * vcpu_price
                                             + shape.memory_gb * gb_price)
    formula = (f"{shape.tasks} task(s) x 730 h x ({shape.vcpu:g} vCPU x ${rate(vcpu_price)}"
               f"/vCPU-h + {shape.memory_gb:g} GB x ${rate(gb_price)}/GB-h)")
    if spot:
        # Savings Plans do not cover Spot: its own discount is the only one.
        exact *= 1 - prices.fargate_spot_discount
        formula += f" x (1 - {prices.fargate_spot_discount:.0%} Spot discount)"
    compute = at_rates("compute", exact, formula, None if spot else prices.discount("fargate"))
    return Option(
        platform, (compute, *extra), tuple(dict.fromkeys(blockers)),
        {"tasks": shape.tasks, "vcpu": shape.vcpu, "memory_gb": shape.memory_gb,
         "arch": arch.lower(), "spot": spot, "sizing": shape.basis},
        tuple(notes),
    )


SPOT_BLOCKER = ("Fargate Spot tasks can be stopped with a 2-minute warning; only for work "
                "that tolerates interruption (not assumed)")


def fargate_options(prices: PriceBook, shape: TaskShape, a: Assumptions, *,
                    extra: Sequence[Line] = (), on_spot: bool = False,
                    notes: Sequence[str] = (), blockers: Sequence[str] = ()) -> list[Option]:
    """ECS on Fargate: x86 and ARM on demand, and x86 Spot."""
    arm_note = ("ARM64 needs the image built for arm64 (a multi-arch image); assumed "
                "possible")
    return [
        task_option(prices, shape, platform="ecs-fargate", extra=extra, notes=notes,
                    blockers=blockers),
        task_option(prices, shape, platform="ecs-fargate-arm", arch="ARM64", extra=extra,
                    notes=(*notes, arm_note), blockers=blockers),
        task_option(prices, shape, platform="ecs-fargate-spot", spot=True, extra=extra,
                    blockers=(*blockers,
                              *(() if a.interruptible or on_spot else (SPOT_BLOCKER,))),
                    notes=(*notes, f"Spot priced at {prices.fargate_spot_discount:.0%} off "
                                   "on-demand, the most AWS quotes; actual Spot prices vary")),
    ]


def eks_pod_shape(prices: PriceBook, shape: TaskShape) -> TaskShape:
    """The same tasks as EKS Fargate pods: 256 MB more each, rounded up to a valid size."""
    size = cheapest_fitting(shape.vcpu * 1024, (shape.memory_gb + EKS_FARGATE_POD_OVERHEAD_GB)
                            * 1024, lambda s: prices.fargate_task_month(s.vcpu, s.memory_gb))
    if size is None:
        return shape
    return TaskShape(shape.tasks, size.vcpu, size.memory_gb,
                     f"{shape.basis}; as pods: + 0.25 GB each for EKS, rounded to {size}")


def control_plane_line(prices: PriceBook, *, share: float = 1.0, basis: str = "a cluster of "
                       "its own", extended: bool = False) -> Line:
    hourly = prices.eks_control_plane_hour(extended)
    support = "extended support" if extended else "standard support"
    part = "" if share == 1.0 else f" x {share:.3g}"
    return Line("control_plane", HOURS_PER_MONTH * hourly * share,
                f"730 h x ${rate(hourly)} ({support}){part} ({basis})")


def extended_support_extra(prices: PriceBook) -> Line:
    """What a month of extended support adds to a control plane."""
    extended, standard = prices.eks_control_plane_hour(True), prices.eks_control_plane_hour(False)
    return Line("extended_support", (extended - standard) * HOURS_PER_MONTH,
                f"(${rate(extended)} - ${rate(standard)})/h x {HOURS_PER_MONTH:g} h")


GRAVITON_FAMILIES: Mapping[str, str] = {
    "m5": "m6g", "m5a": "m6g", "m6i": "m6g", "m6a": "m6g", "m7i": "m7g", "m7a": "m7g",
    "c5": "c6g", "c5a": "c6g", "c6i": "c6g", "c6a": "c6g", "c7i": "c7g",
    "r5": "r6g", "r5a": "r6g", "r6i": "r6g", "r6a": "r6g", "r7i": "r7g",
    "t3": "t4g", "t3a": "t4g",
}
"""x86 instance family -> the Graviton (arm64) family of its class and generation, whose
sizes have the same vCPUs and memory."""


def graviton_equivalent(instance_type: str) -> str | None:
    """`m6i.large` -> `m6g.large`; None when the family has no Graviton counterpart."""
    family, _, size = instance_type.partition(".")
    arm = GRAVITON_FAMILIES.get(family)
    return f"{arm}.{size}" if arm and size else None


def graviton_types(ami_type: str | None, instance_types: Sequence[str]) -> dict[str, str] | None:
    """An x86 node group's instance types and their Graviton counterparts; None when it is on
    arm64 already, on Windows (no arm64 nodes), or runs a type without a counterpart."""
    ami = ami_type or ""
    if "ARM_64" in ami or ami.startswith("WINDOWS") or not instance_types:
        return None
    arm = {t: graviton_equivalent(t) for t in instance_types}
    return {t: a for t, a in arm.items() if a is not None} if all(arm.values()) else None


def graviton_saving(prices: PriceBook, instance_type: str, count: int) -> Line | None:
    """What `count` on-demand instances of an x86 type would save a month on the Graviton
    type of the same size; None when either price is unknown or it would save nothing."""
    arm = graviton_equivalent(instance_type)
    x86_hour = prices.instance_hour(instance_type)
    arm_hour = prices.instance_hour(arm) if arm else None
    if arm is None or x86_hour is None or arm_hour is None or arm_hour >= x86_hour:
        return None
    return Line("graviton", count * HOURS_PER_MONTH * (x86_hour - arm_hour),
                f"{count} x {HOURS_PER_MONTH:g} h x (${rate(x86_hour)} {instance_type} - "
                f"${rate(arm_hour)} {arm})")


def on_graviton(base: Option, savings: Mapping[str, Line]) -> Option:
    """`base` (an `eks` option) with its on-demand x86 node groups (`savings`, by group) on
    Graviton, as `eks-arm`: the nodes line less what each group saves."""
    total = sum(line.exact for line in savings.values())
    less = "; ".join(f"{name}: {line.formula}" for name, line in savings.items())
    lines = tuple(Line("nodes", line.exact - total, f"{line.formula}; less on Graviton ({less})",
                       line.rates) if line.name == "nodes" else line for line in base.lines)
    return replace(base, platform="eks-arm", lines=lines,
                   notes=(*base.notes, "x86 node groups on Graviton"))


def eks_option(prices: PriceBook, shape: TaskShape, *, control_plane: Line,
               extra: Sequence[Line] = (), notes: Sequence[str] = (),
               blockers: Sequence[str] = ()) -> Option:
    """EKS with the workload's pods on Fargate, carrying its share of the control plane."""
    return task_option(prices, eks_pod_shape(prices, shape), platform="eks",
                       extra=(control_plane, *extra), notes=notes, blockers=blockers)


def right_size(cpu_units: int, memory_mib: int, cpu_peak_percent: float | None,
               memory_peak_percent: float | None, target: float,
               month: Callable[[FargateSize], float]) -> tuple[FargateSize, str]:
    """The cheapest valid Fargate size keeping the observed peaks at or below `target`
    (the rule `ecs.task_overprovisioned` uses), never larger than the current size."""
    current = FargateSize(cpu_units, memory_mib)
    if cpu_peak_percent is None or memory_peak_percent is None:
        return current, "current size (no utilisation metrics to right-size from)"
    cpu_needed = cpu_units * cpu_peak_percent / 100 / target
    memory_needed = memory_mib * memory_peak_percent / 100 / target
    best = cheapest_fitting(cpu_needed, memory_needed, month)
    if best is None or month(best) >= month(current):
        return current, (f"current size {current} (peaks {cpu_peak_percent:.0f}% CPU, "
                         f"{memory_peak_percent:.0f}% memory leave no cheaper valid size "
                         f"under {target:.0%})")
    return best, (f"{best}: the cheapest valid size keeping the peaks ({cpu_peak_percent:.1f}% "
                  f"of {current.vcpu:g} vCPU, {memory_peak_percent:.1f}% of "
                  f"{current.memory_gb:g} GB) under {target:.0%}")
