"""Dated reference tables shipped with the auditor: the EKS version calendar, the current
Fargate platform versions and the Lambda runtime table. Each JSON file names its source and
the date it was checked (`as_of`), and a finding built from one repeats both, so a reader can
tell a stale table from a real problem.

The files are package data (`auditor/data/*.json`), read with importlib.resources so they work
from a wheel as well as a checkout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from auditor.model import EksVersionSupport


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _day(text: str) -> datetime:
    """A calendar date as midnight UTC, comparable with the scan time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def version_key(version: str) -> tuple[int, ...]:
    """`1.29` -> (1, 29); `v1.16.0-eksbuild.1` -> (1, 16, 0, 1): numbers compared in order."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


@dataclass(frozen=True)
class DatedTable:
    source: str
    as_of: str

    def describe(self) -> dict[str, str]:
        """For a finding's evidence: which table, checked when."""
        return {"source": self.source, "as_of": self.as_of}


# --------------------------------------------------------------------------- EKS


@dataclass(frozen=True)
class EksVersionWindow:
    version: str
    release: datetime
    end_of_standard_support: datetime
    end_of_extended_support: datetime


@dataclass(frozen=True)
class EksCalendar(DatedTable):
    versions: Mapping[str, EksVersionWindow]

    def newest(self) -> str:
        return max(self.versions, key=version_key)

    def oldest(self) -> str:
        return min(self.versions, key=version_key)


@dataclass(frozen=True)
class SupportWindow:
    end_of_standard: datetime
    end_of_extended: datetime
    source: str
    """Where the dates come from: the API, or this calendar with its source and date."""


@cache
def eks_calendar() -> EksCalendar:
    raw = _load("eks_versions.json")
    return EksCalendar(
        source=raw["source"],
        as_of=raw["as_of"],
        versions={
            version: EksVersionWindow(
                version, _day(dates["release"]), _day(dates["end_of_standard_support"]),
                _day(dates["end_of_extended_support"]),
            )
            for version, dates in raw["versions"].items()
        },
    )


def eks_support_window(version: str, api: EksVersionSupport | None) -> SupportWindow | None:
    """A Kubernetes version's support dates: from `DescribeClusterVersions` (`api`) when it
    answered with them, else from the shipped calendar; None when neither knows the version."""
    if api and api.end_of_standard_support and api.end_of_extended_support:
        return SupportWindow(api.end_of_standard_support, api.end_of_extended_support,
                             "eks:DescribeClusterVersions")
    calendar = eks_calendar()
    known = calendar.versions.get(version)
    if known is None:
        return None
    return SupportWindow(known.end_of_standard_support, known.end_of_extended_support,
                         f"shipped calendar ({calendar.source}; as of {calendar.as_of})")


# --------------------------------------------------------------------------- ECS


@dataclass(frozen=True)
class FargatePlatforms(DatedTable):
    current: Mapping[str, str]
    """The current platform version by family: `LINUX`, `WINDOWS_SERVER`."""

    def current_for(self, os_family: str) -> str:
        """The current version for a task's operating system family (`LINUX`,
        `WINDOWS_SERVER_2022_CORE`...)."""
        family = "WINDOWS_SERVER" if os_family.upper().startswith("WINDOWS") else "LINUX"
        return self.current[family]


@cache
def fargate_platforms() -> FargatePlatforms:
    raw = _load("fargate_platforms.json")
    return FargatePlatforms(source=raw["source"], as_of=raw["as_of"],
                            current=dict(raw["current"]))


# --------------------------------------------------------------------------- Lambda


@dataclass(frozen=True)
class LambdaRuntime:
    name: str
    deprecation: datetime | None
    """When AWS stops patching it; None when no date is announced."""
    arm64: bool


@dataclass(frozen=True)
class RuntimeTable(DatedTable):
    runtimes: Mapping[str, LambdaRuntime]

    def get(self, name: str | None) -> LambdaRuntime | None:
        return self.runtimes.get(name) if name else None

    def predecessor_of_all(self, name: str) -> LambdaRuntime | None:
        """For a runtime the table does not list: the oldest listed runtime of its language
        when `name` is older still (`nodejs4.3` before `nodejs6.10`), else None (a newer or
        unheard-of runtime, which nothing here can judge)."""
        family = runtime_family(name)
        listed = [r for r in self.runtimes.values() if runtime_family(r.name) == family]
        oldest = min(listed, key=lambda r: version_key(r.name), default=None)
        if oldest is None or not version_key(name) < version_key(oldest.name):
            return None
        return oldest


def runtime_family(name: str) -> str:
    """`nodejs20.x` -> `nodejs`, `dotnetcore3.1` -> `dotnetcore`, `provided.al2` ->
    `provided`: the leading letters name the language."""
    found = re.match(r"[a-z]+", name)
    return found.group() if found else name


@cache
def lambda_runtimes() -> RuntimeTable:
    raw = _load("lambda_runtimes.json")
    return RuntimeTable(
        source=raw["source"],
        as_of=raw["as_of"],
        runtimes={
            name: LambdaRuntime(
                name, _day(entry["deprecation"]) if entry["deprecation"] else None,
                bool(entry["arm64"]),
            )
            for name, entry in raw["runtimes"].items()
        },
    )
