"""What a nightly run delivers (`auditor scan`, or `auditor merge` of a sharded night):
planned from the config before the scan, so that a bad target, a missing sender or an unknown
profile fails in a second (exit 2) rather than after it, and sent after the report is written,
so that no delivery can lose it or change the exit code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from auditor.config import Config
from auditor.deliver.clients import read_client
from auditor.deliver.message import Link, report_link
from auditor.deliver.securityhub import send_to_security_hub
from auditor.deliver.send import AwsDelivery, deliver_all, require_sender
from auditor.deliver.targets import Target, parse_target
from auditor.errors import ConfigError
from auditor.findings import Severity
from auditor.report.document import Delivery, Report
from auditor.report.output import parse_s3

AWS_KINDS = ("sns", "email")
"""Targets reached through the user's AWS session; the others are plain HTTPS."""


@dataclass(frozen=True)
class Plan:
    """Where tonight's report goes once written; empty: nowhere."""

    targets: tuple[Target, ...] = ()
    security_hub: bool = False
    baseline: Report | None = field(default=None, repr=False)
    """What new and resolved are counted against (`--baseline`, read again here)."""
    session: boto3.session.Session | None = field(default=None, repr=False)
    """The user's session, for SNS, SES, Security Hub and signing the report's link; None
    when nothing needs AWS."""
    sender: str | None = None
    ses_region: str | None = None
    report_url: str | None = None
    link_expires: timedelta = timedelta(days=7)

    @property
    def empty(self) -> bool:
        return not self.targets and not self.security_hub


def targets(config: Config) -> tuple[Target, ...]:
    """The config's and the flags' targets, each parsed (a `ConfigError` line that never
    repeats a webhook URL)."""
    return tuple(parse_target(n.target, Severity(n.min_severity) if n.min_severity else None,
                              n.only_new) for n in config.notify)


def plan(config: Config, baseline: Report | None = None, demo: bool = False) -> Plan:
    """`baseline`: the report new and resolved are counted against (`--baseline`, read by
    the command)."""
    parsed = targets(config)
    require_sender(parsed, config.email_from)
    if config.security_hub and demo:
        raise ConfigError("--security-hub with --demo would import the emulated account's "
                          "findings into a real Security Hub; use it with a real account")
    if not parsed and not config.security_hub:
        return Plan()
    html_uploaded = bool(config.output and config.output.startswith("s3://")
                         and "html" in config.formats)
    needs_aws = (config.security_hub or any(t.kind in AWS_KINDS for t in parsed)
                 or (html_uploaded and not config.report_url))
    return Plan(parsed, config.security_hub, baseline,
                session=_session(config.profile) if needs_aws else None,
                sender=config.email_from, ses_region=config.ses_region,
                report_url=config.report_url,
                link_expires=timedelta(days=config.link_expires_days))


def _session(profile: str | None) -> boto3.session.Session:
    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        raise ConfigError(f"AWS profile {profile!r} not found for the deliveries") from None


def send(planned: Plan, report: Report, written: Sequence[str], now: datetime
         ) -> tuple[Delivery, ...]:
    """Every target, then Security Hub; one `Delivery` each, whatever happens (`written`:
    where the report went, for the link to its HTML)."""
    sent: list[Delivery] = []
    if planned.targets:
        aws = AwsDelivery(planned.session, planned.ses_region) if planned.session else None
        sent += deliver_all(report, planned.targets, planned.baseline,
                            _link(planned, written, now), aws, planned.sender)
    if planned.security_hub and planned.session is not None:
        sent.append(send_to_security_hub(report, planned.session))
    return tuple(sent)


def _link(planned: Plan, written: Sequence[str], now: datetime) -> Link | None:
    """The configured `report_url`, else a presigned URL to the uploaded HTML, else none. A
    link that cannot be signed leaves the message without one; it is still sent."""
    s3 = _signer(planned.session, written) if planned.session and not planned.report_url \
        else None
    try:
        return report_link(written, planned.report_url, s3, planned.link_expires, now)
    except (BotoCoreError, ClientError):
        return None


def _signer(session: boto3.session.Session, written: Sequence[str]) -> Any:
    """A read-only S3 client in the region of the bucket the HTML went to: a SigV4 link is
    signed for one region, and S3 refuses it from another (s3:GetBucketLocation, read-only)."""
    region = session.region_name or "us-east-1"
    uploaded = [w for w in written if w.startswith("s3://")]
    if uploaded:
        try:
            answer = read_client(session, "s3", region).get_bucket_location(
                Bucket=parse_s3(uploaded[0])[0])
            # us-east-1 answers with no constraint at all.
            region = answer.get("LocationConstraint") or "us-east-1"
        except (BotoCoreError, ClientError):
            pass  # signed in the session's region: right for most, and the report is written
    return read_client(session, "s3", region)
