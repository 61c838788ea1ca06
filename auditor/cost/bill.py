"""The cost model set against the bill (`--bill`): what Cost Explorer billed each platform in
each account and region, scaled to a 730-hour month as the model scales usage, beside what the
model prices there, and, concretely, what the model cannot see.

Pure: the bills (`auditor.collect.billing`) and the report's workloads in, the report's
`billing` section out. `billed_usd` is NetAmortizedCost, what the account pays; a workload's
current cost is split by its lines into the service that bills each (a function's share of
its ALB is Elastic Load Balancing's, a cluster's nodes are EC2's), so `modelled_usd` across a
scope's rows adds up to its workloads' `current_monthly_usd`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.collect.billing import API_GATEWAY, EC2, ECS, EKS, ELB, LAMBDA, Bill, BilledCost
from auditor.cost.priced import PricedWorkload
from auditor.pricing.book import HOURS_PER_MONTH, cents

PLATFORMS: Mapping[str, str] = {
    "lambda": "Lambda", "ecs-fargate": "ECS on Fargate", "eks": "EKS", "ec2": "EC2 instances",
    "api-gateway": "API Gateway", "elb": "Elastic Load Balancing",
}
"""The platforms reconciled, in report order, with what the sentences call them."""
SERVICE_PLATFORMS: Mapping[str, str] = {
    LAMBDA: "lambda", ECS: "ecs-fargate", EKS: "eks", EC2: "ec2", API_GATEWAY: "api-gateway",
    ELB: "elb",
}
_LINE_PLATFORMS = {"load_balancer": "elb", "api_gateway": "api-gateway", "nodes": "ec2",
                   "control_plane": "eks", "extended_support": "eks"}
_WORKLOAD_PLATFORMS = {"lambda": "lambda", "ecs-fargate": "ecs-fargate", "ecs-ec2": "ec2",
                       "eks": "eks"}
_INSTANCE_USAGE = ("BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage", "HeavyUsage",
                   "UnusedBox", "UnusedDed")
"""EC2 usage types that are instance hours (on-demand, Spot, dedicated, reserved); the rest
of EC2 compute is CPU credits and the like."""
REQUEST_USD = 0.01
"""What Cost Explorer charges a request."""
SOURCE = ("Cost Explorer GetCostAndUsage: NetAmortizedCost by day, from the first day a "
          "platform shows cost in the window, scaled to a 730-hour month")


@dataclass(frozen=True)
class Reconciled:
    """One platform in one account and region: billed against modelled."""

    account: str
    region: str
    platform: str
    billed_usd: float
    modelled_usd: float
    explained_ratio: float | None
    """modelled / billed; None when nothing was billed."""

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "region": self.region, "platform": self.platform,
                "billed_usd": self.billed_usd, "modelled_usd": self.modelled_usd,
                "explained_ratio": self.explained_ratio}


@dataclass(frozen=True)
class Billing:
    """The report's `billing` section."""

    source: str
    start: date
    end: date
    """Exclusive, as Cost Explorer's `TimePeriod`."""
    calls: int
    by_platform: tuple[Reconciled, ...] = ()
    effective_discount: Mapping[str, float] = field(default_factory=dict)
    """1 - NetAmortizedCost / UnblendedCost by platform, where the bill shows a discount."""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source,
                "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
                "calls": self.calls,
                "by_platform": [row.to_dict() for row in self.by_platform],
                "effective_discount": dict(self.effective_discount),
                "notes": list(self.notes)}

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def heading(self) -> str:
        last = date.fromordinal(self.end.toordinal() - 1)
        return (f"{self.start} to {last} ({self.days} days), {self.calls} Cost Explorer "
                f"request(s) (${self.calls * REQUEST_USD:.2f})")

    def discounts(self) -> str | None:
        """The effective discounts in words, when the bill shows any."""
        shown = [f"{PLATFORMS.get(p, p)} {ratio:.0%}" for p, ratio in
                 self.effective_discount.items() if round(ratio, 2)]
        if not shown:
            return None
        return ("Billed below unblended cost (Savings Plans, Reserved Instances, credits or "
                "private pricing): " + ", ".join(shown) + ".")

    def sentences(self) -> list[str]:
        """Each row in words: "The model explains 94% of billed Lambda in us-east-1 ..."."""
        many = len({row.account for row in self.by_platform}) > 1
        return [explained(row, many) for row in self.by_platform]


def explained(row: Reconciled, with_account: bool = False) -> str:
    label, where = PLATFORMS.get(row.platform, row.platform), _where(row, with_account)
    if row.explained_ratio is None:
        return (f"Cost Explorer billed no {label} in {where}; the model prices "
                f"${row.modelled_usd:,.2f} a month there")
    return (f"The model explains {row.explained_ratio:.0%} of billed {label} in {where} "
            f"(${row.modelled_usd:,.2f} of ${row.billed_usd:,.2f} a month)")


def _where(row: Reconciled, with_account: bool) -> str:
    return f"{row.account}/{row.region}" if with_account else row.region


# --------------------------------------------------------------------------- the model's side


def modelled(workloads: Iterable[PricedWorkload]) -> dict[tuple[str, str, str], float]:
    """(account, region, platform) -> the workloads' current monthly cost billed there."""
    found: dict[tuple[str, str, str], float] = defaultdict(float)
    for workload in workloads:
        account, region = workload.account, workload.region
        own = _platform_of(workload.platform)
        lines = workload.current.lines if workload.current is not None else ()
        for line in lines:
            found[(account, region, _LINE_PLATFORMS.get(line.name, own))] += line.usd
        # Lines are rounded to the cent: what they leave of the total is the workload's own.
        found[(account, region, own)] += (workload.current_monthly_usd
                                          - sum(line.usd for line in lines))
    return found


def _platform_of(workload_platform: str) -> str:
    return _WORKLOAD_PLATFORMS.get(workload_platform, workload_platform)


# --------------------------------------------------------------------------- the bill's side


@dataclass
class _Billed:
    """One platform in one region: raw window sums, and the parts the notes name."""

    net: float = 0.0
    unblended: float = 0.0
    first: date | None = None
    parts: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Net cost of `instance_hours`, `other_ec2`, `eks_fargate`, `other_ecs`."""
    instance_hours: float = 0.0

    def add(self, cost: BilledCost, platform: str) -> None:
        self.net += cost.net_amortized_usd
        self.unblended += cost.unblended_usd
        if cost.net_amortized_usd or cost.unblended_usd:
            self.first = cost.day if self.first is None else min(self.first, cost.day)
        part = _part(cost, platform)
        if part:
            self.parts[part] += cost.net_amortized_usd
        if part == "instance_hours":
            self.instance_hours += cost.usage_quantity


def _part(cost: BilledCost, platform: str) -> str | None:
    fargate = "Fargate" in cost.usage_type
    if platform == "ec2":
        return ("instance_hours" if any(kind in cost.usage_type for kind in _INSTANCE_USAGE)
                else "other_ec2")
    if platform == "eks" and fargate:
        return "eks_fargate"
    if platform == "ecs-fargate" and not fargate:
        return "other_ecs"
    return None


def _month_scale(billed: _Billed, end: date) -> float:
    """The window's sum scaled to a 730-hour month over the days since the first cost, as the
    model scales usage over the hours it saw."""
    if billed.first is None:
        return 0.0
    return HOURS_PER_MONTH / (24 * max(1, (end - billed.first).days))


# --------------------------------------------------------------------------- reconciling


def reconcile(bills: Sequence[Bill], workloads: Sequence[PricedWorkload], start: date,
              end: date, source: str = SOURCE) -> Billing:
    model = modelled(workloads)
    rows: list[Reconciled] = []
    notes: list[str] = []
    net: dict[str, float] = defaultdict(float)
    unblended: dict[str, float] = defaultdict(float)
    if bills and not workloads:
        notes.append("No workloads were priced in this scan (none was found, or the selected "
                     "checks read no costs): every modelled figure is zero.")
    for bill in sorted(bills, key=lambda b: b.account):
        unread = {SERVICE_PLATFORMS[s] for s in bill.unread if s in SERVICE_PLATFORMS}
        for reason in sorted(set(bill.unread.values())):
            services = sorted(s for s, why in bill.unread.items() if why == reason)
            notes.append(f"Cost Explorer could not be read for account {bill.account} "
                         f"({', '.join(services)}): {reason}. Not reconciled; see errors.")
        billed: dict[tuple[str, str], _Billed] = defaultdict(_Billed)
        for cost in bill.costs:
            platform = SERVICE_PLATFORMS.get(cost.service)
            if platform is not None and cost.region in bill.regions:
                billed[(cost.region, platform)].add(cost, platform)
        scopes = set(billed) | {(region, platform) for (account, region, platform) in model
                                if account == bill.account and region in bill.regions}
        for region, platform in sorted(scopes, key=_order):
            if platform in unread:
                continue
            found = billed.get((region, platform), _Billed())
            scale = _month_scale(found, bill.end)
            row = _row(bill.account, region, platform, found.net * scale,
                       model.get((bill.account, region, platform), 0.0))
            if not (row.billed_usd or row.modelled_usd):
                continue
            rows.append(row)
            net[platform] += found.net * scale
            unblended[platform] += found.unblended * scale
            notes.extend(_notes(row, found, scale))
    return Billing(source, start, end, sum(bill.calls for bill in bills), tuple(rows),
                   _discounts(net, unblended), tuple(notes))


def _order(key: tuple[str, str]) -> tuple[str, int]:
    region, platform = key
    return region, list(PLATFORMS).index(platform) if platform in PLATFORMS else len(PLATFORMS)


def _row(account: str, region: str, platform: str, billed: float, model: float) -> Reconciled:
    billed, model = cents(billed), cents(model)
    return Reconciled(account, region, platform, billed, model,
                      round(model / billed, 4) if billed > 0 else None)


def _notes(row: Reconciled, billed: _Billed, scale: float) -> list[str]:
    """What the model cannot see in this row, in dollars a month. Notes name the account:
    merged reports join them."""
    where, label = _where(row, True), PLATFORMS.get(row.platform, row.platform)
    part = {name: cents(usd * scale) for name, usd in billed.parts.items()}
    notes: list[str] = []
    if row.platform == "ec2":
        hours = part.get("instance_hours", 0.0)
        if hours > row.modelled_usd:
            notes.append(
                f"EC2 instance hours not in any node group or ECS cluster: "
                f"${hours - row.modelled_usd:,.2f}/month in {where} (instance hours billed "
                f"${hours:,.2f}/month, {billed.instance_hours:,.0f} hours in the window; the "
                f"node groups and container instances the model prices "
                f"${row.modelled_usd:,.2f}).")
        if part.get("other_ec2", 0.0) > 0:
            notes.append(f"EC2 compute other than instance hours (CPU credits and the like) in "
                         f"{where}: ${part['other_ec2']:,.2f}/month, not modelled.")
    elif row.platform == "eks" and part.get("eks_fargate", 0.0) > 0:
        notes.append(f"EKS Fargate pods in {where}: ${part['eks_fargate']:,.2f}/month billed; "
                     "the model cannot see pods without the Kubernetes API.")
    elif row.platform == "ecs-fargate" and part.get("other_ecs", 0.0) > 0:
        notes.append(f"ECS usage other than Fargate tasks (data transfer and the like) in "
                     f"{where}: ${part['other_ecs']:,.2f}/month, not modelled.")
    elif row.platform == "api-gateway" and _short(row):
        notes.append(f"API Gateway billed ${row.billed_usd:,.2f}/month in {where}; the model "
                     "prices it only for the functions it knows sit behind an API "
                     f"(${row.modelled_usd:,.2f}).")
    elif row.platform == "elb" and _short(row):
        notes.append(f"Elastic Load Balancing billed ${row.billed_usd:,.2f}/month in {where}; "
                     "the model counts only the share of the load balancers in front of the "
                     f"services and functions it prices (${row.modelled_usd:,.2f}).")
    if row.explained_ratio is None:
        notes.append(f"Cost Explorer shows no {label} cost in {where} for the window, though "
                     f"the model prices ${row.modelled_usd:,.2f}/month there: resources newer "
                     "than the bill's last day, or credits that cover them.")
    elif row.explained_ratio < 0.5 and not notes:
        notes.append(f"The model explains {row.explained_ratio:.0%} of billed {label} in "
                     f"{where}: the rest is usage it does not see (resources deleted during "
                     "the window, or not read: see errors).")
    return notes


def _short(row: Reconciled) -> bool:
    """The model explains less than 90% of what was billed."""
    return row.explained_ratio is not None and row.explained_ratio < 0.9


def _discounts(net: Mapping[str, float], unblended: Mapping[str, float]) -> dict[str, float]:
    """1 - net / unblended by platform. Net amortized above unblended is no discount to read
    (a Savings Plan's fee, for one, is billed apart from the usage it covers in the unblended
    view), so it is left out."""
    ratios = {platform: round(1 - net.get(platform, 0.0) / unblended[platform], 4)
              for platform in PLATFORMS if unblended.get(platform, 0.0) > 0}
    return {platform: ratio for platform, ratio in ratios.items() if ratio >= 0}


# --------------------------------------------------------------------------- merging


def combine(sections: Sequence[Billing | None]) -> Billing | None:
    """The billing of reports merged (shards of one scan): rows joined (the first of a
    repeated account, region and platform kept), calls added, discounts recomputed from each
    report's kept rows; reports without a section are named in the notes."""
    present = [s for s in sections if s is not None]
    if not present:
        return None
    rows: dict[tuple[str, str, str], Reconciled] = {}
    for section in present:
        for row in section.by_platform:
            rows.setdefault((row.account, row.region, row.platform), row)
    notes = list(dict.fromkeys(note for s in present for note in s.notes))
    missing = len(sections) - len(present)
    if missing:
        notes.append(f"{missing} of {len(sections)} reports carry no billing (scanned without "
                     "--bill): their accounts and regions are not reconciled.")
    windows = sorted({(s.start, s.end) for s in present})
    if len(windows) > 1:
        notes.append("The reports' billing windows differ ("
                     + ", ".join(f"{a} to {b}" for a, b in windows)
                     + "): each row is a month over its own window.")
    # A report's unblended cost is what its rows paid over (1 - its discount).
    net: dict[str, float] = defaultdict(float)
    unblended: dict[str, float] = defaultdict(float)
    for section in present:
        for platform, ratio in section.effective_discount.items():
            paid = sum(row.billed_usd for row in section.by_platform if row.platform == platform
                       and rows[(row.account, row.region, row.platform)] is row)
            if ratio < 1:
                net[platform] += paid
                unblended[platform] += paid / (1 - ratio)
    return Billing(present[0].source, windows[0][0], max(end for _, end in windows),
                   sum(s.calls for s in present), tuple(rows.values()),
                   _discounts(net, unblended), tuple(notes))
