"""Check discovery, selection and running.

Checks come from four places, in this order: the built-in `checks` package, installed packages
through the `auditor.checks` entry-point group, `--checks-dir` directories of modules, and
declarative `[[custom_checks]]` in the config. Running a check is pure; the engine adds the
`unknown` findings for resources whose data failed to load, so a failure never reads as a pass.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType

from auditor.check import Check, CheckContext, ParamValue
from auditor.datasets import DATASETS, datasets_listing
from auditor.errors import CheckLoadError, ConfigError
from auditor.findings import Finding
from auditor.metrics import MetricQuery, MetricStore, unique
from auditor.model import GLOBAL_REGION, CollectionError, Inventory, Scope
from auditor.pricing.book import PriceBook

ENTRY_POINT_GROUP = "auditor.checks"
CheckClass = type[Check]


def checks_in_module(module: ModuleType, source: str) -> list[CheckClass]:
    """Concrete Check subclasses defined in a module, validated."""
    found: list[CheckClass] = []
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if issubclass(obj, Check) and obj.__module__ == module.__name__ and not (
            inspect.isabstract(obj)
        ):
            try:
                obj.validate_declaration()
            except TypeError as exc:
                raise CheckLoadError(f"{source}: {exc}") from None
            obj.source = source
            found.append(obj)
    return found


def builtin_checks() -> list[CheckClass]:
    import checks as package

    found: list[CheckClass] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(checks_in_module(module, "built-in"))
    return found


def entry_point_checks() -> list[CheckClass]:
    found: list[CheckClass] = []
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:
            raise CheckLoadError(
                f"entry point {entry.name} ({entry.value}) in group {ENTRY_POINT_GROUP} failed "
                f"to load: {exc}; fix or uninstall the package that provides it"
            ) from None
        source = f"entry point {entry.name}"
        if isinstance(loaded, ModuleType):
            found.extend(checks_in_module(loaded, source))
        elif inspect.isclass(loaded) and issubclass(loaded, Check):
            loaded.validate_declaration()
            loaded.source = source
            found.append(loaded)
        else:
            raise CheckLoadError(
                f"entry point {entry.name} must point at a module or a Check subclass, "
                f"not {type(loaded).__name__}"
            )
    return found


def directory_checks(directory: Path) -> list[CheckClass]:
    if not directory.is_dir():
        raise ConfigError(f"--checks-dir {directory}: not a directory")
    found: list[CheckClass] = []
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_name = f"auditor_user_checks.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise CheckLoadError(f"{path}: cannot be imported as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise CheckLoadError(f"{path}: failed to import: {type(exc).__name__}: {exc}") from None
        found.extend(checks_in_module(module, str(path)))
    return found


@dataclass(frozen=True)
class Registry:
    checks: tuple[CheckClass, ...]

    @classmethod
    def build(
        cls,
        checks_dirs: Sequence[Path] = (),
        extra: Iterable[CheckClass] = (),
        include_entry_points: bool = True,
    ) -> Registry:
        found = builtin_checks()
        if include_entry_points:
            found += entry_point_checks()
        for directory in checks_dirs:
            found += directory_checks(directory)
        found += list(extra)
        seen: dict[str, CheckClass] = {}
        for check in found:
            if check.id in seen:
                raise CheckLoadError(
                    f"check id {check.id} is defined twice ({seen[check.id].source} and "
                    f"{check.source}); rename one of them"
                )
            seen[check.id] = check
        return cls(tuple(sorted(found, key=lambda c: c.id)))

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.checks]

    def get(self, check_id: str) -> CheckClass:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def select(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[CheckClass]:
        """Checks matching any `include` glob (all when empty) and no `exclude` glob."""
        for pattern in (*include, *exclude):
            if not any(fnmatch.fnmatchcase(check_id, pattern) for check_id in self.ids):
                hint = difflib.get_close_matches(pattern, self.ids, n=1)
                also = f" (did you mean {hint[0]}?)" if hint else ""
                raise ConfigError(
                    f"no check matches {pattern!r}{also}; run `auditor checks` to list them"
                )
        return [
            check for check in self.checks
            if (not include or any(fnmatch.fnmatchcase(check.id, p) for p in include))
            and not any(fnmatch.fnmatchcase(check.id, p) for p in exclude)
        ]


def instantiate(
    classes: Iterable[CheckClass], params: Mapping[str, Mapping[str, ParamValue]]
) -> list[Check]:
    """Create checks with their configured thresholds, rejecting unknown or mistyped ones."""
    by_id = {c.id: c for c in classes}
    checks = []
    for cls in by_id.values():
        given = dict(params.get(cls.id, {}))
        for name, value in given.items():
            if name not in cls.parameters:
                known = sorted(cls.parameters)
                hint = difflib.get_close_matches(name, known, n=1)
                also = f"; did you mean {hint[0]!r}?" if hint else (
                    f"; it takes {', '.join(known)}" if known else "; it takes no parameters"
                )
                raise ConfigError(f"[thresholds.\"{cls.id}\"] has unknown key {name!r}{also}")
            default = cls.parameters[name].default
            if not _same_type(default, value):
                raise ConfigError(
                    f"[thresholds.\"{cls.id}\"] {name} must be {type(default).__name__}, "
                    f"got {value!r}"
                )
        checks.append(cls(given))
    return checks


def _same_type(default: ParamValue, value: object) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class CheckRun:
    findings: tuple[Finding, ...]
    errors: tuple[CollectionError, ...]
    """Checks that raised: recorded like failed calls, never dropped."""


def context_for(
    check: Check, now: datetime, lookback_days: int, metrics: MetricStore, prices: PriceBook
) -> CheckContext:
    return CheckContext(now=now, lookback_days=lookback_days, params=check.params,
                        metrics=metrics, prices=prices)


def plan_metrics(
    checks: Iterable[Check], inventory: Inventory, now: datetime, lookback_days: int,
    prices: PriceBook,
) -> list[MetricQuery]:
    """Every metric query the enabled checks declare, each once."""
    queries: list[MetricQuery] = []
    for check in checks:
        if check.uses_metrics:
            ctx = context_for(check, now, lookback_days, MetricStore(), prices)
            queries.extend(check.metric_queries(inventory, ctx))
    return unique(queries)


def run_checks(
    checks: Iterable[Check],
    inventory: Inventory,
    metrics: MetricStore,
    now: datetime,
    lookback_days: int,
    prices: PriceBook,
) -> CheckRun:
    findings: list[Finding] = []
    errors: list[CollectionError] = []
    for check in checks:
        ctx = context_for(check, now, lookback_days, metrics, prices)
        try:
            failed = list(check.evaluate(inventory, ctx))
        except Exception as exc:
            errors.append(CollectionError(
                account="", region="", service="auditor", operation=f"check {check.id}",
                code=type(exc).__name__, message=f"the check raised: {exc}",
                datasets=(),
            ))
            findings.extend(_unknown_everywhere(check, inventory, f"the check raised {exc!r}"))
            continue
        # In a region whose required data failed, a verdict may rest on what is missing (no
        # route table seen), so it is replaced by unknown. Account-wide verdicts (a role seen
        # shared by two services) rest on what was seen and stand.
        kept = [f for f in failed
                if f.region == GLOBAL_REGION
                or not inventory.failed_datasets(Scope(f.account, f.region))
                & check.requires_for(f.resource_type)]
        findings.extend(kept)
        findings.extend(unknown_findings(check, inventory, {f.resource_arn for f in kept}))
    return CheckRun(tuple(findings), tuple(errors))


def unknown_findings(check: Check, inventory: Inventory, failed_arns: set[str]) -> list[Finding]:
    """`unknown` for every subject the check could not judge because its data failed.

    Subjects in `failed_arns` keep their `fail`. When the subjects themselves could not be
    listed, one `unknown` stands for the whole scope.
    """
    if not inventory.errors:
        return []
    found: list[Finding] = []
    for scope in inventory.scopes:
        failed = inventory.failed_datasets(scope)
        for kind in check.subject_kinds:
            missing = failed & check.requires_for(kind)
            if not missing:
                continue
            reason = _reason(inventory, scope, missing)
            if datasets_listing(kind) & missing:
                found.append(_unknown(check, _scope_placeholder(kind, scope), kind, scope, reason,
                                      missing))
                continue
            for subject in inventory.of_kind(kind):
                if subject.scope == scope and subject.arn not in failed_arns:
                    found.append(_unknown(check, subject.arn, kind, scope, reason, missing))
    # Account-wide subjects (IAM roles) depend on every region of their account.
    for account in inventory.accounts:
        failed = inventory.failed_in_account(account)
        scope = Scope(account, GLOBAL_REGION)
        for kind in check.subject_kinds:
            missing = failed & check.requires_for(kind)
            if not missing:
                continue
            reason = _reason(inventory, None, missing, account=account)
            for subject in inventory.of_kind(kind):
                if (subject.account == account and subject.region == GLOBAL_REGION
                        and subject.arn not in failed_arns):
                    found.append(_unknown(check, subject.arn, kind, scope, reason, missing))
    return found


def _unknown_everywhere(check: Check, inventory: Inventory, reason: str) -> list[Finding]:
    return [
        _unknown(check, subject.arn, kind, subject.scope, reason, frozenset())
        for kind in check.subject_kinds for subject in inventory.of_kind(kind)
    ]


def _reason(inventory: Inventory, scope: Scope | None, missing: frozenset[str],
            account: str | None = None) -> str:
    causes = sorted({
        f"{e.service}:{e.operation} {e.code}" for e in inventory.errors
        if set(e.datasets) & missing
        and (scope is None or e.scope in (scope, Scope(scope.account, GLOBAL_REGION)))
        and (account is None or e.account == account)
    })
    return "; ".join(causes) or "data failed to load"


def _scope_placeholder(kind: str, scope: Scope) -> str:
    service = next((DATASETS[d].service for d in sorted(datasets_listing(kind))), "aws")
    region = "" if scope.region == GLOBAL_REGION else scope.region
    return f"arn:aws:{service}:{region}:{scope.account}:{kind}/*"


def _unknown(check: Check, arn: str, kind: str, scope: Scope, reason: str,
             missing: frozenset[str]) -> Finding:
    return Finding(
        check_id=check.id, title=check.title, severity=check.severity, category=check.category,
        status="unknown", resource_arn=arn, resource_type=kind, account=scope.account,
        region=scope.region,
        message=f"Could not judge: {reason}.",
        evidence={"missing_datasets": sorted(missing), "cause": reason},
        remediation="Grant the read actions `auditor iam-policy` lists, or retry the scan; "
                    "see the report's errors for the failed calls.",
    )


def checks_affected(error: CollectionError, checks: Iterable[Check]) -> list[str]:
    if error.service == "auditor":
        return [error.operation.removeprefix("check ")]
    return sorted(c.id for c in checks if set(error.datasets) & c.requires)

