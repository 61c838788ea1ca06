"""Suppressions: findings a team has looked at and accepted, with a reason and an expiry.

Two sources, both applied by one pure function, `apply_suppressions`:
- `[[suppressions]]` in the config: match by check ID glob, resource ARN glob and/or resource
  tags (all the given criteria must match), with a required `reason` and an optional `expires`
  date. A suppression applies through its expiry date (UTC) and not after: an expired one no
  longer hides its findings, which report again with a note saying so.
- the resource's own tag `auditor:ignore`, listing check IDs (or globs, or `all`) separated by
  commas or spaces (IAM and Lambda tag values do not allow commas).

Suppressed findings are never dropped: they stay in the JSON report with `suppressed: true`
and the reason, and every format can show them; they are only left out of the counts, the
exit code and the human-facing lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fnmatch import fnmatchcase

from auditor.findings import Finding
from auditor.model import Inventory

IGNORE_TAG = "auditor:ignore"
"""A resource tag whose value lists the checks to ignore on that resource."""

_LAMBDA_QUALIFIED = re.compile(r"^(arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+):[^:]+$")

Tags = Mapping[str, str]


@dataclass(frozen=True)
class Suppression:
    """One `[[suppressions]]` entry. Empty criteria match anything; at least one is given."""

    reason: str
    checks: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    expires: date | None = None

    def matches(self, finding: Finding, tags: Tags) -> bool:
        return (
            (not self.checks or any(fnmatchcase(finding.check_id, g) for g in self.checks))
            and (not self.resources
                 or any(fnmatchcase(finding.resource_arn, g) for g in self.resources))
            and all(key in tags and fnmatchcase(tags[key], wanted)
                    for key, wanted in self.tags.items())
        )

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def describe(self) -> str:
        until = f" (until {self.expires.isoformat()})" if self.expires else ""
        return f"{self.reason}{until}"


def ignored_checks(tags: Tags) -> tuple[str, ...]:
    """The check IDs or globs a resource's `auditor:ignore` tag names."""
    value = tags.get(IGNORE_TAG, "")
    return tuple(part for part in re.split(r"[,\s]+", value) if part)


def _tag_ignores(finding: Finding, tags: Tags) -> bool:
    return any(pattern == "all" or fnmatchcase(finding.check_id, pattern)
               for pattern in ignored_checks(tags))


def tags_for(arn: str, tags_by_arn: Mapping[str, Tags]) -> Tags:
    """A resource's tags; a qualified Lambda ARN (`function:name:alias`) has its function's."""
    if arn in tags_by_arn:
        return tags_by_arn[arn]
    qualified = _LAMBDA_QUALIFIED.match(arn)
    return tags_by_arn.get(qualified.group(1), {}) if qualified else {}


def resource_tags(inventory: Inventory, findings: Iterable[Finding]) -> dict[str, dict[str, str]]:
    """The tags of every resource a finding names, by the finding's ARN (from the inventory).
    A Lambda function's alias, version, provisioned concurrency, URL and event source mapping
    go by their function's tags, as Lambda keeps them: on the function."""
    found: dict[str, dict[str, str]] = {}
    for finding in findings:
        arn = finding.resource_arn
        qualified = _LAMBDA_QUALIFIED.match(arn)
        resource = inventory.get(arn) or (inventory.get(qualified.group(1)) if qualified else None)
        if resource is not None and resource.kind.startswith("lambda-") and not hasattr(
                resource, "tags"):
            resource = inventory.get(getattr(resource, "function_arn", ""))
        tags = getattr(resource, "tags", None)
        if tags:
            found[arn] = dict(tags)
    return found


def apply_suppressions(findings: Sequence[Finding], rules: Sequence[Suppression],
                       tags_by_arn: Mapping[str, Tags], now: datetime) -> tuple[Finding, ...]:
    """Mark suppressed findings (the first matching rule wins) and note expired suppressions.

    Pure: the findings, the rules, the resources' tags and the time in; findings out.
    """
    today = now.date()
    result = []
    for finding in findings:
        tags = tags_for(finding.resource_arn, tags_by_arn)
        if _tag_ignores(finding, tags):
            result.append(replace(finding, suppressed=True,
                                  suppression_reason=f"resource tag {IGNORE_TAG}"))
            continue
        matching = [rule for rule in rules if rule.matches(finding, tags)]
        active = next((rule for rule in matching if not rule.expired(today)), None)
        if active is not None:
            result.append(replace(finding, suppressed=True, suppression_reason=active.describe()))
        elif matching:
            lapsed = max(matching, key=lambda rule: rule.expires or today)
            assert lapsed.expires is not None
            result.append(replace(finding, suppressed=False, suppression_reason=(
                f"suppression expired on {lapsed.expires.isoformat()}: {lapsed.reason}")))
        else:
            result.append(finding)
    return tuple(result)
