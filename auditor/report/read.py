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
from typing import Any, TypeVar

from auditor.cost.bill import Billing, Reconciled
from auditor.errors import ReportError
from auditor.findings import Category, Finding, Severity
from auditor.report.document import SCHEMA_VERSION, ErrorEntry, Report, Stats

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


def _generated_at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad("generated_at", f"{text!r} is not an ISO 8601 time") from None


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
        generated_at=_generated_at(_get(doc, "generated_at", str, "")),
        accounts=_list(scope, "accounts", "scope", _string),
        regions=_list(scope, "regions", "scope", _string),
        lookback_days=_get(scope, "lookback_days", int, "scope"),
        findings=findings,
        errors=_list(doc, "errors", "", _error),
        stats=_stats(_get(doc, "stats", dict, "")),
        checks_run=_list(summary, "checks_run", "summary", _string, ()),
        pricing={str(k): str(v) for k, v in _get(doc, "pricing", dict, "", {}).items()},
        workloads=_list(doc, "workloads", "", _object, ()),
        demo=_get(scope, "demo", bool, "scope", False),
        shard=_get(scope, "shard", str, "scope", None),
        tool_version=_get(tool, "version", str, "tool", "unknown"),
        resource_tags=tags,
        baselined=frozenset(baselined),
        billing=_billing(doc),
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
