"""What a scheduled run reads before its report is made and does to it after: the earlier
reports (`--history`), the baseline (a report, or the latest of a directory or an `s3://`
prefix, as the nightly manifests keep them) and the deliveries planned from the config.

Everything that can fail on bad input is read here first, so that a bad path, report or
target fails in a second (exit 2), not after the scan. `auditor scan` and `auditor merge` (a
sharded night delivers from the merge) both go through `prepare` and `finish`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import boto3
from botocore.exceptions import ProfileNotFound

from auditor.baseline import apply_baseline
from auditor.config import Config
from auditor.deliver import plan as deliveries
from auditor.errors import ReportError
from auditor.report import read, trend
from auditor.report.document import Report

Earlier = tuple[tuple[Report, str], ...]
"""Earlier reports with where each was read from."""


def s3_session(sources: Sequence[str], profile: str | None) -> boto3.session.Session | None:
    """The session to read reports from S3 with, when a source is there."""
    if not any(s.startswith("s3://") for s in sources):
        return None
    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        raise ReportError(f"AWS profile {profile!r} not found") from None


def earlier_reports(source: str | None, profile: str | None) -> Earlier:
    """The reports a directory, prefix or file holds; none there yet (the first night) is no
    error."""
    if source is None:
        return ()
    return tuple(trend.load((source,), s3_session((source,), profile), empty_ok=True))


def baseline_report(source: str | None, profile: str | None,
                    earlier: Earlier | None = None) -> Report | None:
    """What `--baseline` names: a JSON report, or the latest `report-*.json` of a directory
    (or a path ending in `/`) or an `s3://` prefix, none there yet being no baseline.
    `earlier`: that directory's reports, when already read for `--history`."""
    if source is None:
        return None
    if not (source.startswith("s3://") or source.endswith(("/", os.sep))
            or Path(source).is_dir()):
        return read.load(Path(source))
    found = earlier_reports(source, profile) if earlier is None else earlier
    return max(found, key=lambda pair: pair[0].generated_at)[0] if found else None


@dataclass(frozen=True)
class Night:
    """What was read before the report, for what is done to it after."""

    earlier: Earlier = ()
    baseline: Report | None = field(default=None, repr=False)
    deliveries: deliveries.Plan = field(default_factory=deliveries.Plan)
    history: bool = False

    def finish(self, report: Report) -> Report:
        """The baseline applied, and the trend over the earlier reports and this one for the
        HTML (with `--history`)."""
        if self.baseline is not None:
            report = apply_baseline(report, self.baseline)
        if self.history:
            report = replace(report, history=tuple(
                trend.series([*self.earlier, (report, "this report")])))
        return report


def prepare(config: Config, demo: bool = False) -> Night:
    earlier = earlier_reports(config.history, config.profile)
    # One prefix is often both (see deploy/): read once.
    baseline = baseline_report(config.baseline, config.profile,
                               earlier if config.baseline == config.history else None)
    return Night(earlier, baseline, deliveries.plan(config, baseline, demo),
                 history=config.history is not None)
