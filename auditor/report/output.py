"""Rendering by format name, and delivering reports: standard output, a file, a directory (one
timestamped file per format) or S3. Local writes are atomic with owner-only permissions; an S3
upload is a single PutObject per file through the one client allowed to write."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from auditor.errors import AuditorError, ReportError
from auditor.files import write_atomic
from auditor.report import csv_, html, json_, markdown, ocsf, sarif, table
from auditor.report.document import Report
from auditor.session import CallStats, ClientFactory, RetryPolicy, report_upload_client


@dataclass(frozen=True)
class Format:
    render: Callable[[Report], str]
    extension: str
    content_type: str
    stream: Callable[[Report, TextIO], None] | None = None
    """Writes to a file without holding the whole text, where the format is large."""

    def write(self, report: Report, handle: TextIO) -> None:
        if self.stream is not None:
            self.stream(report, handle)
        else:
            handle.write(self.render(report))


RENDERERS: dict[str, Format] = {
    "table": Format(table.render, "txt", "text/plain; charset=utf-8"),
    "json": Format(json_.render, "json", "application/json", json_.stream),
    "csv": Format(csv_.render, "csv", "text/csv; charset=utf-8"),
    "markdown": Format(markdown.render, "md", "text/markdown; charset=utf-8"),
    "html": Format(html.render, "html", "text/html; charset=utf-8"),
    "sarif": Format(sarif.render, "sarif", "application/sarif+json"),
    "ocsf": Format(ocsf.render, "ocsf.json", "application/json"),
}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt].render(report)


def file_name(report: Report, fmt: str) -> str:
    """`report-20261123T020000Z.json`: nightly runs into one directory never overwrite."""
    stamp = report.generated_at.strftime("%Y%m%dT%H%M%SZ")
    # Shards of one scan start in the same second and write to the same place.
    part = f"-shard-{report.shard.replace('/', '-of-')}" if report.shard else ""
    return f"report-{stamp}{part}.{RENDERERS[fmt].extension}"


def write_all(report: Report, formats: Sequence[str], where: Path | str) -> list[Path]:
    """One format to a file; several formats (or an existing directory, or a path ending in
    `/`) to a directory, one timestamped file each."""
    output = Path(where)
    as_directory = str(where).endswith(("/", os.sep)) or output.is_dir()
    if len(formats) == 1 and not as_directory:
        write_atomic(output, functools.partial(RENDERERS[formats[0]].write, report),
                     "the report")
        return [output]
    if output.exists() and not output.is_dir():
        raise ReportError(f"--output {output} is a file, but {len(formats)} formats were asked "
                          "for; give a directory")
    written = []
    for fmt in formats:
        path = output / file_name(report, fmt)
        write_atomic(path, functools.partial(RENDERERS[fmt].write, report), "the report")
        written.append(path)
    return written


def parse_s3(url: str) -> tuple[str, str]:
    """`s3://bucket/prefix` -> (bucket, prefix)."""
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise ReportError(f"--output {url}: no bucket; use s3://BUCKET/PREFIX/")
    return bucket, key


def upload_all(report: Report, formats: Sequence[str], url: str, client: Any) -> list[str]:
    """PutObject each format: to the key itself for one format and a URL not ending in `/`,
    else one timestamped object per format under the prefix."""
    bucket, key = parse_s3(url)
    if len(formats) == 1 and key and not key.endswith("/"):
        targets = [(formats[0], key)]
    else:
        prefix = key if not key or key.endswith("/") else key + "/"
        targets = [(fmt, prefix + file_name(report, fmt)) for fmt in formats]
    written = []
    for fmt, object_key in targets:
        _put(report, fmt, client, bucket, object_key)
        written.append(f"s3://{bucket}/{object_key}")
    return written


def _put(report: Report, fmt: str, client: Any, bucket: str, key: str) -> None:
    try:
        client.put_object(Bucket=bucket, Key=key, Body=render(report, fmt).encode("utf-8"),
                          ContentType=RENDERERS[fmt].content_type)
    except (ClientError, BotoCoreError) as exc:
        raise ReportError(f"cannot upload the report to s3://{bucket}/{key}: {exc}") from None


def check_destination(formats: Sequence[str], output: str | None,
                      profile: str | None = None) -> None:
    """Before any work, what can be known about where the report goes: several formats need
    somewhere to put one file each, a path that looks like one file cannot take several, and
    an S3 bucket must exist and be reachable with credentials."""
    if output is None:
        if len(formats) > 1:
            raise ReportError(f"{len(formats)} formats need --output: a directory or "
                              "s3://BUCKET/PREFIX/ (one file each)")
        return
    if len(formats) > 1:
        _refuse_a_file_for_several(formats, output)
    if output.startswith("s3://"):
        _check_bucket(output, profile)


def _refuse_a_file_for_several(formats: Sequence[str], output: str) -> None:
    """`--output out.json` with several formats would make a directory named `out.json`."""
    where = output.removeprefix("s3://").partition("/")[2] if output.startswith("s3://") \
        else output
    if where.endswith(("/", os.sep)) or (not output.startswith("s3://") and Path(where).is_dir()):
        return
    if PurePosixPath(where).suffix:
        raise ReportError(f"--output {output} looks like one file, but {len(formats)} formats "
                          f"were asked for; give a directory ({output.rstrip('/')}/ would do, "
                          "one file each) or one --format")


_CREDENTIALS_REFUSED = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                                  "InvalidToken", "TokenRefreshRequired", "ExpiredTokenException",
                                  "InvalidClientTokenId", "UnrecognizedClientException"})


def _upload_session(output: str, profile: str | None) -> boto3.session.Session:
    try:
        return boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        raise ReportError(f"AWS profile {profile!r} not found for the upload to "
                          f"{output}") from None


def _check_bucket(output: str, profile: str | None) -> None:
    """Credentials resolve and the bucket exists, read-only (s3:GetBucketLocation, through a
    scan client, which refuses every write). AccessDenied says nothing: a role may be
    allowed s3:PutObject on the prefix and no more, so the upload will tell."""
    bucket, _ = parse_s3(output)
    session = _upload_session(output, profile)
    if session.get_credentials() is None:
        raise ReportError(f"--output {output}: no AWS credentials to upload with; configure "
                          "credentials (AWS_PROFILE, --profile or the environment) or write "
                          "to a local path")
    factory = ClientFactory(session, CallStats(), RetryPolicy(max_attempts=2))
    s3 = factory.client("s3", session.region_name or "us-east-1")
    try:
        s3.get_bucket_location(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "NoSuchBucket":
            raise ReportError(f"--output {output}: bucket {bucket!r} does not exist "
                              "(s3:GetBucketLocation: NoSuchBucket); create it or fix the "
                              "name") from None
        if code in _CREDENTIALS_REFUSED:
            raise ReportError(f"--output {output}: S3 refused the credentials ({code}); "
                              "renew or fix them before the scan") from None
    except BotoCoreError as exc:
        raise ReportError(f"--output {output}: cannot reach S3 to check the bucket "
                          f"({type(exc).__name__}: {exc})") from None


def deliver(report: Report, formats: Sequence[str], output: str,
            profile: str | None = None) -> list[str]:
    """Write to a local path or upload to `s3://...` with the user's credentials (`profile`,
    else the standard chain); returns where each format went. The one client allowed to
    write is built here, and only for S3. When an upload fails, the report is kept in local
    files and the error says where."""
    if not output.startswith("s3://"):
        return [str(path) for path in write_all(report, formats, output)]
    client = report_upload_client(_upload_session(output, profile))
    try:
        return upload_all(report, formats, output, client)
    except ReportError as exc:
        raise ReportError(f"{exc}; {keep_locally(report, formats)}") from None


def write_again(report: Report, fmt: str, where: str, profile: str | None = None) -> None:
    """Replace one format where `deliver` put it (`where`, one of the places it returned):
    what was learnt after the report was written (the deliveries) joins it. Atomic, like the
    first write: a failure leaves that one as it was."""
    if not where.startswith("s3://"):
        write_atomic(Path(where), functools.partial(RENDERERS[fmt].write, report), "the report")
        return
    bucket, key = parse_s3(where)
    _put(report, fmt, report_upload_client(_upload_session(where, profile)), bucket, key)


def keep_locally(report: Report, formats: Sequence[str]) -> str:
    """Write the report into the working directory (else the temp directory), one
    timestamped file per format; says where, or why it could not."""
    problems = []
    for directory in (Path.cwd(), Path(tempfile.gettempdir())):
        try:
            kept = write_all(report, formats, f"{directory}{os.sep}")
        except AuditorError as exc:
            problems.append(str(exc))
            continue
        return f"the report is kept in {', '.join(str(path) for path in kept)}"
    return f"and it could not be kept locally either ({'; '.join(problems)})"
