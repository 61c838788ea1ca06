"""An organization is scanned account by account: an account's clients are let go as soon as
its part of the report is made, so memory follows the accounts in flight, not the
organization (a botocore client alone is about 0.3 MB)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from auditor.config import Config
from auditor.scan import Environment, scan
from auditor.session import ClientFactory
from tests.test_shards import ACCOUNTS, REGIONS, role_arn, seed


@pytest.mark.usefixtures("aws")
def test_each_accounts_clients_are_let_go_before_the_next_account_is_scanned(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    events: list[tuple[str, int, str]] = []
    lock = threading.Lock()
    make, release = ClientFactory._client, ClientFactory.release

    def made(factory: ClientFactory, service: str, region: str, first_contact: bool) -> Any:
        with lock:
            events.append(("make", id(factory), service))
        return make(factory, service, region, first_contact)

    def released(factory: ClientFactory) -> None:
        with lock:
            events.append(("release", id(factory), ""))
        release(factory)

    monkeypatch.setattr(ClientFactory, "_client", made)
    monkeypatch.setattr(ClientFactory, "release", released)
    # 4 workers at 4 per account: one account in flight at a time.
    config = Config(regions=REGIONS, account_roles=tuple(role_arn(a) for a in ACCOUNTS),
                    max_workers=4, account_concurrency=4)
    report = scan(config, Environment(session=boto3.session.Session()), datetime.now(UTC))

    assert set(report.accounts) == set(ACCOUNTS)
    assert {f.account for f in report.findings} == set(ACCOUNTS)
    let_go = [factory for kind, factory, _ in events if kind == "release"]
    assert len(let_go) == len(ACCOUNTS)
    first, second = let_go
    done = events.index(("release", first, ""))
    # Before the first account is done, the second has only identified itself (sts) and
    # listed its regions (ec2); after, the first asks for no client again.
    assert {service for kind, factory, service in events[:done]
            if kind == "make" and factory == second} <= {"sts", "ec2"}
    assert all(factory != first for _, factory, _ in events[done + 1:])
