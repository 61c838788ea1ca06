"""Every setting of a scan, declared once: its name, type, default, range or choices, what it
means, its command-line flag and its key in the TOML config.

The config parser (`auditor.config`), the command line's options (`auditor.cli.common`) and
the test that `config.example.toml` states the defaults all read this table, so a default or a
range cannot differ between the flag and the file. The config's structured tables (checks'
`[thresholds]`, `[cost]`, `[[custom_checks]]`, `[[suppressions]]`, `[pricing.discounts]`,
`[[notify]]`) are parsed by `auditor.config`; `[cost]` takes its ranges from
`COST_PARAMETERS` here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from auditor.cost.workloads import MODEL_PARAMETERS
from auditor.findings import SEVERITIES
from auditor.params import (
    HOURS_OF_DATA,
    PERCENT,
    SOME_PERCENT,
    Param,
    Range,
    above,
    at_least,
    between,
    is_number,
)

FORMATS = ("table", "json", "csv", "markdown", "html", "sarif", "ocsf")

Kind = Literal["string", "integer", "number", "boolean", "strings", "paths", "choice", "choices",
               "targets"]
"""How a setting is written: one string, a whole number, a number, true or false, a list of
strings (or of directories), one of its choices, a list of its choices, or a list of notify
targets (`Notify`)."""

_WHAT: Mapping[str, str] = {
    "string": "a string", "integer": "a whole number", "number": "a number",
    "boolean": "true or false", "strings": "a list of strings", "paths": "a list of paths",
    "targets": "a list of notify targets",
}
_LISTS = ("strings", "paths", "choices", "targets")


@dataclass(frozen=True)
class Notify:
    """Where the nightly message goes: a `--notify TARGET` or a `[[notify]]` table. The target
    is parsed (and refused) by `auditor.deliver.targets.parse_target`; it is out of `repr`
    because a webhook URL is a secret."""

    target: str = field(repr=False)
    min_severity: str | None = None
    """Only findings at or above this severity are named and counted."""
    only_new: bool = False
    """Send only when something at or above `min_severity` is new since the baseline."""


@dataclass(frozen=True)
class Setting:
    """One setting: the `Config` field `name`, read from the config's `key` (in the table
    `[section]` when it has one) and from `flag` on the command line, which wins."""

    name: str
    kind: Kind
    default: Any
    help: str
    """What it means: the flag's help (the default is added to it)."""
    flag: str | None = None
    """`--lookback-days`; None: the config file only."""
    key: str = ""
    """The config key; empty: `name`."""
    section: str | None = None
    """The config table the key is in (`billing` for `[billing] enabled`); None: top level."""
    range: Range | None = None
    choices: tuple[str, ...] = ()
    what: str = ""
    """The value wanted, in an error's words (`a whole number of days`); empty: by kind."""
    why: str = ""
    """Said after a range error: where the range comes from."""
    negatable: bool = False
    """A `--flag/--no-flag` pair: the flag can also turn off what the config turns on."""
    commas: bool = False
    """The flag also takes comma-separated values (`--checks 'ecs.*,network.*'`)."""
    extends: bool = False
    """Values given by flag are added to the config's rather than replacing them."""

    @property
    def config_key(self) -> str:
        return self.key or self.name

    @property
    def place(self) -> str:
        """Where the config holds it: `lookback_days`, `[billing] enabled`."""
        return f"[{self.section}] {self.config_key}" if self.section else self.config_key

    @property
    def wanted(self) -> str:
        if self.what:
            return self.what
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        if self.kind == "choices":
            return f"a list of {', '.join(self.choices)}"
        return _WHAT[self.kind]

    @property
    def repeatable(self) -> bool:
        return self.kind in _LISTS

    def problem(self, value: object) -> str | None:
        """What is wrong with a value given for this setting (`must be ..., got ...`), or
        None: said after the key or the flag. `value` is the config's or a flag's."""
        if self.kind in _LISTS:
            if not isinstance(value, list | tuple):
                return f"must be {self.wanted}, got {value!r}"
            for item in value:
                if not self._fits(item):
                    return f"has {item!r}, which is not {self._item_wanted}"
            return None
        if not self._fits(value):
            return f"must be {self.wanted}, got {value!r}"
        if self.range is not None and is_number(value) and value not in self.range:
            why = f" {self.why}" if self.why else ""
            return f"must be {self.range}{why}, got {value!r}"
        return None

    @property
    def _item_wanted(self) -> str:
        return f"one of {', '.join(self.choices)}" if self.choices else "a non-empty string"

    def _fits(self, value: object) -> bool:
        """Of the setting's type (one item of a list setting), whatever its range."""
        if self.choices:
            return value in self.choices
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "integer":
            return is_number(value) and isinstance(value, int)
        if self.kind == "number":
            return is_number(value)
        return isinstance(value, str | Path) and bool(str(value))

    def value(self, given: Any) -> Any:
        """The `Config` value for a valid config value or flag value."""
        if self.kind == "paths":
            return tuple(Path(item) for item in given)
        if self.kind == "targets":
            return tuple(Notify(str(item)) for item in given)
        if self.kind in _LISTS:
            return tuple(given)
        if self.kind == "number":
            return float(given)
        if self.kind == "string":
            return str(given)
        return given


SETTINGS: Mapping[str, Setting] = {s.name: s for s in (
    Setting("regions", "strings", (), "Region to scan; by default the session's, else "
            "us-east-1.", flag="--region", what="a list of region names"),
    Setting("all_regions", "boolean", False, "Scan every region enabled for each account.",
            flag="--all-regions"),
    Setting("profile", "string", None, "AWS profile to use (default: the standard credential "
            "chain).", flag="--profile", what="a profile name"),
    Setting("org", "boolean", False, "Scan every active account of the organization (needs "
            "--role-name).", flag="--org"),
    Setting("role_name", "string", None, "Role to assume in each account with --org.",
            flag="--role-name", what="the role name to assume in each account"),
    Setting("account_roles", "strings", (), "Role ARN to assume and scan, one account each.",
            flag="--account-role", what="a list of role ARNs"),
    Setting("external_id", "string", None, "External ID the assumed roles' trust policy "
            "requires.", flag="--external-id",
            what="the external ID the roles' trust policy requires"),
    Setting("shard", "string", None, "Scan one slice: I/N, or N with I from "
            "JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX.", flag="--shard",
            what='a shard, "I/N" or "N"'),
    Setting("checks", "strings", (), "Only these checks: IDs or globs, comma-separated.",
            flag="--checks", commas=True, what="a list of check IDs or globs"),
    Setting("skip_checks", "strings", (), "Skip these checks: IDs or globs, comma-separated.",
            flag="--skip-checks", commas=True, what="a list of check IDs or globs"),
    Setting("checks_dirs", "paths", (), "Directory of extra check modules, added to the "
            "config's.", flag="--checks-dir", extends=True, what="a list of directories"),
    Setting("lookback_days", "integer", 14, "Days of CloudWatch history to judge by.",
            flag="--lookback-days", range=between(1, 455), what="a whole number of days",
            why="(CloudWatch keeps hourly data 455 days)"),
    Setting("formats", "choices", ("table",), "Output format.", flag="--format", key="format",
            choices=FORMATS, what=f"a list of formats ({', '.join(FORMATS)})"),
    Setting("output", "string", None, "Write the report here: a file (one format), a "
            "directory or a path ending in / (one timestamped file per format) or "
            "s3://BUCKET/PREFIX/.", flag="--output", what="a file path"),
    Setting("baseline", "string", None, "A previous JSON report, or the latest report-*.json "
            "of a directory or s3://BUCKET/PREFIX/ (none there yet: none): report only "
            "findings not in it.", flag="--baseline",
            what="a previous JSON report, a directory or s3://BUCKET/PREFIX/"),
    Setting("notify", "targets", (), "After the report is written, send the summary (new and "
            "resolved since --baseline) to slack+https://…, teams+https://…, "
            "webhook+https://…, sns:TOPIC_ARN or email:ADDRESS; added to the config's "
            "[[notify]].", flag="--notify", extends=True,
            what="a list of targets, or [[notify]] tables"),
    Setting("security_hub", "boolean", False, "After the report is written, import the "
            "findings into AWS Security Hub (the session's account and region) and archive "
            "those resolved since the last import.", flag="--security-hub", negatable=True),
    Setting("history", "string", None, "Earlier JSON reports (a directory or "
            "s3://BUCKET/PREFIX/): the HTML report shows the trend over them and this scan.",
            flag="--history", what="a directory, a JSON report or s3://BUCKET/PREFIX/"),
    Setting("fail_on", "choice", None, "Exit 1 when a finding at or above this severity is "
            "reported, 4 when none is but some could not be checked (unknown) at or above it.",
            flag="--fail-on", choices=SEVERITIES),
    Setting("allow_unknown", "boolean", False, "With --fail-on: exit 0 though verdicts at or "
            "above it are unknown.", flag="--allow-unknown"),
    Setting("billing", "boolean", False, "Set the model against the bill: Cost Explorer (at "
            "most 8 calls an account, $0.01 each), Savings Plans and Reserved Instances (on "
            "with --demo).", flag="--bill", key="enabled", section="billing", negatable=True),
    Setting("compute_optimizer", "boolean", False, "Put AWS Compute Optimizer's Lambda and "
            "Fargate recommendations beside ours in each workload's evidence (the account "
            "must be enrolled).", flag="--compute-optimizer", key="enabled",
            section="compute_optimizer", negatable=True),
    Setting("max_workers", "integer", 8, "Parallel API workers.", flag="--max-workers",
            range=between(1, 64)),
    Setting("account_concurrency", "integer", 4, "Collectors run at once in one account, "
            "however many workers (an organization's accounts are scanned side by side).",
            flag="--account-concurrency", range=between(1, 64)),
    Setting("api_rate_share", "number", 0.5, "Share of AWS's documented request rates the "
            "scan may use in each account and region; the rest is left to the account's own "
            "automation.", flag="--api-rate-share", range=Range(0, 1, low_open=True),
            what="a fraction", why="(a share of AWS's rates)"),
    Setting("max_attempts", "integer", 8, "Attempts per API call (adaptive retries).",
            range=between(1, 64)),
    Setting("read_timeout", "number", 30.0, "Seconds to wait for a response before the call "
            "is retried (then recorded as failed).", range=Range(0, 600, low_open=True),
            what="a number of seconds"),
    Setting("pricing_cache", "string", None, "The price cache to read (default: where "
            "`auditor pricing refresh` writes).", key="cache", section="pricing",
            what="the path of a price cache file"),
    Setting("free_tier", "boolean", False, "Subtract Lambda's monthly free tier from each "
            "function.", key="free_tier", section="pricing"),
    Setting("email_from", "string", None, "The address email: targets are sent from (verified "
            "in SES).", key="from", section="delivery", what="an email address"),
    Setting("ses_region", "string", None, "The region SES sends email from (default: the "
            "session's).", section="delivery", what="a region name"),
    Setting("report_url", "string", None, "The report link messages give, instead of a "
            "presigned URL to the uploaded HTML report.", section="delivery", what="a URL"),
    Setting("link_expires_days", "integer", 7, "Days the presigned link to the uploaded HTML "
            "report works.", section="delivery", range=between(1, 7),
            what="a whole number of days", why="(a SigV4 presigned URL lives at most 7 days)"),
)}
"""Every scan setting, in the order `auditor scan --help` lists their flags."""


def flagged(name: str) -> Setting:
    """The setting behind a command-line flag (an error while building the CLI, if none)."""
    setting = SETTINGS[name]
    if setting.flag is None:
        raise LookupError(f"setting {name} has no command-line flag")
    return setting


MODEL_RANGES: Mapping[str, Range] = {
    "peak_factor": at_least(1),
    "rps_per_vcpu": above(0),
    "min_tasks": at_least(1),
    "target_peak_percent": SOME_PERCENT,
    "idle_cpu_max_percent": PERCENT,
    "min_hours_of_data": HOURS_OF_DATA,
    "provisioned_percentile": SOME_PERCENT,
}
"""The range of each of the cost model's assumptions (`[cost]`, and `auditor estimate`'s
flags for the same numbers). The assumptions are declared with their defaults in
`auditor.cost.workloads.MODEL_PARAMETERS`; a range declared there wins over this one."""

COST_PARAMETERS: Mapping[str, Param] = {
    name: replace(param, range=param.range or MODEL_RANGES.get(name))
    for name, param in MODEL_PARAMETERS.items()
}
"""`[cost]`: the cost model's assumptions, each with its default and its range."""
