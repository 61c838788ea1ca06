"""`auditor merge`: join the reports of a sharded or per-account scan into one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

from auditor import nightly
from auditor.cli.common import (
    config_option,
    emit,
    fails_cleanly,
    load_config,
    option,
    options,
    send_deliveries,
)
from auditor.config import with_flags
from auditor.errors import ReportError
from auditor.merge import merge
from auditor.report import read
from auditor.report.document import Report
from auditor.report.output import check_destination, parse_s3
from auditor.session import CallStats, ClientFactory


def _s3_reports(url: str, profile: str | None) -> Iterator[Report]:
    """Every `.json` report under an S3 prefix, read with the guarded, read-only client."""
    bucket, prefix = parse_s3(url)
    session = boto3.session.Session(profile_name=profile)
    s3 = ClientFactory(session, CallStats()).client("s3", session.region_name or "us-east-1")
    try:
        keys = [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix) for item in page.get("Contents", [])
            if item["Key"].endswith(".json")]
        texts = [(key, s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
                 for key in sorted(keys)]
    except (ClientError, BotoCoreError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read reports from {url}: {exc}") from None
    if not texts:
        raise ReportError(f"no .json report under {url}")
    for key, text in texts:
        yield read.parse(text, f"s3://{bucket}/{key}")


@click.command("merge")
@click.argument("sources", nargs=-1, required=True)
@config_option
@option("formats", default=("json",), help="Output format (repeatable; default json).")
@option("output", help="Write here: a file, a directory or s3://BUCKET/PREFIX/.")
@option("profile", help="AWS profile for s3:// sources or output.")
@options("baseline", "notify", "security_hub", "history")
@fails_cleanly
def merge_command(sources: tuple[str, ...], config_path: Path | None, formats: tuple[str, ...],
                  output: str | None, **flags: Any) -> None:
    """Join shard or per-account JSON reports (files, or every .json under s3://BUCKET/PREFIX/)
    into one report: findings deduplicated by fingerprint, totals recomputed. The nightly
    deliveries (--notify, --security-hub) go from here when the scan is sharded."""
    # The config gives the deliveries and the profile; the formats and the output are merge's.
    config = replace(with_flags(load_config(config_path), flags), formats=formats,
                     output=output)
    check_destination(formats, output, config.profile)
    night = nightly.prepare(config)
    reports: list[Report] = []
    for source in sources:
        if source.startswith("s3://"):
            reports.extend(_s3_reports(source, config.profile))
        else:
            reports.append(read.load(Path(source)))
    merged = night.finish(merge(reports))
    written = emit(merged, formats, output, config.profile)
    send_deliveries(night.deliveries, merged, formats, written, config.profile, quiet=False)
