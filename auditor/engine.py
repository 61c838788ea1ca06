"""Check discovery, selection and running.

Checks come from three places, in this order: the `auditor.checks` entry-point group (where
this distribution registers its built-in `checks` package, and plugins theirs), `--checks-dir`
directories of modules, and declarative `[[custom_checks]]` in the config. Running a check is
pure; the engine adds the `unknown` findings for resources whose data failed to load, so a
failure never reads as a pass.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from types import ModuleType

from auditor.check import Check, CheckContext
from auditor.cost.model import Assumptions
from auditor.cost.usage import workload_queries
from auditor.cost.workloads import COST_DATASETS, Costs, estimate_workloads
from auditor.datasets import DATASETS, datasets_listing
from auditor.errors import CheckLoadError, ConfigError
from auditor.findings import Finding
from auditor.metrics import MetricQuery, MetricStore, unique
from auditor.model import (
    GLOBAL_REGION,
    CollectionError,
    Inventory,
    Resource,
    Scope,
    kind_of_arn,
)
from auditor.params import ParamValue
from auditor.pricing.book import PriceBook

ENTRY_POINT_GROUP = "auditor.checks"
DISTRIBUTION = "compute-auditor"
CheckClass = type[Check]


Loaded = tuple[CheckClass, str]
"""A check class and where it came from (`built-in`, an entry point, a file)."""


def _validated(cls: CheckClass, source: str) -> Loaded:
    """One error for a plugin whatever is wrong with it, naming it, like flake8's
    FailedToLoadPlugin: no traceback reaches the user."""
    try:
        cls.validate_declaration()
    except TypeError as exc:
        raise CheckLoadError(f"{source}: {exc}") from None
    return cls, source


def checks_in_module(module: ModuleType, source: str) -> list[Loaded]:
    """Concrete Check subclasses defined in a module, validated."""
    return [
        _validated(obj, source) for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, Check) and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]


def entry_point_checks(include_plugins: bool = True) -> list[Loaded]:
    """The checks registered in the `auditor.checks` entry-point group: the built-in ones
    (this distribution registers its `checks` package there) and, unless left out, those of
    every installed plugin. An entry point names a module, a package of modules, or a Check
    subclass."""
    found: list[Loaded] = []
    for entry in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP),
                        key=lambda e: (not _built_in(e), e.name)):
        if not (include_plugins or _built_in(entry)):
            continue
        source = "built-in" if _built_in(entry) else f"entry point {entry.name} ({entry.value})"
        try:
            loaded = entry.load()
            modules = _modules(loaded) if isinstance(loaded, ModuleType) else []
        except Exception as exc:
            raise CheckLoadError(
                f"{source} in group {ENTRY_POINT_GROUP} failed to load: "
                f"{type(exc).__name__}: {exc}; fix or uninstall the package that provides it"
            ) from None
        if isinstance(loaded, ModuleType):
            for module in modules:
                found.extend(checks_in_module(module, source))
        elif inspect.isclass(loaded) and issubclass(loaded, Check):
            found.append(_validated(loaded, source))
        else:
            raise CheckLoadError(
                f"{source} must point at a module or a Check subclass, "
                f"not {type(loaded).__name__}"
            )
    return found


def _built_in(entry: metadata.EntryPoint) -> bool:
    return entry.dist is not None and entry.dist.name == DISTRIBUTION


def _modules(module: ModuleType) -> list[ModuleType]:
    """A module, or every module of a package, in name order."""
    if not hasattr(module, "__path__"):
        return [module]
    return [importlib.import_module(f"{module.__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name)]


def directory_checks(directory: Path) -> list[Loaded]:
    if not directory.is_dir():
        raise ConfigError(f"--checks-dir {directory}: not a directory")
    found: list[Loaded] = []
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
    sources: Mapping[str, str]
    """Check ID -> where it was loaded from."""

    @classmethod
    def build(
        cls,
        checks_dirs: Sequence[Path] = (),
        extra: Iterable[CheckClass] = (),
        include_entry_points: bool = True,
    ) -> Registry:
        found = entry_point_checks(include_entry_points)
        for directory in checks_dirs:
            found += directory_checks(directory)
        found += [_validated(check, "config [[custom_checks]]") for check in extra]
        seen: dict[str, str] = {}
        for check, source in found:
            if check.id in seen:
                raise CheckLoadError(
                    f"check id {check.id} is defined twice ({seen[check.id]} and {source}); "
                    "rename one of them"
                )
            seen[check.id] = source
        return cls(tuple(sorted((c for c, _ in found), key=lambda c: c.id)), seen)

    def source(self, check_id: str) -> str:
        return self.sources[check_id]

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
        chosen = [
            check for check in self.checks
            if (not include or any(fnmatch.fnmatchcase(check.id, p) for p in include))
            and not any(fnmatch.fnmatchcase(check.id, p) for p in exclude)
        ]
        if not chosen:
            raise ConfigError("--skip-checks leaves no check to run of those --checks "
                              "selected; a scan that checks nothing would pass anything")
        return chosen


def validate_thresholds(
    classes: Iterable[CheckClass], params: Mapping[str, Mapping[str, ParamValue]]
) -> None:
    """Reject unknown or out-of-range thresholds of these checks, selected or not: a typo in the
    config should not wait for the night a check is selected to be noticed."""
    for cls in classes:
        for name, value in params.get(cls.id, {}).items():
            if name not in cls.parameters:
                known = sorted(cls.parameters)
                hint = difflib.get_close_matches(name, known, n=1)
                also = f"; did you mean {hint[0]!r}?" if hint else (
                    f"; it takes {', '.join(known)}" if known else "; it takes no parameters"
                )
                raise ConfigError(f"[thresholds.\"{cls.id}\"] has unknown key {name!r}{also}")
            problem = cls.parameters[name].problem(value)
            if problem:
                raise ConfigError(f"[thresholds.\"{cls.id}\"] {name} {problem}")


def instantiate(
    classes: Iterable[CheckClass], params: Mapping[str, Mapping[str, ParamValue]]
) -> list[Check]:
    """Create checks with their configured thresholds, rejecting unknown or mistyped ones."""
    by_id = {c.id: c for c in classes}
    validate_thresholds(by_id.values(), params)
    return [cls(dict(params.get(cls.id, {}))) for cls in by_id.values()]


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class CheckRun:
    findings: tuple[Finding, ...]
    errors: tuple[CollectionError, ...]
    """Checks that raised: recorded like failed calls, never dropped."""


@dataclass(frozen=True)
class MetricPlan:
    """The series each reader (a check, the cost model) declared: fetched once for all,
    then read back by each reader through a store that answers only what it declared."""

    by_reader: Mapping[str, tuple[MetricQuery, ...]]

    def queries(self) -> list[MetricQuery]:
        return unique(q for queries in self.by_reader.values() for q in queries)

    def declared(self, reader: str) -> tuple[MetricQuery, ...]:
        return self.by_reader.get(reader, ())


COST_MODEL = "cost model"
"""The reader the cost model's series are planned and read under."""


def context_for(
    check: Check, now: datetime, lookback_days: int, metrics: MetricStore, prices: PriceBook,
    costs: Costs | None = None,
) -> CheckContext:
    return CheckContext(now=now, lookback_days=lookback_days, params=check.params,
                        metrics=metrics, prices=prices, costs=costs or Costs())


def needs_costs(checks: Iterable[Check]) -> bool:
    return any(check.reads_costs for check in checks)


def wanted_datasets(checks: Iterable[Check]) -> frozenset[str]:
    """What to collect: what the checks require, the tags of what they judge (for
    suppressions), and what the cost model reads when one of them reads costs."""
    checks = list(checks)
    wanted = frozenset(name for check in checks for name in check.requires | check.wants_tags)
    return wanted | COST_DATASETS if needs_costs(checks) else wanted


def plan_metrics(
    checks: Iterable[Check], inventory: Inventory, now: datetime, lookback_days: int,
    prices: PriceBook,
) -> MetricPlan:
    """Every metric query the enabled checks declare, by check ID, and the cost model's when
    a check reads costs."""
    checks = list(checks)
    declared: dict[str, tuple[MetricQuery, ...]] = {}
    for check in checks:
        if check.uses_metrics:
            ctx = context_for(check, now, lookback_days, MetricStore(), prices)
            declared[check.id] = tuple(check.metric_queries(inventory, ctx))
    if needs_costs(checks):
        declared[COST_MODEL] = tuple(workload_queries(inventory))
    return MetricPlan(declared)


def price_workloads(inventory: Inventory, metrics: MetricStore, plan: MetricPlan,
                    prices: PriceBook, assumptions: Assumptions, lookback_days: int,
                    now: datetime) -> Costs:
    """The cost model, run once: every workload priced on the series it declared."""
    readable = metrics.for_reader(COST_MODEL, plan.declared(COST_MODEL))
    return Costs(estimate_workloads(inventory, readable, prices, assumptions, lookback_days,
                                    now))


def run_checks(
    checks: Sequence[Check],
    inventory: Inventory,
    metrics: MetricStore,
    now: datetime,
    lookback_days: int,
    prices: PriceBook,
    plan: MetricPlan | None = None,
    costs: Costs | None = None,
) -> CheckRun:
    """Run each check on the inventory, the series it declared (`plan`) and the workloads'
    costs (both worked out here when not given), and turn what the failures leave undecided
    into `unknown`."""
    plan = plan or plan_metrics(checks, inventory, now, lookback_days, prices)
    if costs is None and needs_costs(checks):
        costs = price_workloads(inventory, metrics, plan, prices, Assumptions(), lookback_days,
                                now)
    findings: list[Finding] = []
    errors: list[CollectionError] = []
    for check in checks:
        own = plan.declared(check.id)
        # A saving read from the cost model rests on the series the model read too.
        declared = (*own, *plan.declared(COST_MODEL)) if check.reads_costs else own
        ctx = context_for(check, now, lookback_days,
                          metrics.for_reader(f"check {check.id}", own), prices, costs)
        try:
            reported = list(check.evaluate(inventory, ctx))
        except Exception as exc:
            errors.append(CollectionError(
                account="", region="", service="auditor", operation=f"check {check.id}",
                code=type(exc).__name__, message=f"the check raised: {exc}",
                datasets=(),
            ))
            findings.extend(_unknown_everywhere(check, inventory, f"the check raised {exc!r}"))
            continue
        blocked = blockers(check, inventory, metrics.failed, declared)
        kept = [f for f in reported if not _demoted(f, blocked, check, inventory)]
        judged = {f.resource_arn for f in kept}
        findings.extend(kept)
        findings.extend(_unknown(check, arn, blocker) for arn, blocker in blocked.items()
                        if arn not in judged)
    return CheckRun(tuple(findings), tuple(errors))


@dataclass(frozen=True)
class Blocker:
    """Why one subject of a check cannot be judged: what failed to load that it rests on."""

    kind: str
    scope: Scope
    missing: frozenset[str]
    reason: str
    scope_wide: bool
    """Only a scope-wide listing failed (not this resource's own call or series)."""


def blockers(check: Check, inventory: Inventory, failed_series: Mapping[MetricQuery, str],
             declared: Iterable[MetricQuery] = ()) -> dict[str, Blocker]:
    """Subject ARN -> why the check cannot judge it, for every subject it cannot judge.

    Three levels of failure, each costing only what rests on it: a dataset that failed for a
    whole account and region (every subject there that needs it; when the subjects
    themselves could not be listed, one placeholder stands for them all), a per-resource call
    that failed (that resource and those that rest on it), and a metric series that failed
    (the subject it was read for).
    """
    found: dict[str, Blocker] = {}
    if not inventory.errors and not failed_series:
        return found
    series = _FailedSeries.of(declared, failed_series)
    for scope in inventory.scopes:
        failed = inventory.failed_datasets(scope)
        for kind in check.subject_kinds:
            missing = failed & check.requires_for(kind)
            if datasets_listing(kind) & missing:
                found[_scope_placeholder(kind, scope)] = Blocker(
                    kind, scope, missing, _reason(inventory, scope, missing), True)
    for kind in check.subject_kinds:
        for subject in inventory.of_kind(kind):
            blocker = _subject_blocker(check, inventory, subject, series)
            if blocker is not None:
                found[subject.arn] = blocker
    # What a failure left uncollected: the resource a describe was about, or the children of
    # one that could not be listed (`.../nodegroup/CLUSTER/*`), each one unknown of its own.
    for error in inventory.errors:
        for arn in error.unread:
            absent = _unread_kind(arn, error.datasets)
            if arn in found or absent is None or absent not in check.subject_kinds:
                continue
            if missing := frozenset(error.datasets) & check.requires_for(absent):
                found[arn] = Blocker(absent, error.scope, missing,
                                     _resource_reason(inventory, arn, missing), False)
    return found


@dataclass(frozen=True)
class _FailedSeries:
    """The declared series that failed, by the subject they were read for (or their scope,
    for a query that names no subject: it blocks every subject there)."""

    by_subject: Mapping[str, tuple[str, ...]]
    by_scope: Mapping[Scope, tuple[str, ...]]

    @classmethod
    def of(cls, declared: Iterable[MetricQuery], failed: Mapping[MetricQuery, str]
           ) -> _FailedSeries:
        subjects: dict[str, list[str]] = defaultdict(list)
        scopes: dict[Scope, list[str]] = defaultdict(list)
        for query in declared:
            if (reason := failed.get(query)) is not None:
                text = f"{query.metric} {query.stat}: {reason}"
                if query.subject:
                    subjects[query.subject].append(text)
                else:
                    scopes[Scope(query.account, query.region)].append(text)
        return cls({k: tuple(v) for k, v in subjects.items()},
                   {k: tuple(v) for k, v in scopes.items()})

    def reasons(self, subject: Resource) -> tuple[str, ...]:
        return (*self.by_subject.get(subject.arn, ()), *self.by_scope.get(subject.scope, ()))


def _subject_blocker(check: Check, inventory: Inventory, subject: Resource,
                     series: _FailedSeries) -> Blocker | None:
    needs = check.requires_for_subject(subject)
    account_wide = subject.region == GLOBAL_REGION
    # Account-wide subjects (IAM roles) rest on every region of their account.
    scoped = needs & (inventory.failed_in_account(subject.account) if account_wide
                      else inventory.failed_datasets(subject.scope))
    own = needs & inventory.failed_for(subject.arn)
    reasons = series.reasons(subject) if "cloudwatch.metrics" in needs else ()
    if not (scoped or own or reasons):
        return None
    causes = []
    if scoped:
        causes.append(_reason(inventory, None if account_wide else subject.scope, scoped,
                              account=subject.account))
    if own:
        causes.append(_resource_reason(inventory, subject.arn, own))
    if reasons:
        causes.append("metric series failed to load (" + "; ".join(reasons) + ")")
    missing = scoped | own | (frozenset({"cloudwatch.metrics"}) if reasons else frozenset())
    return Blocker(subject.kind, subject.scope, missing, "; ".join(causes),
                   not (own or reasons))


def _unread_kind(arn: str, datasets: Iterable[str]) -> str | None:
    """The kind of a resource that was not read: from its ARN where that tells (a task
    definition, a node group), else the one kind its dataset lists (a function's aliases)."""
    kinds = {kind for name in datasets for kind in DATASETS[name].resource_kinds}
    return kind_of_arn(arn) or (kinds.pop() if len(kinds) == 1 else None)


def _demoted(finding: Finding, blocked: Mapping[str, Blocker], check: Check,
             inventory: Inventory) -> bool:
    """A `fail` that may rest on what failed to load gives way to `unknown` ("no route table
    seen" may only mean the route tables failed to load). Account-wide verdicts that a
    regional failure blocks (a role seen shared by two services) rest on what was seen, and
    stand. A check's own `unknown` on a blocked subject gives way too: the engine's names
    the call that failed, which is what the user can act on."""
    blocker = blocked.get(finding.resource_arn)
    if finding.status == "unknown":
        return blocker is not None
    if blocker is None:
        # A finding about something that is not one of the check's subjects.
        return finding.region != GLOBAL_REGION and bool(
            inventory.failed_datasets(Scope(finding.account, finding.region))
            & check.requires_for(finding.resource_type))
    return not (finding.region == GLOBAL_REGION and blocker.scope_wide)


def _unknown_everywhere(check: Check, inventory: Inventory, reason: str) -> list[Finding]:
    return [
        _unknown(check, subject.arn, Blocker(kind, subject.scope, frozenset(), reason, True))
        for kind in check.subject_kinds for subject in inventory.of_kind(kind)
    ]


def _reason(inventory: Inventory, scope: Scope | None, missing: frozenset[str],
            account: str | None = None) -> str:
    """The failed calls behind `missing`: the scope-wide ones of a region, or for an
    account-wide subject (`scope` None) every one of its account, per-resource ones too."""
    causes = sorted({
        f"{e.service}:{e.operation} {e.code}" for e in inventory.errors
        if set(e.datasets) & missing
        and (scope is None or (not (e.resources or e.unread)
                               and e.scope in (scope, Scope(scope.account, GLOBAL_REGION))))
        and (account is None or e.account == account)
    })
    return "; ".join(causes) or "data failed to load"


def _resource_reason(inventory: Inventory, arn: str, missing: frozenset[str]) -> str:
    causes = sorted({
        f"{e.service}:{e.operation} {e.code}" for e in inventory.errors
        if set(e.datasets) & missing and (arn in e.unread or any(
            arn == named or (named.endswith("*") and arn.startswith(named[:-1]))
            for named in e.resources))
    })
    return "; ".join(causes) or "data failed to load"


def _scope_placeholder(kind: str, scope: Scope) -> str:
    service = next((DATASETS[d].service for d in sorted(datasets_listing(kind))), "aws")
    region = "" if scope.region == GLOBAL_REGION else scope.region
    return f"arn:aws:{service}:{region}:{scope.account}:{kind}/*"


def _unknown(check: Check, arn: str, blocker: Blocker) -> Finding:
    return Finding(
        check_id=check.id, title=check.title, severity=check.severity, category=check.category,
        status="unknown", resource_arn=arn, resource_type=blocker.kind,
        account=blocker.scope.account, region=blocker.scope.region,
        message=f"Could not judge: {blocker.reason}.",
        evidence={"missing_datasets": sorted(blocker.missing), "cause": blocker.reason},
        remediation="Grant the read actions `auditor iam-policy` lists, or retry the scan; "
                    "see the report's errors for the failed calls.",
    )


def checks_affected(error: CollectionError, checks: Iterable[Check],
                    plan: MetricPlan | None = None) -> list[str]:
    if error.service == "auditor":
        return [error.operation.removeprefix("check ")]
    if error.series and plan is not None:
        failed = set(error.series)

        def reads_failed(reader: str) -> bool:
            return any((q.account, q.region) == (error.account, error.region)
                       and q.describe() in failed for q in plan.declared(reader))

        costs_failed = reads_failed(COST_MODEL)
        return sorted(c.id for c in checks if reads_failed(c.id) or (
            c.reads_costs and costs_failed and "cloudwatch.metrics" in c.requires))
    return sorted(c.id for c in checks if set(error.datasets) & c.requires)

