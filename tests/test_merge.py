"""`auditor merge` on files and S3 prefixes, and the deploy manifests' commands."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import main
from auditor.cost.bill import Billing, Reconciled
from auditor.findings import Category, Finding, Severity
from auditor.merge import merge
from auditor.report.document import ErrorEntry, Report, Stats, to_dict
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent


def finding(arn: str, status: str = "fail", region: str = "global") -> Finding:
    return Finding("iam.shared_role", "Shared", Severity.HIGH, Category.IAM, status,  # type: ignore[arg-type]
                   arn, "iam-role", f.ACCOUNT, region, "m", {}, "r")


def report(findings: tuple[Finding, ...], region: str, calls: int, shard: str) -> Report:
    return Report(f.NOW, (f.ACCOUNT,), (region,), 14, findings, (),
                  Stats(calls, {"ecs:ListClusters": calls}, 2.0, 10, 0), ("iam.shared_role",),
                  {"source": "embedded"}, shard=shard)


def test_merge_deduplicates_account_wide_findings_and_prefers_fail_over_unknown() -> None:
    role = "arn:aws:iam::123456789012:role/shared"
    a = report((finding(role, "unknown"),), "us-east-1", 5, "0/2")
    b = report((finding(role, "fail"), finding(role + "2")), "eu-west-1", 7, "1/2")
    merged = merge([a, b])
    assert sorted((x.resource_arn, x.status) for x in merged.findings) == [
        (role, "fail"), (role + "2", "fail")]
    assert merged.regions == ("eu-west-1", "us-east-1")
    assert merged.stats.api_calls == 12
    assert merged.stats.api_calls_by_operation == {"ecs:ListClusters": 12}
    assert merged.shard is None


def test_errors_are_listed_by_what_failed_whatever_order_they_came_in() -> None:
    """Workers finish their calls in any order; a report, and a merge of reports, lists the
    errors alike every time, so two nights' reports and their diff do not reorder them."""
    def error(region: str, service: str, operation: str) -> ErrorEntry:
        return ErrorEntry(f.ACCOUNT, region, service, operation, "AccessDenied", "no", ())

    late, early = error("us-east-1", "lambda", "ListFunctions"), error("eu-west-1", "ecs",
                                                                        "ListClusters")
    shared = error("us-east-1", "ecs", "ListClusters")
    a = replace(report((), "us-east-1", 5, "0/2"), errors=(late, shared))
    b = replace(report((), "eu-west-1", 5, "1/2"), errors=(shared, early))
    assert a.errors == (shared, late)
    assert merge([a, b]).errors == merge([b, a]).errors == (early, shared, late)


def test_shards_merge_their_bills(tmp_path: Path) -> None:
    def billed(region: str, paid: float, listed: float) -> Billing:
        return Billing("Cost Explorer", date(2026, 11, 9), date(2026, 11, 23), 4,
                       (Reconciled(f.ACCOUNT, region, "lambda", paid, 0.9 * paid, 0.9),),
                       {"lambda": round(1 - paid / listed, 4)})

    a = replace(report((), "us-east-1", 5, "0/3"), billing=billed("us-east-1", 90.0, 100.0))
    b = replace(report((), "eu-west-1", 5, "1/3"), billing=billed("eu-west-1", 30.0, 60.0))
    c = report((), "ap-south-1", 5, "2/3")
    files = [write(tmp_path / f"{n}.json", r) for n, r in enumerate((a, b, c))]
    result = CliRunner().invoke(main, ["merge", *map(str, files)])
    assert result.exit_code == 0, result.output
    bill = json.loads(result.output)["billing"]
    assert [(r["region"], r["billed_usd"]) for r in bill["by_platform"]] == [
        ("us-east-1", 90.0), ("eu-west-1", 30.0)]
    assert bill["calls"] == 8
    assert bill["effective_discount"] == {"lambda": 0.25}, "120 paid of 160 listed"
    assert bill["notes"] == ["1 of 3 reports carry no billing (scanned without --bill): their "
                             "accounts and regions are not reconciled."]


def write(path: Path, rep: Report) -> Path:
    path.write_text(json.dumps(to_dict(rep)))
    return path


def test_cli_merge_files_and_refuses_foreign_json(tmp_path: Path) -> None:
    role = "arn:aws:iam::123456789012:role/shared"
    a = write(tmp_path / "a.json", report((finding(role),), "us-east-1", 1, "0/2"))
    b = write(tmp_path / "b.json", report((finding(role),), "eu-west-1", 1, "1/2"))
    result = CliRunner().invoke(main, ["merge", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["findings"]) == 1
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"hello": "world"}')
    bad = CliRunner().invoke(main, ["merge", str(a), str(foreign)])
    assert bad.exit_code == 2 and "foreign.json" in bad.stderr and "Traceback" not in bad.output


@pytest.mark.usefixtures("aws")
def test_cli_merge_reads_every_report_under_an_s3_prefix(tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="reports")
    for index, region in enumerate(("us-east-1", "eu-west-1")):
        rep = report((finding(f"arn:aws:iam::123456789012:role/r{index}"),), region, 1,
                     f"{index}/2")
        s3.put_object(Bucket="reports", Key=f"nightly/shards/r{index}.json",
                      Body=json.dumps(to_dict(rep)).encode())
    out = tmp_path / "merged.json"
    result = CliRunner().invoke(main, ["merge", "s3://reports/nightly/shards/", "--output",
                                       str(out)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text())["findings"]) == 2
    empty = CliRunner().invoke(main, ["merge", "s3://reports/none/"])
    assert empty.exit_code == 2 and "no .json report" in empty.stderr


class _CloudFormation(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Sub, !Ref...) as their plain values."""


_CloudFormation.add_multi_constructor(
    "!", lambda loader, suffix, node: loader.construct_scalar(node)
    if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node))


def deploy_commands() -> list[str]:
    """The `auditor ...` command lines the Kubernetes and Batch manifests run."""
    commands = []
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if doc["kind"] == "CronJob":
            pod = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            commands.append(pod["containers"][0]["args"][0])
    template = yaml.load((ROOT / "deploy" / "aws-batch" / "template.yaml").read_text(),
                         Loader=_CloudFormation)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Batch::JobDefinition":
            command = resource["Properties"]["ContainerProperties"]["Command"][2]
            commands += [_joined(command, branch) for branch in (True, False)]
    return commands


def _joined(value: Any, condition: bool) -> str:
    """A `!Sub` string, or a `!Join [" ", [...]]` whose `!If [name, then, else]` items all
    take `condition`'s branch."""
    if isinstance(value, str):
        return value
    separator, items = value
    parts = [item if isinstance(item, str) else item[1 if condition else 2] for item in items]
    return str(separator).join(p for p in parts if p)


def test_deploy_manifests_run_real_commands_with_real_flags() -> None:
    commands = deploy_commands()
    # Two Kubernetes CronJobs; two Batch job definitions, each with and without deliveries.
    assert len(commands) == 6
    assert any("--notify" in c and "--security-hub" in c for c in commands)
    for command in commands:
        words = shlex.split(command.replace("$(date -u +%F)", "2026-11-23")
                            .replace("${", "").replace("}", ""))
        assert words[:2] == ["exec", "auditor"], command
        sub = main.get_command(main.make_context("auditor", ["--help"], resilient_parsing=True),
                               words[2])
        assert sub is not None, words[2]
        sub.make_context(words[2], words[3:])  # raises on an unknown flag or a bad value


def test_kubernetes_scan_is_an_indexed_job_sharded_by_its_index() -> None:
    doc = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "cronjob-scan.yaml").read_text())
    job = doc["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert f"--shard {job['completions']}" in job["template"]["spec"]["containers"][0]["args"][0]
