"""Delivering reports: a directory gets one timestamped, owner-only file per format; S3 gets
one PutObject per format through the only client allowed to write, and every other write is
still refused, on that client and on the scan's."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.errors import ReadOnlyViolation, ReportError
from auditor.report.document import to_dict
from auditor.report.output import RENDERERS, deliver, upload_all, write_all
from auditor.session import CallStats, ClientFactory, report_upload_client
from tests.report.conftest import hostile_report

BUCKET = "audit-reports"


def test_several_formats_go_to_a_directory_one_private_timestamped_file_each(
        tmp_path: Path) -> None:
    out = tmp_path / "reports"
    written = write_all(hostile_report(), sorted(RENDERERS), out)
    assert sorted(p.name for p in written) == sorted(
        f"report-20261123T020000Z.{RENDERERS[f].extension}" for f in RENDERERS)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [], "no temp files left"


def test_one_format_goes_to_the_file_or_into_a_directory_given_with_a_slash(
        tmp_path: Path) -> None:
    [single] = write_all(hostile_report(), ["sarif"], tmp_path / "scan.sarif")
    assert single == tmp_path / "scan.sarif"
    [inside] = write_all(hostile_report(), ["html"], f"{tmp_path}/dir/")
    assert inside == tmp_path / "dir" / "report-20261123T020000Z.html"


def test_several_formats_into_an_existing_file_is_one_clear_error(tmp_path: Path) -> None:
    existing = tmp_path / "report.json"
    existing.write_text("{}")
    with pytest.raises(ReportError, match="is a file, but 2 formats were asked for"):
        write_all(hostile_report(), ["json", "csv"], existing)


@pytest.fixture
def bucket(aws: None) -> str:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


def objects(prefix: str = "") -> dict[str, str]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["ContentType"] for o in listed}


def test_scan_uploads_one_object_per_format_under_the_prefix(bucket: str) -> None:
    result = CliRunner().invoke(main, [
        "scan", "--region", "us-east-1", "--checks", "network.*", "--format", "json",
        "--format", "sarif", "--output", f"s3://{bucket}/nightly/"])
    assert result.exit_code == 0, result.output
    uploaded = objects("nightly/")
    assert sorted(uploaded.values()) == ["application/json", "application/sarif+json"]
    assert all(key.startswith("nightly/report-") for key in uploaded)
    assert f"wrote s3://{bucket}/nightly/report-" in result.stderr
    [json_key] = [k for k, v in uploaded.items() if v == "application/json"]
    body = boto3.client("s3").get_object(Bucket=bucket, Key=json_key)["Body"].read()
    assert json.loads(body)["tool"]["name"] == "compute-auditor"


def test_report_re_renders_to_one_s3_key(bucket: str, tmp_path: Path) -> None:
    saved = tmp_path / "audit.json"
    saved.write_text(json.dumps(to_dict(hostile_report())))
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "html",
                                       "--output", f"s3://{bucket}/latest.html"])
    assert result.exit_code == 0, result.output
    assert objects() == {"latest.html": "text/html; charset=utf-8"}


def test_an_upload_that_fails_is_one_line_exit_2(aws: None, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "audit.json"
    saved.write_text(json.dumps(to_dict(hostile_report())))
    result = CliRunner().invoke(main, ["report", str(saved), "--format", "json",
                                       "--output", "s3://no-such-bucket/x/"])
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("auditor: error: --output s3://no-such-bucket/x/: bucket "
                           "'no-such-bucket' does not exist"), "checked before anything else"
    # Past the check (an upload that fails anyway): the report is kept in a local file.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ReportError, match=r"cannot upload the report to s3://no-such-bucket/"
                                          r"x/report-.*NoSuchBucket.*; the report is kept in "):
        deliver(hostile_report(), ["json"], "s3://no-such-bucket/x/")
    assert [p.name for p in tmp_path.glob("report-*.json")] == ["report-20261123T020000Z.json"]


def test_s3_url_without_a_bucket_is_refused() -> None:
    with pytest.raises(ReportError, match="no bucket"):
        upload_all(hostile_report(), ["json"], "s3:///key", client=None)


@pytest.mark.usefixtures("bucket")
def test_the_upload_client_puts_objects_and_nothing_else() -> None:
    client = report_upload_client(boto3.session.Session())
    client.put_object(Bucket=BUCKET, Key="ok.json", Body=b"{}")
    assert client.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1, "reads are fine"
    for write in (lambda: client.delete_object(Bucket=BUCKET, Key="ok.json"),
                  lambda: client.create_bucket(Bucket="another-bucket"),
                  lambda: client.put_bucket_policy(Bucket=BUCKET, Policy="{}"),
                  lambda: client.put_object_acl(Bucket=BUCKET, Key="ok.json", ACL="public-read"),
                  lambda: client.copy_object(Bucket=BUCKET, Key="copy.json",
                                             CopySource=f"{BUCKET}/ok.json")):
        with pytest.raises(ReadOnlyViolation, match="only writes with s3:PutObject"):
            write()
    assert objects() == {"ok.json": "binary/octet-stream"}


@pytest.mark.usefixtures("bucket")
def test_scan_clients_still_refuse_every_write_including_put_object() -> None:
    s3 = ClientFactory(boto3.session.Session(), CallStats()).client("s3", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="refused s3:PutObject"):
        s3.put_object(Bucket=BUCKET, Key="sneaky.json", Body=b"{}")
    with pytest.raises(ReadOnlyViolation, match="refused s3:DeleteBucket"):
        s3.delete_bucket(Bucket=BUCKET)
    assert objects() == {}
