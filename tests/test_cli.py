"""The command line: help everywhere, one clear line for bad input, listing and policy."""

from __future__ import annotations

import functools
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import click
import jsonschema
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from auditor.cli import main
from auditor.config import Config
from auditor.deliver.send import Retry
from auditor.findings import Category, Finding, Severity
from auditor.report import json_
from auditor.report.document import Report, Stats
from tests.deliver.conftest import serve


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "auditor")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_bad_config_is_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text("lookbak_days = 3\n")
    result = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"auditor: error: {config}: unknown key 'lookbak_days'; "
                     "did you mean 'lookback_days'?"]
    assert "Traceback" not in result.output


def test_unknown_check_glob_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(main, ["checks", "--checks", "ecs.task_overprovisiond"])
    assert result.exit_code == 2
    assert "did you mean ecs.task_overprovisioned" in result.stderr


def test_checks_lists_ids_with_actions_as_json() -> None:
    result = CliRunner().invoke(main, ["checks", "--format", "json"])
    assert result.exit_code == 0
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert "ecs:DescribeServices" in rows["ecs.task_overprovisioned"]["iam_actions"]
    assert rows["lambda.provisioned_concurrency_waste"]["parameters"]["max_utilization"] == 0.3


def test_iam_policy_is_read_only_and_follows_the_selection() -> None:
    result = CliRunner().invoke(main, ["iam-policy", "--checks", "iam.*"])
    assert result.exit_code == 0
    [statement] = json.loads(result.output)["Statement"]
    actions = statement["Action"]
    assert actions == sorted(actions)
    assert "iam:GetAccountAuthorizationDetails" in actions
    assert "cloudwatch:GetMetricData" not in actions
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in actions)


def test_no_credentials_exits_3_with_one_line(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(main, ["scan", "--region", "us-east-1"])
    assert result.exit_code == 3
    assert "cannot identify the AWS account" in result.stderr
    assert "Traceback" not in result.output


# --------------------------------------------------------------------- putting the report out

SCANNED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
STAMP = "20261123T020000Z"


def canned(demo: bool = False) -> Report:
    """What a scan returned: one high finding."""
    finding = Finding("network.private_subnet_no_egress", "No way out", Severity.HIGH,
                      Category.NETWORK, "fail", "arn:aws:ecs:us-east-1:1:service/prod/api",
                      "ecs-service", "1", "us-east-1", "m", {}, "r")
    return Report(SCANNED_AT, ("123456789012",), ("us-east-1",), 14, (finding,), (),
                  Stats(0, {}, 0.0, 0, 0), (), {}, demo=demo)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[Config]:
    """`auditor scan` returns `canned()` without calling AWS; the configs it scanned with."""
    seen: list[Config] = []

    def scanned(config: Config, hooks: Any, demo: bool) -> Report:
        seen.append(config)
        return canned(demo)

    monkeypatch.setattr("auditor.cli.scan._scan", scanned)
    return seen


def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_s3_output_without_credentials_fails_before_the_scan(
        scans: list[Config], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_credentials(monkeypatch, tmp_path)
    result = CliRunner().invoke(main, ["scan", "--format", "json",
                                       "--output", "s3://audit-reports/nightly/"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "auditor: error: --output s3://audit-reports/nightly/: no AWS credentials to upload "
        "with; configure credentials (AWS_PROFILE, --profile or the environment) or write to "
        "a local path"]
    assert scans == [], "nothing was scanned"


@pytest.mark.usefixtures("aws")
def test_s3_output_to_a_bucket_that_does_not_exist_fails_before_the_scan(
        scans: list[Config]) -> None:
    result = CliRunner().invoke(main, ["scan", "--format", "json",
                                       "--output", "s3://no-such-bucket/nightly/"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "auditor: error: --output s3://no-such-bucket/nightly/: bucket 'no-such-bucket' does "
        "not exist (s3:GetBucketLocation: NoSuchBucket); create it or fix the name"]
    assert scans == []


@pytest.mark.usefixtures("aws")
def test_an_upload_that_fails_after_the_scan_keeps_the_report_locally_and_says_where(
        scans: list[Config], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    boto3.client("s3").create_bucket(Bucket="audit-reports")

    class Refused:
        def put_object(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                              "PutObject")

    monkeypatch.setattr("auditor.report.output.report_upload_client", lambda _session: Refused())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--format", "json",
                                       "--output", "s3://audit-reports/nightly/"])
    assert result.exit_code == 2, result.output
    kept = tmp_path / f"report-{STAMP}.json"
    assert result.stderr.splitlines() == [
        f"auditor: error: cannot upload the report to s3://audit-reports/nightly/report-"
        f"{STAMP}.json: An error occurred (AccessDenied) when calling the PutObject operation: "
        f"Access Denied; the report is kept in {kept}"]
    assert json.loads(kept.read_text())["tool"]["name"] == "compute-auditor"


@pytest.mark.parametrize("output", ["out.json", "s3://audit-reports/out.json"])
def test_several_formats_to_a_file_looking_path_are_refused_in_one_line(
        scans: list[Config], output: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """It used to make a directory named `out.json`."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["scan", "--format", "json", "--format", "html",
                                       "--output", output])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"auditor: error: --output {output} looks like one file, but 2 formats were asked "
        f"for; give a directory ({output}/ would do, one file each) or one --format"]
    assert scans == [] and list(tmp_path.iterdir()) == []


def test_several_formats_to_a_directory_still_write_one_file_each(
        scans: list[Config], tmp_path: Path) -> None:
    for output in (tmp_path / "nightly", f"{tmp_path / 'out.json'}/"):
        result = CliRunner().invoke(main, ["scan", "--format", "json", "--format", "html",
                                           "--output", str(output)])
        assert result.exit_code == 0, result.output
        written = sorted(p.name for p in Path(output).iterdir())
        assert written == [f"report-{STAMP}.html", f"report-{STAMP}.json"]


def test_quiet_says_nothing_on_stderr_not_even_where_it_wrote(
        scans: list[Config], tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    loud = CliRunner().invoke(main, ["scan", "--format", "json", "--output", str(out)])
    assert loud.stderr.splitlines()[0] == f"wrote {out}"
    quiet = CliRunner().invoke(main, ["scan", "--format", "json", "--output", str(out),
                                      "--quiet"])
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert out.exists()


@pytest.mark.parametrize(("args", "on_stderr"), [
    ((), False),                          # the table on stdout ends with the summary line
    (("--format", "json"), True),
    (("--format", "table", "--output", "{tmp}/audit.txt"), True),
])
def test_the_summary_line_goes_to_stderr_the_same_way_with_or_without_a_baseline(
        scans: list[Config], tmp_path: Path, args: tuple[str, ...], on_stderr: bool) -> None:
    baseline = tmp_path / "last.json"
    baseline.write_text(json_.render(replace(canned(), findings=())))
    args = tuple(arg.format(tmp=tmp_path) for arg in args)
    for extra in ((), ("--baseline", str(baseline))):
        result = CliRunner().invoke(main, ["scan", *args, *extra])
        assert result.exit_code == 0, result.output
        summary = [line for line in result.stderr.splitlines()
                   if line.startswith("compute-auditor: ")]
        assert len(summary) == (1 if on_stderr else 0), (extra, result.stderr)
        if not args:
            assert "compute-auditor: 1 findings" in result.stdout


def test_the_demo_on_a_terminal_ends_with_what_to_try_next(
        scans: list[Config], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditor.cli.scan._stdout_is_terminal", lambda: True)
    shown = CliRunner().invoke(main, ["scan", "--demo"])
    assert shown.exit_code == 0, shown.output
    tail = shown.stdout.rstrip().splitlines()[-4:]
    assert tail[0] == "What to try next:"
    assert "auditor scan --demo --format html --output report.html" in tail[1]
    assert "auditor iam-policy" in tail[2]
    assert "auditor scan --profile NAME" in tail[3]
    assert scans[0].billing, "the demo sets its model against its bill"
    for args in (["--quiet"], ["--format", "json"]):
        assert "What to try next" not in CliRunner().invoke(
            main, ["scan", "--demo", *args]).stdout
    monkeypatch.setattr("auditor.cli.scan._stdout_is_terminal", lambda: False)
    assert "What to try next" not in CliRunner().invoke(main, ["scan", "--demo"]).stdout
    assert "What to try next" not in CliRunner().invoke(main, ["scan"]).stdout


def test_every_command_with_an_output_puts_it_out_through_the_one_helper(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "audit.json"
    saved.write_text(json_.render(canned()))
    wrote: list[str] = []
    monkeypatch.setattr("auditor.cli.common._wrote",
                        lambda places, quiet: wrote.extend(places))
    runs = {"report": ["report", str(saved), "--format", "csv"],
            "diff": ["diff", str(saved), str(saved), "--format", "json"],
            "merge": ["merge", str(saved)],
            "trend": ["trend", str(saved), "--format", "json"]}
    for name, args in runs.items():
        out = tmp_path / f"{name}.out"
        result = CliRunner().invoke(main, [*args, "--output", str(out)])
        assert result.exit_code == 0, (name, result.output)
        assert wrote[-1] == str(out) and out.stat().st_size > 0, name
        printed = CliRunner().invoke(main, args)
        assert printed.stdout == out.read_text(), f"{name}: the file holds what stdout shows"
    having_output = {path[-1] for path in commands()
                     if path and any("--output" in p.opts for p in _command(path).params
                                     if isinstance(p, click.Option))}
    assert having_output <= {*runs, "scan", "refresh"}, "a new command with --output: add it"


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


# --------------------------------------------------------------------------- delivery


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Webhook retries wait for nothing; the waits they would have made."""
    waits: list[float] = []
    monkeypatch.setattr("auditor.deliver.send.Retry", functools.partial(Retry, sleep=waits.append))
    return waits


def test_a_receiver_failing_forever_leaves_the_report_written_and_the_exit_code(
        scans: list[Config], tmp_path: Path, no_backoff: list[float]) -> None:
    out = tmp_path / "audit.json"
    with serve() as receiver:
        receiver.script = [500] * 10
        result = CliRunner().invoke(main, ["scan", "--format", "json", "--output", str(out),
                                           "--fail-on", "high",
                                           "--notify", f"slack+{receiver.url}"])
    assert result.exit_code == 1, result.output  # the high finding, as without --notify
    assert len(receiver.requests) == 4 and receiver.accepted == []
    assert no_backoff == [1.0, 2.0, 4.0]
    masked = "slack+http://127.0.0.1/…/****"
    failed = [line for line in result.stderr.splitlines() if "delivery" in line]
    assert failed == [f"auditor: delivery to {masked} failed after 4 attempt(s): "
                      "HTTP 500: no_service"]
    document = json.loads(out.read_text())
    jsonschema.Draft202012Validator(json_.schema()).validate(document)
    assert document["delivery"] == [{"target": masked, "status": "failed",
                                     "reason": "HTTP 500: no_service", "attempts": 4}]
    assert [f["check_id"] for f in document["findings"]] == [canned().findings[0].check_id]
    for text in (result.stdout, result.stderr, out.read_text()):
        assert "XXXXSECRET" not in text


def test_a_message_goes_once_written_and_names_the_report_link_of_the_config(
        scans: list[Config], tmp_path: Path, no_backoff: list[float]) -> None:
    config = tmp_path / "auditor.toml"
    out = tmp_path / "audit.html"
    with serve() as receiver:
        receiver.script = [500]
        config.write_text(f'[[notify]]\ntarget = "webhook+{receiver.url}"\n'
                          'min_severity = "high"\n'
                          '[delivery]\nreport_url = "https://reports.example.com/last.html"\n')
        result = CliRunner().invoke(main, ["scan", "--config", str(config), "--format",
                                           "html", "--output", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "", "a delivery sent at the second attempt is no error"
    [message] = receiver.accepted
    assert message["report_url"] == "https://reports.example.com/last.html"
    assert [f["check_id"] for f in message["new"]] == [canned().findings[0].check_id]
    assert out.exists()


@pytest.mark.parametrize(("args", "config", "error"), [
    (["--notify", "slack+http://hooks.example.com/services/XXXXSECRET"], "",
     "a webhook URL is a secret; use https://"),
    (["--notify", "email:ops@example.com"], "", "needs a sender: set `from` under [delivery]"),
    ([], '[[notify]]\ntarget = "sns:arn:aws:sns:us-east-1:123456789012:t"\nonly_new = 1\n',
     "notify[0]: only_new must be true or false, got 1"),
    ([], 'notify = [{ target = "x", min_severty = "high" }]\n',
     "unknown key 'min_severty'; did you mean 'min_severity'?"),
    (["--security-hub", "--demo"], "", "would import the emulated account's findings"),
])
def test_a_bad_delivery_fails_in_one_line_before_the_scan(
        scans: list[Config], tmp_path: Path, args: list[str], config: str, error: str) -> None:
    path = tmp_path / "auditor.toml"
    path.write_text(config)
    result = CliRunner().invoke(main, ["scan", "--config", str(path), *args])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert error in line and "XXXXSECRET" not in line
    assert scans == []


def test_the_delivery_options_have_help() -> None:
    scan_help = " ".join(CliRunner().invoke(main, ["scan", "--help"]).output.split())
    for words in ("--notify TEXT After the report is written, send the summary",
                  "--security-hub / --no-security-hub After the report is written, import",
                  "--history TEXT Earlier JSON reports"):
        assert words in scan_help
    policy_help = CliRunner().invoke(main, ["iam-policy", "--help"], terminal_width=200)
    assert "--delivery" in policy_help.output and "sns:Publish" in policy_help.output


def test_iam_policy_delivery_allows_each_write_and_publish_only_on_the_topics_named(
        tmp_path: Path) -> None:
    topic = "arn:aws:sns:eu-west-1:123456789012:nightly"
    config = tmp_path / "auditor.toml"
    config.write_text(f'notify = ["sns:{topic}", "email:ops@example.com"]\n'
                      '[delivery]\nfrom = "auditor@example.com"\n')
    result = CliRunner().invoke(main, ["iam-policy", "--delivery", "--config", str(config)])
    assert result.exit_code == 0, result.output
    statements = {s["Sid"]: s for s in json.loads(result.output)["Statement"]}
    assert statements["ComputeAuditorNotifySns"]["Resource"] == [topic]
    allowed = {a for s in statements.values() for a in s["Action"]}
    assert allowed == {"sns:Publish", "ses:SendEmail", "securityhub:BatchImportFindings",
                       "securityhub:GetFindings"}


def test_history_adds_the_trend_to_the_html_report(scans: list[Config],
                                                   tmp_path: Path) -> None:
    history = tmp_path / "nightly"
    first_night = CliRunner().invoke(main, ["scan", "--format", "html", "--output",
                                            str(tmp_path / "first.html"), "--history",
                                            str(history)])
    assert first_night.exit_code == 0, "no earlier report yet is no error"
    assert "Trend over 1 reports" in (tmp_path / "first.html").read_text()
    history.mkdir()
    for days in (3, 2, 1):
        earlier = replace(canned(), generated_at=SCANNED_AT - timedelta(days=days))
        (history / f"report-{earlier.generated_at:%Y%m%dT%H%M%SZ}.json").write_text(
            json_.render(earlier))
    out = tmp_path / "tonight.html"
    result = CliRunner().invoke(main, ["scan", "--format", "html", "--output", str(out),
                                       "--history", str(history)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert '<section id="trend"><h2>Trend over 4 reports</h2>' in page
    assert page.count('class="point-row"') == 4 and "this report" in page
    plain = tmp_path / "plain.html"
    CliRunner().invoke(main, ["scan", "--format", "html", "--output", str(plain)])
    assert 'id="trend"' not in plain.read_text()


def test_merge_delivers_against_the_latest_earlier_report_and_shows_the_trend(
        tmp_path: Path, no_backoff: list[float]) -> None:
    """A sharded night delivers from its merge: new and resolved against the latest report
    of the directory `--baseline` names, the trend over the same directory."""
    shard = tmp_path / "shard.json"
    shard.write_text(json_.render(canned()))
    merged = tmp_path / "merged"
    merged.mkdir()
    gone = replace(canned().findings[0], check_id="iam.shared_role",
                   resource_arn="arn:aws:iam::1:role/old")
    for days, findings in ((2, (canned().findings[0],)), (1, (gone,))):
        earlier = replace(canned(), generated_at=SCANNED_AT - timedelta(days=days),
                          findings=findings)
        (merged / f"report-{earlier.generated_at:%Y%m%dT%H%M%SZ}.json").write_text(
            json_.render(earlier))
    with serve() as receiver:
        result = CliRunner().invoke(main, [
            "merge", str(shard), "--format", "json", "--format", "html",
            "--output", f"{merged}/", "--baseline", str(merged), "--history", str(merged),
            "--notify", f"webhook+{receiver.url}"])
    assert result.exit_code == 0, result.output
    [message] = receiver.accepted
    assert [f["check_id"] for f in message["new"]] == ["network.private_subnet_no_egress"]
    assert [f["resource_arn"] for f in message["resolved"]] == ["arn:aws:iam::1:role/old"]
    tonight = json.loads((merged / f"report-{STAMP}.json").read_text())
    assert [d["status"] for d in tonight["delivery"]] == ["sent"]
    assert "Trend over 3 reports" in (merged / f"report-{STAMP}.html").read_text()


@pytest.mark.usefixtures("aws")
def test_an_uploaded_report_is_linked_presigned_and_its_json_records_the_delivery(
        scans: list[Config], tmp_path: Path, no_backoff: list[float]) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="audit-reports")
    config = tmp_path / "auditor.toml"
    config.write_text("[delivery]\nlink_expires_days = 2\n")
    with serve() as receiver:
        result = CliRunner().invoke(main, [
            "scan", "--config", str(config), "--format", "json", "--format", "html",
            "--output", "s3://audit-reports/nightly/", "--notify", f"webhook+{receiver.url}"])
    assert result.exit_code == 0, result.output
    [message] = receiver.accepted
    link = message["report_url"]
    assert link.startswith("https://audit-reports.s3.amazonaws.com/nightly/report-"
                           f"{STAMP}.html?") and "X-Amz-Expires=172800" in link
    assert message["report_url_expires_at"] is not None
    uploaded = s3.get_object(Bucket="audit-reports", Key=f"nightly/report-{STAMP}.json")
    document = json.loads(uploaded["Body"].read())
    assert document["delivery"] == [{"target": "webhook+http://127.0.0.1/…/****",
                                     "status": "sent", "reason": "HTTP 200", "attempts": 1}]


def test_a_baseline_directory_gives_its_latest_report_and_none_on_the_first_night(
        scans: list[Config], tmp_path: Path) -> None:
    nightly = f"{tmp_path / 'nightly'}/"
    args = ["scan", "--format", "json", "--output", nightly, "--baseline", nightly]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "baselined" not in first.stderr
    older = replace(canned(), generated_at=SCANNED_AT - timedelta(days=9), findings=())
    (Path(nightly) / f"report-{older.generated_at:%Y%m%dT%H%M%SZ}.json").write_text(
        json_.render(older))
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert ", 1 baselined" in second.stderr, "the latest report is the baseline"
    assert scans[-1].baseline is None, "read by the command, not by the library's scan"
