"""The TOML config: every `auditor scan` option, per-check thresholds and declarative checks.

Validation is strict and speaks in the file's own terms: an unknown key gets a did-you-mean,
a wrong type names the key and the type wanted. Flags given on the command line win.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from auditor.cost.workloads import MODEL_PARAMETERS
from auditor.errors import ConfigError
from auditor.findings import SEVERITIES, Category
from auditor.params import ParamValue
from auditor.pricing.discounts import FAMILIES
from auditor.suppress import Suppression

FORMATS = ("table", "json", "csv", "markdown", "html", "sarif", "ocsf")


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


@dataclass(frozen=True)
class Config:
    regions: tuple[str, ...] = ()
    profile: str | None = None
    lookback_days: int = 14
    checks: tuple[str, ...] = ()
    skip_checks: tuple[str, ...] = ()
    checks_dirs: tuple[Path, ...] = ()
    formats: tuple[str, ...] = ("table",)
    output: str | None = None
    fail_on: str | None = None
    allow_unknown: bool = False
    """Exit 0 though verdicts at or above `fail_on` are unknown (a scan that lost access)."""
    max_workers: int = 8
    max_attempts: int = 8
    read_timeout: float = 30.0
    """Seconds to wait for a response before the call is retried (then recorded as failed)."""
    thresholds: Mapping[str, Mapping[str, ParamValue]] = field(default_factory=dict)
    cost: Mapping[str, ParamValue] = field(default_factory=dict)
    """`[cost]`: the cost model's assumptions (see `auditor.cost.workloads.MODEL_PARAMETERS`)."""
    custom_checks: tuple[CustomCheckSpec, ...] = ()
    baseline: str | None = None
    suppressions: tuple[Suppression, ...] = ()
    pricing_cache: str | None = None
    """`[pricing] cache`: the price cache to read (default: where `pricing refresh` writes)."""
    free_tier: bool = False
    """`[pricing] free_tier`: subtract Lambda's monthly free tier from each function."""
    discounts: Mapping[str, float] = field(default_factory=dict)
    """`[pricing.discounts]`: private pricing, a fraction off list by platform family
    (`lambda`, `fargate`, `ec2`), applied to every workload's options and current cost."""
    billing: bool = False
    """`[billing] enabled` / `--bill`: read what the account was billed (Cost Explorer) and
    what it pays (Savings Plans, Reserved Instances), and set the model against them."""
    compute_optimizer: bool = False
    """`[compute_optimizer] enabled` / `--compute-optimizer`: put Compute Optimizer's
    recommendations beside the cost model's in each workload's evidence."""
    all_regions: bool = False
    """Scan every region enabled for each account (from ec2:DescribeRegions)."""
    org: bool = False
    """Scan every ACTIVE account of the organization, assuming `role_name` in each."""
    role_name: str | None = None
    account_roles: tuple[str, ...] = ()
    """Role ARNs to assume, one account each."""
    external_id: str | None = None
    shard: str | None = None
    """`I/N`, or `N` with I from JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX."""


# key -> (type wanted, how to describe it)
_TOP: dict[str, tuple[type | tuple[type, ...], str]] = {
    "regions": (list, "a list of region names"),
    "profile": (str, "a profile name"),
    "lookback_days": (int, "a whole number of days"),
    "checks": (list, "a list of check IDs or globs"),
    "skip_checks": (list, "a list of check IDs or globs"),
    "checks_dirs": (list, "a list of directories"),
    "format": (list, f"a list of formats ({', '.join(FORMATS)})"),
    "output": (str, "a file path"),
    "fail_on": (str, f"a severity ({', '.join(SEVERITIES)})"),
    "allow_unknown": (bool, "true or false"),
    "max_workers": (int, "a whole number"),
    "max_attempts": (int, "a whole number"),
    "read_timeout": ((int, float), "a number of seconds"),
    "thresholds": (dict, 'a table of tables, [thresholds."check.id"]'),
    "cost": (dict, "a table of the cost model's assumptions, [cost]"),
    "custom_checks": (list, "an array of tables"),
    "baseline": (str, "the path of a previous JSON report"),
    "suppressions": (list, "an array of tables, [[suppressions]]"),
    "pricing": (dict, "a table, [pricing]"),
    "billing": (dict, "a table, [billing]"),
    "compute_optimizer": (dict, "a table, [compute_optimizer]"),
    "all_regions": (bool, "true or false"),
    "org": (bool, "true or false"),
    "role_name": (str, "the role name to assume in each account"),
    "account_roles": (list, "a list of role ARNs"),
    "external_id": (str, "the external ID the roles' trust policy requires"),
    "shard": (str, 'a shard, "I/N" or "N"'),
}
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
    values: dict[str, Any] = dict(raw)
    for key, value in values.items():
        if key not in _TOP:
            raise _unknown_key(where, key, list(_TOP))
        wanted, what = _TOP[key]
        _expect(where, key, value, wanted, what)

    lookback = values.get("lookback_days", 14)
    if not 1 <= lookback <= 455:
        raise ConfigError(f"{where}: lookback_days must be between 1 and 455 (CloudWatch keeps "
                          f"hourly data 455 days), got {lookback}")
    formats = _strings(where, "format", values.get("format", ["table"]))
    for fmt in formats:
        if fmt not in FORMATS:
            raise ConfigError(f"{where}: format {fmt!r} is not one of {', '.join(FORMATS)}")
    fail_on = values.get("fail_on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise ConfigError(f"{where}: fail_on must be one of {', '.join(SEVERITIES)}, "
                          f"got {fail_on!r}")
    for key in ("max_workers", "max_attempts"):
        if key in values and not 1 <= values[key] <= 64:
            raise ConfigError(f"{where}: {key} must be between 1 and 64, got {values[key]}")
    if "read_timeout" in values and not 0 < values["read_timeout"] <= 600:
        raise ConfigError(f"{where}: read_timeout must be more than 0 and at most 600 seconds, "
                          f"got {values['read_timeout']}")
    return Config(
        regions=_strings(where, "regions", values.get("regions", [])),
        profile=values.get("profile"),
        lookback_days=lookback,
        checks=_strings(where, "checks", values.get("checks", [])),
        skip_checks=_strings(where, "skip_checks", values.get("skip_checks", [])),
        checks_dirs=tuple(Path(p) for p in _strings(where, "checks_dirs",
                                                     values.get("checks_dirs", []))),
        formats=formats,
        output=values.get("output"),
        fail_on=fail_on,
        allow_unknown=values.get("allow_unknown", False),
        max_workers=values.get("max_workers", 8),
        max_attempts=values.get("max_attempts", 8),
        read_timeout=float(values.get("read_timeout", 30.0)),
        thresholds=_thresholds(where, values.get("thresholds", {})),
        cost=_cost(where, values.get("cost", {})),
        custom_checks=tuple(_custom(where, i, entry)
                            for i, entry in enumerate(values.get("custom_checks", []))),
        baseline=values.get("baseline"),
        suppressions=tuple(_suppression(where, i, entry)
                           for i, entry in enumerate(values.get("suppressions", []))),
        **_pricing(where, values.get("pricing", {})),
        billing=_enabled(where, "billing", values.get("billing", {})),
        compute_optimizer=_enabled(where, "compute_optimizer",
                                   values.get("compute_optimizer", {})),
        all_regions=values.get("all_regions", False),
        org=values.get("org", False),
        role_name=values.get("role_name"),
        account_roles=_strings(where, "account_roles", values.get("account_roles", [])),
        external_id=values.get("external_id"),
        shard=values.get("shard"),
    )


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
        if key not in MODEL_PARAMETERS:
            raise _unknown_key(place, key, list(MODEL_PARAMETERS))
        default = MODEL_PARAMETERS[key].default
        wanted: type | tuple[type, ...] = (int, float) if isinstance(default, int | float) \
            else type(default)
        _expect(place, key, value, wanted, f"a {type(default).__name__}")
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


def _enabled(where: str, section: str, table: Mapping[str, Any]) -> bool:
    """`[billing]`, `[compute_optimizer]`: `enabled` (a boolean)."""
    place = f"{where}: [{section}]"
    for key, value in table.items():
        if key != "enabled":
            raise _unknown_key(place, key, ["enabled"])
        _expect(place, key, value, bool, "true or false")
    return bool(table.get("enabled", False))


_PRICING = {"cache": (str, "the path of a price cache file"),
            "free_tier": (bool, "true or false"),
            "discounts": (dict, "a table of fractions off list, [pricing.discounts]")}


def _pricing(where: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """`[pricing]`: `cache` (a price cache path), `free_tier` (a boolean) and `discounts`."""
    place = f"{where}: [pricing]"
    for key, value in table.items():
        if key not in _PRICING:
            raise _unknown_key(place, key, list(_PRICING))
        wanted, what = _PRICING[key]
        _expect(place, key, value, wanted, what)
    return {"pricing_cache": table.get("cache"), "free_tier": table.get("free_tier", False),
            "discounts": discount_fractions(f"{where}: [pricing.discounts]",
                                            table.get("discounts", {}))}


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
