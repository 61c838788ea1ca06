"""Which accounts and regions a scan covers, and the credentials for each.

- `--account-role ARN` / `--org --role-name R`: assumed-role sessions whose credentials
  refresh themselves before they expire (a scan of many accounts outlives a 1-hour session).
- `--all-regions`: the regions enabled for the account (opted-out ones are not scanned).
- `--shard I/N`: a deterministic slice of the (account, region) pairs, so N machines share
  the work with no coordination; I defaults from the Kubernetes Indexed Job or AWS Batch array
  index.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

from auditor.errors import ConfigError
from auditor.model import Scope

SESSION_NAME = "compute-auditor"
SHARD_INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX")


def assumed_session(
    base: boto3.session.Session,
    role_arn: str,
    external_id: str | None = None,
    session_name: str = SESSION_NAME,
    sts: Callable[[], Any] | None = None,
) -> boto3.session.Session:
    """A session for `role_arn` whose credentials are fetched on first use and refreshed
    before they expire. `sts` builds the STS client that assumes the role (the scan passes its
    guarded, counted one); by default it comes from `base`."""
    extra: dict[str, Any] = {"RoleSessionName": session_name}
    if external_id:
        extra["ExternalId"] = external_id

    def client_creator(service: str, **kwargs: Any) -> Any:
        if sts is not None:
            return sts()
        return base.client(service, **kwargs)  # type: ignore[call-overload]

    fetcher = AssumeRoleCredentialFetcher(
        client_creator=client_creator,
        source_credentials=base.get_credentials(),
        role_arn=role_arn,
        extra_args=extra,
    )
    credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
    core = botocore.session.get_session()
    # A new botocore session parses every service model again (about 0.8 s of CPU an account
    # for a scan's services): one loader, the base session's, serves every account's.
    core.register_component("data_loader", base._session.get_component("data_loader"))
    # botocore has no public setter for refreshable credentials; this is how its own tools
    # (and boto3-refresh-session) hand them over.
    core._credentials = credentials  # type: ignore[attr-defined]
    if base.region_name:
        core.set_config_variable("region", base.region_name)
    return boto3.session.Session(botocore_session=core)


def account_of(role_arn: str) -> str:
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit() or not parts[5].startswith("role/"):
        raise ConfigError(f"--account-role {role_arn!r} is not a role ARN "
                          "(arn:aws:iam::123456789012:role/NAME)")
    return parts[4]


def organization_accounts(organizations: Any) -> list[str]:
    """IDs of the organization's ACTIVE accounts (suspended and closing ones are skipped)."""
    accounts = []
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in page.get("Accounts", []):
            if account.get("Status", "ACTIVE") == "ACTIVE":
                accounts.append(str(account["Id"]))
    return sorted(accounts)


def enabled_regions(ec2: Any) -> list[str]:
    """Regions enabled for the account: opt-in-not-required and opted-in."""
    response = ec2.describe_regions(AllRegions=False)
    return sorted(
        r["RegionName"] for r in response.get("Regions", [])
        if r.get("OptInStatus", "opt-in-not-required") in ("opt-in-not-required", "opted-in")
    )


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, scope: Scope) -> bool:
        """Stable: a pair's shard depends only on the pair, never on the other pairs."""
        digest = hashlib.sha256(f"{scope.account}/{scope.region}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def select(self, scopes: Sequence[Scope]) -> list[Scope]:
        return [scope for scope in scopes if self.owns(scope)]


def parse_shard(spec: str | None, environ: Mapping[str, str] | None = None) -> Shard | None:
    """`I/N`, or `N` with I from JOB_COMPLETION_INDEX / AWS_BATCH_JOB_ARRAY_INDEX."""
    if spec is None:
        return None
    environ = os.environ if environ is None else environ
    index_text, _, count_text = spec.rpartition("/")
    if not index_text:
        index_text = next((environ[v] for v in SHARD_INDEX_VARIABLES if environ.get(v)), "")
        if not index_text:
            raise ConfigError(
                f"--shard {spec}: give I/N, or set JOB_COMPLETION_INDEX (Kubernetes Indexed "
                "Job) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job)")
    try:
        shard = Shard(int(index_text), int(count_text))
    except ValueError:
        raise ConfigError(f"--shard {spec}: expected I/N with whole numbers, like 0/4") from None
    if shard.count < 1 or not 0 <= shard.index < shard.count:
        raise ConfigError(f"--shard {shard}: the index must be between 0 and {shard.count - 1}")
    return shard
