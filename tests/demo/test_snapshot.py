"""The suite seeds the demo account once per run and restores it from a snapshot everywhere else
(tests/shared_demo.py): a restored account must be the seeded one, to the last report line."""

from __future__ import annotations

import pickle
from typing import Any

import boto3
import pytest

from auditor.config import Config
from auditor.demo.seed import DEMO_AMI
from auditor.report.document import Report, to_dict
from auditor.scan import Environment, scan
from tests.shared_demo import SharedDemo, dumps


def _document(report: Report) -> dict[str, Any]:
    """The report without what differs between any two runs: when it was made and how long
    that took."""
    document = to_dict(report)
    del document["generated_at"]
    del document["stats"]["duration_s"]
    return document


def test_a_restored_snapshot_scans_like_the_seeded_account_and_is_an_account_of_its_own(
        shared_demo: SharedDemo, demo_report: Report) -> None:
    copy = shared_demo.copy()
    assert copy.demo is not shared_demo.demo and copy.account == shared_demo.account
    with copy.active() as demo:
        report = scan(Config(regions=demo.account.regions, billing=True),
                      Environment(hooks=demo.extra_hooks, demo=True), demo.account.now)
    assert _document(report) == _document(demo_report)

    tag = {"Key": "changed-in", "Value": "a copy"}
    with copy.active():
        boto3.client("iam").tag_role(RoleName="notify-role", Tags=[tag])
        assert tag in boto3.client("iam").list_role_tags(RoleName="notify-role")["Tags"]
    with shared_demo.active():
        assert tag not in boto3.client("iam").list_role_tags(RoleName="notify-role")["Tags"]


def test_the_demo_account_holds_only_the_image_it_launches(shared_demo: SharedDemo) -> None:
    """moto would load its 1,301 public AMIs into every EC2 region: CPU in every test process
    and most of the snapshot each one restores."""
    with shared_demo.active() as demo:
        for region in demo.account.regions:
            images = boto3.client("ec2", region_name=region).describe_images()["Images"]
            assert [image["ImageId"] for image in images] == [DEMO_AMI]


def test_a_snapshot_refuses_what_it_cannot_restore() -> None:
    seen = 1

    def closure() -> int:
        return seen

    with pytest.raises(pickle.PicklingError, match="closure"):
        dumps({"factory": closure})
