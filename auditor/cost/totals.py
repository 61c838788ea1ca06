"""Report totals over the priced workloads: current spend, by platform and by account and
region, and how many workloads the model would move where. Savings are not totalled here:
the report has one savings total, what its findings claim (`Report.savings_by_kind`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from auditor.cost.priced import PricedWorkload
from auditor.pricing.book import cents


def _add(into: dict[str, Any], workload: PricedWorkload) -> None:
    into["workloads"] += 1
    into["current_monthly_usd"] += workload.current_monthly_usd


def _empty() -> dict[str, Any]:
    return {"workloads": 0, "current_monthly_usd": 0.0}


def _rounded(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: cents(value) if isinstance(value, float) else value
            for key, value in entry.items()}


def cost_totals(workloads: Iterable[PricedWorkload]) -> dict[str, Any]:
    total = _empty()
    platforms: dict[str, dict[str, Any]] = defaultdict(_empty)
    scopes: dict[tuple[str, str], dict[str, Any]] = defaultdict(_empty)
    recommended: dict[str, int] = defaultdict(int)
    for workload in workloads:
        _add(total, workload)
        _add(platforms[workload.platform], workload)
        _add(scopes[(workload.account, workload.region)], workload)
        if (workload.monthly_savings_usd or 0.0) > 0:
            recommended[str(workload.recommended_platform)] += 1
    return {
        **_rounded(total),
        "by_platform": {name: _rounded(entry) for name, entry in sorted(platforms.items())},
        "by_account_region": [
            {"account": account, "region": region, **_rounded(entry)}
            for (account, region), entry in sorted(scopes.items())
        ],
        "recommended_moves": dict(sorted(recommended.items())),
    }
