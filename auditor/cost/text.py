"""Plain-text rendering of cost options: each line of each bill with its arithmetic."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.cost.model import FRONT_DOORS, Option, count
from auditor.cost.scenario import CONTAINER_LINE, Estimate

_NAME = 24
_AMOUNT = 12


def money(value: float) -> str:
    return f"${value:,.2f}"


def option_lines(option: Option, width: int = 70) -> list[str]:
    """The option's header with its total, then one line per charge with its arithmetic,
    amounts aligned after `width` characters of text."""
    status = "" if option.feasible else "  (not feasible)"
    lines = [f"{option.platform:<{_NAME}}{_describe(option):<{width}}"
             f"{money(option.monthly_usd) + '/month':>{_AMOUNT + 6}}{status}"]
    for line in option.lines:
        lines.append(f"  {line.name:<{_NAME - 2}}{line.formula:<{width}}"
                     f"{money(line.usd):>{_AMOUNT}}")
    lines.extend(f"  ! {blocker}" for blocker in option.blockers)
    return lines


def text_width(options: Iterable[Option]) -> int:
    return max((len(text) for o in options
                for text in (_describe(o), *(line.formula for line in o.lines))), default=40) + 2


def _describe(option: Option) -> str:
    shape = option.shape
    if "front_door" in shape:
        return (f"{shape['memory_mb']:g} MB, {shape['arch']}, behind "
                f"{FRONT_DOORS.get(str(shape['front_door']), shape['front_door'])}")
    if "tasks" in shape:
        extra = ", Spot" if shape.get("spot") else ""
        return (f"{shape['tasks']} x ({shape['vcpu']:g} vCPU, {shape['memory_gb']:g} GB), "
                f"{shape['arch']}{extra}")
    return ""


def bullet(items: Iterable[str]) -> list[str]:
    return [f"  - {item}" for item in items]


def render_estimate(estimate: Estimate) -> str:
    s, traffic = estimate.scenario, estimate.traffic
    out = [
        f"Workload: {count(s.requests_per_month)} requests/month ({traffic.avg_rps:,.2f} req/s "
        f"average, peak {traffic.peak_rps:,.2f} req/s), {s.avg_duration_ms:g} ms average",
        f"Prices: {s.prices.source}, as of {s.prices.as_of}"
        + (f"; set by hand: {s.prices.describe()['overrides']}" if s.prices.overrides else ""),
        *([f"Rates: effective, {s.prices.describe()['discounts']}"] if s.prices.discounts
          else []),
        "",
    ]
    width = text_width(estimate.options)
    for option in estimate.options:
        out.extend(option_lines(option, width))
        out.append("")
    best = estimate.cheapest
    out.append(f"Cheapest feasible: {best.platform}, {money(best.monthly_usd)}/month"
               if best else "Cheapest feasible: none")
    crossover = estimate.crossover_requests_per_month
    out.append(
        f"Crossover: {count(crossover)} requests/month ({estimate.lambda_platform} = "
        f"{CONTAINER_LINE})" if crossover is not None else
        f"Crossover: none ({estimate.lambda_platform} and {CONTAINER_LINE} do not cross)")
    out.extend(["", "Assumptions:", *bullet(estimate.assumptions)])
    return "\n".join(out) + "\n"
