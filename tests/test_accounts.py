"""Accounts, regions and shards: who is scanned, with which credentials, on which machine."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from auditor.accounts import (
    Shard,
    account_of,
    assumed_session,
    enabled_regions,
    organization_accounts,
    parse_shard,
)
from auditor.errors import ConfigError
from auditor.model import Scope


@pytest.mark.usefixtures("aws")
def test_assumed_session_acts_as_the_role_and_refreshes_before_expiry(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.credentials

    iam = boto3.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="auditor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    session = assumed_session(boto3.session.Session(region_name="us-east-1"), role,
                              external_id="ext-123")
    identity = session.client("sts").get_caller_identity()
    assert ":assumed-role/auditor/compute-auditor" in identity["Arn"]
    credentials = session.get_credentials()
    first = credentials.get_frozen_credentials().access_key
    # Fifty minutes into a one-hour session: the next use must assume the role again.
    later = datetime.now(UTC) + timedelta(minutes=50)
    monkeypatch.setattr(botocore.credentials, "_local_now", lambda: later)
    monkeypatch.setattr(credentials, "_time_fetcher", lambda: later)
    assert credentials.refresh_needed()
    assert credentials.get_frozen_credentials().access_key != first


def test_account_of_rejects_what_is_not_a_role_arn() -> None:
    assert account_of("arn:aws:iam::210987654321:role/audit") == "210987654321"
    with pytest.raises(ConfigError, match="is not a role ARN"):
        account_of("arn:aws:iam::210987654321:user/audit")


@pytest.mark.usefixtures("aws")
def test_organization_lists_only_active_accounts() -> None:
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    created = [org.create_account(Email=f"a{i}@example.com", AccountName=f"a{i}")
               ["CreateAccountStatus"]["AccountId"] for i in range(3)]
    accounts = organization_accounts(org)
    assert set(created) <= set(accounts)


@pytest.mark.usefixtures("aws")
def test_enabled_regions_exclude_opted_out_ones() -> None:
    regions = enabled_regions(boto3.client("ec2", region_name="us-east-1"))
    assert "us-east-1" in regions and "eu-west-1" in regions


def test_shards_partition_every_pair_exactly_once_and_deterministically() -> None:
    scopes = [Scope(f"{a:012d}", r) for a in range(30)
              for r in ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2")]
    shards = [Shard(i, 4) for i in range(4)]
    owners = Counter(scope for shard in shards for scope in shard.select(scopes))
    assert set(owners) == set(scopes) and set(owners.values()) == {1}
    assert all(shard.select(scopes) for shard in shards), "no shard idles at this size"
    assert shards[1].select(scopes) == Shard(1, 4).select(list(reversed(scopes)))[::-1]


@pytest.mark.parametrize(("spec", "env", "expected"), [
    ("2/4", {}, Shard(2, 4)),
    ("4", {"JOB_COMPLETION_INDEX": "3"}, Shard(3, 4)),
    ("4", {"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, Shard(1, 4)),
    (None, {"JOB_COMPLETION_INDEX": "3"}, None),
])
def test_shard_index_from_flag_or_job_environment(spec: str | None, env: dict[str, str],
                                                  expected: Shard | None) -> None:
    assert parse_shard(spec, env) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("4", "set JOB_COMPLETION_INDEX"),
    ("4/4", "between 0 and 3"),
    ("a/b", "expected I/N"),
])
def test_bad_shard_specs_say_how_to_fix_them(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_shard(spec, {})


@pytest.mark.usefixtures("aws")
def test_an_organization_with_no_account_to_scan_is_nothing_collected_not_a_green_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.config import Config
    from auditor.errors import NothingCollected
    from auditor.scan import scan

    monkeypatch.setattr("auditor.scan.organization_accounts", lambda client: [])
    with pytest.raises(NothingCollected, match="lists no ACTIVE account") as raised:
        scan(Config(org=True, role_name="auditor", checks=("network.single_az",)))
    assert raised.value.exit_code == 3
