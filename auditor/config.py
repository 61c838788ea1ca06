"""The TOML config: every `auditor scan` option, per-check thresholds and declarative checks.

Validation is strict and speaks in the file's own terms: an unknown key gets a did-you-mean,
a wrong type names the key and the type wanted. Flags given on the command line win.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError
from auditor.findings import SEVERITIES, Category
from auditor.params import ParamValue
from auditor.pricing.discounts import FAMILIES
from auditor.settings import (
    COST_PARAMETERS,
    FORMATS,  # noqa: F401  (re-exported: the formats' old home)
    SETTINGS,
    Notify,
    Setting,
)
from auditor.suppress import Suppression


@dataclass(frozen=True)
class CustomCheckSpec:
    """A `[[custom_checks]]` entry: a JMESPath condition over one resource type."""

    id: str
    title: str
    severity: str
    category: str
    resource_type: str
    condition: str
    message: str
    remediation: str
    rationale: str


def _default(name: str) -> Any:
    return SETTINGS[name].default


@dataclass(frozen=True)
class Config:
    """A scan's settings: those of `auditor.settings.SETTINGS` (their defaults from there),
    and the config's structured tables."""

    regions: tuple[str, ...] = _default("regions")
    profile: str | None = _default("profile")
    lookback_days: int = _default("lookback_days")
    checks: tuple[str, ...] = _default("checks")
    skip_checks: tuple[str, ...] = _default("skip_checks")
    checks_dirs: tuple[Path, ...] = _default("checks_dirs")
    formats: tuple[str, ...] = _default("formats")
    output: str | None = _default("output")
    fail_on: str | None = _default("fail_on")
    allow_unknown: bool = _default("allow_unknown")
    """Exit 0 though verdicts at or above `fail_on` are unknown (a scan that lost access)."""
    max_workers: int = _default("max_workers")
    account_concurrency: int = _default("account_concurrency")
    """At most this many collectors run at once in one account."""
    api_rate_share: float = _default("api_rate_share")
    """The share of AWS's documented request rates (`auditor.ratelimit`) the scan may use."""
    max_attempts: int = _default("max_attempts")
    read_timeout: float = _default("read_timeout")
    """Seconds to wait for a response before the call is retried (then recorded as failed)."""
    thresholds: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)
    cost: Mapping[str, ParamValue] = field(default_factory=dict)
    """`[cost]`: the cost model's assumptions (see `auditor.settings.COST_PARAMETERS`)."""
    custom_checks: tuple[CustomCheckSpec, ...] = ()
    baseline: str | None = _default("baseline")
    """A previous JSON report: `scan()` marks the findings it already had as baselined."""
    suppressions: tuple[Suppression, ...] = ()
    """`[[suppressions]]`: `scan()` marks the findings they match as suppressed."""
    pricing_cache: str | None = _default("pricing_cache")
    """`[pricing] cache`: the price cache to read (default: where `pricing refresh` writes)."""
    free_tier: bool = _default("free_tier")
    """`[pricing] free_tier`: subtract Lambda's monthly free tier from each function."""
    discounts: Mapping[str, float] = field(default_factory=dict)
    """`[pricing.discounts]`: private pricing, a fraction off list by platform family
    (`lambda`, `fargate`, `ec2`), applied to every workload's options and current cost."""
    billing: bool = _default("billing")
    """`[billing] enabled` / `--bill`: read what the account was billed (Cost Explorer) and
    what it pays (Savings Plans, Reserved Instances), and set the model against them."""
    compute_optimizer: bool = _default("compute_optimizer")
    """`[compute_optimizer] enabled` / `--compute-optimizer`: put Compute Optimizer's
    recommendations beside the cost model's in each workload's evidence."""
    all_regions: bool = _default("all_regions")
    """Scan every region enabled for each account (from ec2:DescribeRegions)."""
    org: bool = _default("org")
    """Scan every ACTIVE account of the organization, assuming `role_name` in each."""
    role_name: str | None = _default("role_name")
    account_roles: tuple[str, ...] = _default("account_roles")
    """Role ARNs to assume, one account each."""
    external_id: str | None = _default("external_id")
    shard: str | None = _default("shard")
    """`I/N`, or `N` with I from JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX."""
    notify: tuple[Notify, ...] = _default("notify")
    """`[[notify]]` (or `notify = [...]`) and `--notify`: where the message goes after the
    report is written."""
    security_hub: bool = _default("security_hub")
    """Import the findings into Security Hub after the report is written."""
    history: str | None = _default("history")
    """Earlier JSON reports: the HTML report shows the trend over them."""
    email_from: str | None = _default("email_from")
    """`[delivery] from`: the SES sender of email: targets."""
    ses_region: str | None = _default("ses_region")
    report_url: str | None = _default("report_url")
    """`[delivery] report_url`: the link messages give, instead of a presigned URL."""
    link_expires_days: int = _default("link_expires_days")


_TABLES: dict[str, tuple[type, str]] = {
    "thresholds": (dict, 'a table of tables, [thresholds."check.id"]'),
    "cost": (dict, "a table of the cost model's assumptions, [cost]"),
    "custom_checks": (list, "an array of tables, [[custom_checks]]"),
    "suppressions": (list, "an array of tables, [[suppressions]]"),
    "notify": (list, "a list of targets, or [[notify]] tables"),
}
"""The structured top-level keys, each parsed by its own function below."""
_SECTIONS = tuple(dict.fromkeys(s.section for s in SETTINGS.values() if s.section))
"""Tables of settings: `[pricing]`, `[billing]`, `[compute_optimizer]`."""
_SECTION_TABLES = {("pricing", "discounts"): "a table of fractions off list, [pricing.discounts]"}
"""Structured tables inside a table of settings."""
_CUSTOM_REQUIRED = ("id", "title", "severity", "resource_type", "condition")
_CUSTOM_OPTIONAL = ("category", "message", "remediation", "rationale")


def _unknown_key(where: str, key: str, known: list[str]) -> ConfigError:
    hint = difflib.get_close_matches(key, known, n=1)
    also = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(sorted(known))}"
    return ConfigError(f"{where}: unknown key {key!r}{also}")


def _expect(where: str, key: str, value: Any, wanted: type | tuple[type, ...], what: str) -> None:
    # TOML booleans are not numbers, whatever Python's bool-is-int says.
    if (isinstance(value, bool) and wanted is not bool) or not isinstance(value, wanted):
        raise ConfigError(f"{where}: {key} must be {what}, got {value!r}")


def _strings(where: str, key: str, value: list[Any]) -> tuple[str, ...]:
    for item in value:
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{where}: every item of {key} must be a non-empty string, "
                              f"got {item!r}")
    return tuple(value)


def load(path: Path) -> Config:
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such config file; pass an existing --config path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read the config file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    return parse(raw, where)


def parse(raw: Mapping[str, Any], where: str = "config") -> Config:
    top = {s.config_key: s for s in SETTINGS.values() if s.section is None}
    known = [*top, *_TABLES, *_SECTIONS]
    for key, value in raw.items():
        if key not in known:
            raise _unknown_key(where, key, known)
        if key in _TABLES:
            _expect(where, key, value, *_TABLES[key])
        elif key in _SECTIONS:
            _expect(where, key, value, dict, f"a table, [{key}]")
    values = {setting.name: _setting(where, setting, raw[key])
              for key, setting in top.items() if key in raw and key not in _TABLES}
    for section in _SECTIONS:
        values.update(_section(where, section, raw.get(section, {})))
    pricing = raw.get("pricing", {})
    return Config(
        **values,
        thresholds=_thresholds(where, raw.get("thresholds", {})),
        cost=_cost(where, raw.get("cost", {})),
        custom_checks=tuple(_custom(where, i, entry)
                            for i, entry in enumerate(raw.get("custom_checks", []))),
        suppressions=tuple(_suppression(where, i, entry)
                           for i, entry in enumerate(raw.get("suppressions", []))),
        notify=tuple(_notify(where, i, entry) for i, entry in enumerate(raw.get("notify", []))),
        discounts=discount_fractions(f"{where}: [pricing.discounts]",
                                     pricing.get("discounts", {})),
    )


def _setting(where: str, setting: Setting, value: Any) -> Any:
    problem = setting.problem(value)
    if problem:
        raise ConfigError(f"{where}: {setting.place} {problem}")
    return setting.value(value)


def _section(where: str, section: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """A table of settings (`[billing] enabled`), and the tables it holds, checked here and
    parsed by their own function."""
    settings = {s.config_key: s for s in SETTINGS.values() if s.section == section}
    inner = {key: what for (owner, key), what in _SECTION_TABLES.items() if owner == section}
    values = {}
    for key, value in table.items():
        if key in inner:
            _expect(f"{where}: [{section}]", key, value, dict, inner[key])
        elif key not in settings:
            raise _unknown_key(f"{where}: [{section}]", key, [*settings, *inner])
        else:
            values[settings[key].name] = _setting(where, settings[key], value)
    return values


def with_flags(config: Config, flags: Mapping[str, Any]) -> Config:
    """The config with what was given on the command line, by setting name (a value of None
    or an empty list: not given). Flags win, except a setting that `extends` the config's."""
    changes: dict[str, Any] = {}
    for name, given in flags.items():
        if given is None or given == ():
            continue
        setting = SETTINGS[name]
        value = setting.value(tuple(part.strip() for item in given
                                    for part in item.split(",") if part.strip())
                              if setting.commas else given)
        changes[name] = getattr(config, name) + value if setting.extends else value
    return replace(config, **changes)


def _thresholds(where: str, tables: Mapping[str, Any]) -> dict[str, dict[str, ParamValue]]:
    result: dict[str, dict[str, ParamValue]] = {}
    for check_id, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [thresholds.\"{check_id}\"] must be a table of thresholds")
        for key, value in table.items():
            if not isinstance(value, int | float | str | bool):
                raise ConfigError(f"{where}: [thresholds.\"{check_id}\"] {key} must be a number, "
                                  f"string or boolean, got {value!r}")
        result[check_id] = dict(table)
    return result


def _cost(where: str, table: Mapping[str, Any]) -> dict[str, ParamValue]:
    place = f"{where}: [cost]"
    for key, value in table.items():
        if key not in COST_PARAMETERS:
            raise _unknown_key(place, key, list(COST_PARAMETERS))
        problem = COST_PARAMETERS[key].problem(value)
        if problem:
            raise ConfigError(f"{place}: {key} {problem}")
    return dict(table)


def _custom(where: str, index: int, entry: Any) -> CustomCheckSpec:
    place = f"{where}: custom_checks[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{place} must be a table ([[custom_checks]])")
    known = list(_CUSTOM_REQUIRED + _CUSTOM_OPTIONAL)
    for key, value in entry.items():
        if key not in known:
            raise _unknown_key(place, key, known)
        _expect(place, key, value, str, "a string")
    for key in _CUSTOM_REQUIRED:
        if not entry.get(key):
            raise ConfigError(f"{place} is missing {key!r}")
    if entry["severity"] not in SEVERITIES:
        raise ConfigError(f"{place}: severity must be one of {', '.join(SEVERITIES)}, "
                          f"got {entry['severity']!r}")
    category = entry.get("category", "operations")
    if category not in {c.value for c in Category}:
        raise ConfigError(f"{place}: category must be one of "
                          f"{', '.join(c.value for c in Category)}, got {category!r}")
    return CustomCheckSpec(
        id=entry["id"], title=entry["title"], severity=entry["severity"], category=category,
        resource_type=entry["resource_type"], condition=entry["condition"],
        message=str(entry.get("message", entry["title"])),
        remediation=entry.get("remediation", "See the check's description in the config."),
        rationale=entry.get("rationale", "Declared in the config file."),
    )


_SUPPRESSION_KEYS = ("reason", "checks", "resources", "tags", "expires")


def _suppression(where: str, index: int, entry: Any) -> Suppression:
    place = f"{where}: suppressions[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{place} must be a table ([[suppressions]])")
    for key in entry:
        if key not in _SUPPRESSION_KEYS:
            raise _unknown_key(place, key, list(_SUPPRESSION_KEYS))
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{place} needs a reason: say why the finding is accepted")
    for key in ("checks", "resources"):
        _expect(place, key, entry.get(key, []), list, f'a list of globs, e.g. {key} = ["..."]')
    tags = entry.get("tags", {})
    _expect(place, "tags", tags, dict, 'a table of tag values, e.g. tags = { env = "dev" }')
    for key, value in tags.items():
        _expect(place, f"tags.{key}", value, str, "a string (a glob of the tag value)")
    if not (entry.get("checks") or entry.get("resources") or tags):
        raise ConfigError(f"{place} matches every finding; give checks, resources or tags")
    expires = entry.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            raise ConfigError(f"{place}: expires must be a date, YYYY-MM-DD, "
                              f"got {expires!r}") from None
    if isinstance(expires, datetime):
        expires = expires.date()
    if expires is not None and not isinstance(expires, date):
        raise ConfigError(f"{place}: expires must be a date, YYYY-MM-DD, got {expires!r}")
    return Suppression(
        reason=reason.strip(),
        checks=_strings(place, "checks", entry.get("checks", [])),
        resources=_strings(place, "resources", entry.get("resources", [])),
        tags=dict(tags),
        expires=expires,
    )


_NOTIFY_KEYS = ("target", "min_severity", "only_new")


def _notify(where: str, index: int, entry: Any) -> Notify:
    """A target string, or a `[[notify]]` table with its filters. The target itself is
    checked by `auditor.deliver.targets.parse_target` before the scan; a value is never
    repeated here, as a webhook URL is a secret."""
    place = f"{where}: notify[{index}]"
    if isinstance(entry, str) and entry:
        return Notify(entry)
    if not isinstance(entry, dict):
        raise ConfigError(f"{place} must be a target string or a table ([[notify]])")
    for key in entry:
        if key not in _NOTIFY_KEYS:
            raise _unknown_key(place, key, list(_NOTIFY_KEYS))
    target = entry.get("target")
    if not isinstance(target, str) or not target:
        raise ConfigError(f"{place} needs a target, e.g. target = \"slack+https://…\"")
    severity = entry.get("min_severity")
    if severity is not None and severity not in SEVERITIES:
        raise ConfigError(f"{place}: min_severity must be one of {', '.join(SEVERITIES)}, "
                          f"got {severity!r}")
    only_new = entry.get("only_new", False)
    _expect(place, "only_new", only_new, bool, "true or false")
    return Notify(target, severity, only_new)


def discount_fractions(where: str, table: Mapping[str, Any]) -> dict[str, float]:
    """Fractions off list by platform family (`lambda = 0.12`): from 0 up to, not
    including, 1. A percentage (20 for 20%) is refused with the fraction it meant."""
    for family, value in table.items():
        if family not in FAMILIES:
            raise _unknown_key(where, family, list(FAMILIES))
        _expect(where, family, value, (int, float), "a fraction off list, e.g. 0.2 for 20%")
        if not 0 <= value < 1:
            hint = f" (did you mean {value / 100:g}?)" if 1 < value < 100 else ""
            raise ConfigError(f"{where}: {family} must be a fraction from 0 up to 1 (0.2 is "
                              f"20% off list), got {value!r}{hint}")
    return {family: float(value) for family, value in table.items()}
