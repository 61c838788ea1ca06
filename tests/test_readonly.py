"""Read-only by construction: the guard refuses every mutating operation of every service the
auditor creates clients for, walking botocore's own service models."""

from __future__ import annotations

import boto3
import botocore.session
import pytest

from auditor.datasets import DATASETS
from auditor.errors import ReadOnlyViolation
from auditor.session import CallStats, ClientFactory, read_only_guard

SERVICES = sorted({d.service for d in DATASETS.values()} | {"sts", "cloudwatch"})
_BOTOCORE = botocore.session.get_session()


def operations(service: str) -> list[str]:
    return list(_BOTOCORE.get_service_model(service).operation_names)


def test_services_cover_what_the_collectors_call() -> None:
    assert {"ecs", "eks", "lambda", "ec2", "iam", "rds", "logs", "cloudwatch", "sts"} <= set(
        SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_every_mutating_operation_is_refused(service: str) -> None:
    model = _BOTOCORE.get_service_model(service)
    refused, allowed = [], []
    for name in model.operation_names:
        operation = model.operation_model(name)
        try:
            read_only_guard(model=operation)
        except ReadOnlyViolation:
            refused.append(name)
        else:
            allowed.append(name)
    assert refused, f"{service} has writes, and they must be refused"
    for name in allowed:
        assert name.startswith(("Describe", "List", "Get", "BatchGet")) or (
            service, name) in {("sts", "AssumeRole"), ("sts", "GetCallerIdentity")}, name
    for name in refused:
        assert not name.startswith(("Describe", "List", "Get", "BatchGet")), name


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("service", SERVICES)
def test_every_client_the_factory_builds_carries_the_guard(service: str) -> None:
    client = ClientFactory(boto3.session.Session(), CallStats()).client(service, "us-east-1")
    mutating = next(n for n in operations(service)
                    if not n.startswith(("Describe", "List", "Get", "BatchGet"))
                    and (service, n) != ("sts", "AssumeRole"))
    with pytest.raises(ReadOnlyViolation):
        client.meta.events.emit_until_response(
            f"before-call.{client.meta.service_model.service_id.hyphenize()}.{mutating}",
            model=client.meta.service_model.operation_model(mutating), params={},
            request_signer=None, context={})
