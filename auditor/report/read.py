"""Reading a saved JSON report back into a `Report`, for `auditor report`, `diff` and
`--baseline`.

Anything that is not a compute-auditor report of a schema version this version reads fails
with one `ReportError` line that names the file and the field, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast, get_args

from auditor.cost.bill import Billing, Reconciled
from auditor.cost.model import FAMILIES, Line, Option
from auditor.cost.optimizer import STATUSES, OptimizerEvidence
from auditor.cost.priced import Confidence, PricedWorkload
from auditor.errors import ReportError
from auditor.findings import Category, Finding, Severity
from auditor.model import OptimizerEnrollment, OptimizerRecommendation, OptimizerSaving
from auditor.report.document import (
    SCHEMA_VERSION,
    Delivery,
    DeliveryStatus,
    ErrorEntry,
    Report,
    Stats,
)

T = TypeVar("T")


class _Bad(Exception):
    """A field of the document is missing or of the wrong kind; `where` is its path."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)


def _get(obj: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], where: str,
         default: Any = ...) -> T:
    if key not in obj:
        if default is ...:
            raise _Bad(f"{where}.{key}".lstrip("."), "missing")
        return default  # type: ignore[no-any-return]
    value = obj[key]
    if (isinstance(value, bool) and kind not in (bool, (bool,))) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise _Bad(f"{where}.{key}".lstrip("."), f"expected {names}, got {value!r:.60}")
    return value  # type: ignore[return-value]


def _list(obj: Mapping[str, Any], key: str, where: str, item: Callable[[Any, str], T],
          default: Any = ...) -> tuple[T, ...]:
    values: list[Any] = _get(obj, key, list, where, [] if default is not ... else ...)
    return tuple(item(value, f"{where}.{key}[{i}]".lstrip(".")) for i, value in enumerate(values))


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(where, f"expected an object, got {value!r:.60}")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _Bad(where, f"expected a string, got {value!r:.60}")
    return value


def _enum(value: str, kind: Callable[[str], T], where: str, names: list[str]) -> T:
    try:
        return kind(value)
    except ValueError:
        raise _Bad(where, f"{value!r} is not one of {', '.join(names)}") from None


def _finding(value: Any, where: str) -> Finding:
    obj = _object(value, where)
    status = _get(obj, "status", str, where)
    if status not in ("fail", "unknown"):
        raise _Bad(f"{where}.status", f"{status!r} is not one of fail, unknown")
    savings: float | None = _get(obj, "monthly_savings_usd", (int, float, type(None)), where,
                                 None)
    finding = Finding(
        check_id=_get(obj, "check_id", str, where),
        title=_get(obj, "title", str, where),
        severity=_enum(_get(obj, "severity", str, where), Severity, f"{where}.severity",
                       [s.value for s in Severity]),
        category=_enum(_get(obj, "category", str, where), Category, f"{where}.category",
                       [c.value for c in Category]),
        status="fail" if status == "fail" else "unknown",
        resource_arn=_get(obj, "resource_arn", str, where),
        resource_type=_get(obj, "resource_type", str, where),
        account=_get(obj, "account", str, where),
        region=_get(obj, "region", str, where),
        message=_get(obj, "message", str, where),
        evidence=_get(obj, "evidence", dict, where, {}),
        remediation=_get(obj, "remediation", str, where, ""),
        monthly_savings_usd=None if savings is None else float(savings),
        savings_kind=_get(obj, "savings_kind", (str, type(None)), where, None),
        sub_key=_get(obj, "sub_key", str, where, ""),
        suppressed=_get(obj, "suppressed", bool, where, False),
        suppression_reason=_get(obj, "suppression_reason", (str, type(None)), where, None),
    )
    stated = _get(obj, "fingerprint", str, where)
    if stated != finding.fingerprint:
        raise _Bad(f"{where}.fingerprint", f"{stated!r} does not match its check and resource "
                   f"({finding.fingerprint}); was the file edited?")
    return finding


def _error(value: Any, where: str) -> ErrorEntry:
    obj = _object(value, where)
    return ErrorEntry(
        account=_get(obj, "account", str, where),
        region=_get(obj, "region", str, where),
        service=_get(obj, "service", str, where),
        operation=_get(obj, "operation", str, where),
        code=_get(obj, "code", str, where),
        message=_get(obj, "message", str, where, ""),
        checks_affected=_list(obj, "checks_affected", where, _string, ()),
        resources=_list(obj, "resources", where, _string, ()),
    )


def _delivery(value: Any, where: str) -> Delivery:
    obj = _object(value, where)
    status = _get(obj, "status", str, where)
    if status not in get_args(DeliveryStatus):
        raise _Bad(f"{where}.status", f"{status!r} is none of sent, skipped, failed")
    return Delivery(target=_get(obj, "target", str, where), status=cast(DeliveryStatus, status),
                    reason=_get(obj, "reason", str, where, ""),
                    attempts=_get(obj, "attempts", int, where, 0))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(where, f"expected a number, got {value!r:.60}")
    return float(value)


def _required(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise _Bad(f"{where}.{key}", "missing")
    return obj[key]


def _maybe_number(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    return None if value is None else _number(value, f"{where}.{key}")


def _platform(obj: Mapping[str, Any], where: str) -> str:
    platform = _get(obj, "platform", str, where)
    if platform not in FAMILIES:
        raise _Bad(f"{where}.platform", f"{platform!r} is not one of {', '.join(FAMILIES)}")
    return platform


def _lines(obj: Mapping[str, Any], where: str) -> tuple[Line, ...]:
    """An option's lines from its `breakdown` and `arithmetic`. The report states the
    discounts of the option, not of each line: every line carries the option's."""
    arithmetic = _get(obj, "arithmetic", dict, where, {})
    rates = _get(obj, "rates", str, where, "list")
    if rates != "list" and not rates.startswith("effective: "):
        raise _Bad(f"{where}.rates", f"{rates!r} is neither 'list' nor 'effective: ...'")
    labels = () if rates == "list" else (rates.removeprefix("effective: "),)
    return tuple(
        Line(str(name), _number(usd, f"{where}.breakdown.{name}"),
             _string(arithmetic.get(name, ""), f"{where}.arithmetic.{name}"), labels)
        for name, usd in _get(obj, "breakdown", dict, where).items())


def _adds_up(option: Option, stated: float, where: str) -> None:
    if stated != option.monthly_usd:
        raise _Bad(where, f"{stated:,.2f} is not the sum of its breakdown "
                          f"({option.monthly_usd:,.2f}); was the file edited?")


def _option(value: Any, where: str) -> Option:
    obj = _object(value, where)
    option = Option(_platform(obj, where), _lines(obj, where),
                    _list(obj, "blockers", where, _string),
                    _get(obj, "shape", dict, where, {}),
                    _list(obj, "assumptions", where, _string, ()))
    _adds_up(option, _number(_required(obj, "monthly_usd", where), f"{where}.monthly_usd"),
             f"{where}.monthly_usd")
    if _get(obj, "feasible", bool, where) != option.feasible:
        raise _Bad(f"{where}.feasible", "disagrees with its blockers; was the file edited?")
    return option


def _current(obj: Mapping[str, Any], total: float, where: str) -> Option | None:
    found: dict[str, Any] | None = _get(obj, "current", (dict, type(None)), where, None)
    if found is None:
        return None
    at = f"{where}.current"
    current = Option(_platform(found, at), _lines(found, at),
                     shape=_get(found, "shape", dict, at, {}))
    _adds_up(current, total, f"{where}.current_monthly_usd")
    return current


def _saving(obj: Mapping[str, Any], key: str, where: str) -> OptimizerSaving | None:
    found: dict[str, Any] | None = _get(obj, key, (dict, type(None)), where, None)
    if found is None:
        return None
    at = f"{where}.{key}"
    return OptimizerSaving(_number(_required(found, "amount", at), f"{at}.amount"),
                           _get(found, "currency", str, at), _maybe_number(found, "percent", at))


def _recommendation(obj: Mapping[str, Any], workload: Mapping[str, Any],
                    where: str) -> OptimizerRecommendation:
    current = _get(obj, "current", dict, where, {})
    recommended: dict[str, Any] = _get(obj, "recommended", (dict, type(None)), where, None) or {}
    refreshed: str | None = _get(obj, "last_refreshed", (str, type(None)), where, None)

    def size(of: Mapping[str, Any], key: str, at: str) -> int | None:
        found: int | None = _get(of, key, (int, type(None)), at, None)
        return found

    return OptimizerRecommendation(
        resource_arn=workload["arn"], account=workload["account"], region=workload["region"],
        finding=_get(obj, "finding", str, where),
        reasons=_list(obj, "reasons", where, _string, ()),
        current_memory_mb=size(current, "memory_mb", f"{where}.current"),
        recommended_memory_mb=size(recommended, "memory_mb", f"{where}.recommended"),
        saving=_saving(obj, "estimated_monthly_savings", where),
        saving_after_discounts=_saving(obj, "estimated_monthly_savings_after_discounts", where),
        saving_basis=_get(obj, "savings_basis", (str, type(None)), where, None),
        lookback_days=_maybe_number(obj, "lookback_days", where),
        performance_risk=_get(obj, "performance_risk", (str, type(None)), where, None),
        refreshed_at=None if refreshed is None else _moment(refreshed, f"{where}.last_refreshed"),
        current_cpu_units=size(current, "cpu_units", f"{where}.current"),
        recommended_cpu_units=size(recommended, "cpu_units", f"{where}.recommended"),
    )


def _optimizer(workload: Mapping[str, Any], where: str) -> OptimizerEvidence | None:
    found: dict[str, Any] | None = _get(workload, "compute_optimizer", (dict, type(None)), where,
                                        None)
    if found is None:
        return None
    at = f"{where}.compute_optimizer"
    status = _get(found, "status", str, at)
    if status not in STATUSES:
        raise _Bad(f"{at}.status", f"{status!r} is not one of {', '.join(STATUSES)}")
    enrolled: dict[str, Any] | None = _get(found, "enrollment", (dict, type(None)), at, None)
    return OptimizerEvidence(
        status, _get(found, "explanation", str, at),
        _recommendation(found, workload, at) if "finding" in found else None,
        None if enrolled is None else OptimizerEnrollment(
            workload["account"], workload["region"], _get(enrolled, "status", str, at),
            _get(enrolled, "reason", str, at, "")),
        _get(found, "their_recommendation", str, at, ""),
        _get(found, "our_recommendation", str, at, ""),
        _maybe_number(found, "our_monthly_savings_usd", at))


def _workload(value: Any, where: str) -> PricedWorkload:
    obj = _object(value, where)
    total = _number(_required(obj, "current_monthly_usd", where), f"{where}.current_monthly_usd")
    savings: dict[str, Any] | None = _get(obj, "savings", (dict, type(None)), where, None)
    confidence = _get(obj, "confidence", str, where)
    _required(obj, "monthly_savings_usd", where)
    return PricedWorkload(
        arn=_get(obj, "arn", str, where), name=_get(obj, "name", str, where),
        platform=_platform(obj, where), account=_get(obj, "account", str, where),
        region=_get(obj, "region", str, where), current_monthly_usd=total,
        current=_current(obj, total, where), options=_list(obj, "options", where, _option),
        recommended_platform=_get(obj, "recommended_platform", (str, type(None)), where),
        monthly_savings_usd=_maybe_number(obj, "monthly_savings_usd", where),
        confidence=_enum(confidence, Confidence, f"{where}.confidence",
                         [c.value for c in Confidence]),
        assumptions=_list(obj, "assumptions", where, _string),
        usage=_get(obj, "usage", dict, where),
        savings=None if savings is None else {
            str(kind): _number(usd, f"{where}.savings.{kind}") for kind, usd in savings.items()},
        migration_savings_usd=_maybe_number(obj, "migration_savings_usd", where),
        metric_days=_maybe_number(obj, "metric_days", where),
        rates_flip=_get(obj, "rates_flip", (dict, type(None)), where, None),
        compute_optimizer=_optimizer(obj, where),
    )


def _stats(obj: Mapping[str, Any]) -> Stats:
    by_operation = _get(obj, "api_calls_by_operation", dict, "stats", {})
    return Stats(
        api_calls=_get(obj, "api_calls", int, "stats", 0),
        api_calls_by_operation={str(k): int(v) for k, v in by_operation.items()},
        duration_s=float(_get(obj, "duration_s", (int, float), "stats", 0.0)),
        resources=_get(obj, "resources", int, "stats", 0),
        metric_queries=_get(obj, "metric_queries", int, "stats", 0),
    )


def _day(obj: Mapping[str, Any], key: str, where: str) -> date:
    text = _get(obj, key, str, where)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{where}.{key}", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _reconciled(value: Any, where: str) -> Reconciled:
    obj = _object(value, where)
    ratio: float | None = _get(obj, "explained_ratio", (int, float, type(None)), where)
    return Reconciled(
        account=_get(obj, "account", str, where),
        region=_get(obj, "region", str, where),
        platform=_get(obj, "platform", str, where),
        billed_usd=float(_get(obj, "billed_usd", (int, float), where)),
        modelled_usd=float(_get(obj, "modelled_usd", (int, float), where)),
        explained_ratio=None if ratio is None else float(ratio),
    )


def _billing(doc: Mapping[str, Any]) -> Billing | None:
    obj: dict[str, Any] | None = _get(doc, "billing", (dict, type(None)), "", None)
    if obj is None:
        return None
    window = _get(obj, "window", dict, "billing")
    discounts = _get(obj, "effective_discount", dict, "billing")
    return Billing(
        source=_get(obj, "source", str, "billing"),
        start=_day(window, "start", "billing.window"),
        end=_day(window, "end", "billing.window"),
        calls=_get(obj, "calls", int, "billing"),
        by_platform=_list(obj, "by_platform", "billing", _reconciled),
        effective_discount={str(k): float(_get(discounts, k, (int, float),
                                               "billing.effective_discount"))
                            for k in discounts},
        notes=_list(obj, "notes", "billing", _string),
    )


def _moment(text: str, where: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad(where, f"{text!r} is not an ISO 8601 time") from None


def from_dict(document: Any) -> Report:
    """The `Report` a `to_dict` document describes; `_Bad` names the first field in error."""
    if not isinstance(document, dict):
        raise _Bad("", f"not a compute-auditor report: expected a JSON object, got "
                       f"{document!r:.60}")
    doc: dict[str, Any] = document
    tool = doc.get("tool")
    version = doc.get("schema_version")
    if not isinstance(tool, dict) or tool.get("name") != "compute-auditor" or version is None:
        raise _Bad("", "not a compute-auditor report (no tool.name "
                   "'compute-auditor' and schema_version)")
    if version != SCHEMA_VERSION:
        raise _Bad("schema_version", f"{version!r}; this version of compute-auditor reads "
                   f"schema_version {SCHEMA_VERSION} (upgrade to read newer reports)")
    scope = _get(doc, "scope", dict, "")
    summary = _get(doc, "summary", dict, "")
    findings = _list(doc, "findings", "", _finding)
    tags: dict[str, dict[str, str]] = {}
    baselined: set[str] = set()
    for i, raw in enumerate(doc["findings"]):
        where = f"findings[{i}]"
        for key, value in _get(raw, "resource_tags", dict, where, {}).items():
            tags.setdefault(raw["resource_arn"], {})[str(key)] = _string(
                value, f"{where}.resource_tags.{key}")
        if _get(raw, "baselined", bool, where, False):
            baselined.add(raw["fingerprint"])
    return Report(
        generated_at=_moment(_get(doc, "generated_at", str, ""), "generated_at"),
        accounts=_list(scope, "accounts", "scope", _string),
        regions=_list(scope, "regions", "scope", _string),
        lookback_days=_get(scope, "lookback_days", int, "scope"),
        findings=findings,
        errors=_list(doc, "errors", "", _error),
        stats=_stats(_get(doc, "stats", dict, "")),
        checks_run=_list(summary, "checks_run", "summary", _string, ()),
        pricing={str(k): str(v) for k, v in _get(doc, "pricing", dict, "", {}).items()},
        workloads=_list(doc, "workloads", "", _workload, ()),
        demo=_get(scope, "demo", bool, "scope", False),
        shard=_get(scope, "shard", str, "scope", None),
        tool_version=_get(tool, "version", str, "tool", "unknown"),
        resource_tags=tags,
        baselined=frozenset(baselined),
        billing=_billing(doc),
        delivery=_list(doc, "delivery", "", _delivery, ()),
    )


def parse(text: str, source: str) -> Report:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{source}: not JSON ({exc.msg} at line {exc.lineno} column "
                          f"{exc.colno}); give a report written with --format json") from None
    try:
        return from_dict(document)
    except _Bad as exc:
        raise ReportError(f"{source}: {exc}") from None


def load(path: Path) -> Report:
    """Read a JSON report file; every failure is one `ReportError` line naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such report file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read the report: {exc}") from None
    return parse(text, str(path))
