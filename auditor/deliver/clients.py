"""One AWS client per delivery path, each allowed reads and exactly one write, like the report
upload client (`auditor.session.report_upload_client`): a bug or a hostile check module holding
one of them can publish a message, and do nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
from botocore.config import Config

from auditor.errors import ReadOnlyViolation
from auditor.session import RetryPolicy, is_read_only, read_only_guard

DELIVERY_WRITES = {"sns": "Publish", "ses": "SendEmail", "securityhub": "BatchImportFindings"}
"""Each delivery service's one write."""


def delivery_policy(topics: Sequence[str] = ()) -> dict[str, Any]:
    """What `auditor iam-policy --delivery` prints, apart from the read-only policy: each
    delivery write, on the topics named when there are any (else any topic), and the one read
    the Security Hub import makes to find what to archive."""
    writes = [f"{service}:{action}" for service, action in sorted(DELIVERY_WRITES.items())]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ComputeAuditorDeliveryWrites", "Effect": "Allow",
         "Action": [w for w in writes if w != "sns:Publish"], "Resource": "*"},
        {"Sid": "ComputeAuditorNotifySns", "Effect": "Allow", "Action": ["sns:Publish"],
         "Resource": sorted(topics) or "*"},
        {"Sid": "ComputeAuditorSecurityHubRead", "Effect": "Allow",
         "Action": ["securityhub:GetFindings"], "Resource": "*"},
    ]}


def delivery_guard(model: Any, **_: Any) -> None:
    """botocore `before-call` handler: reads, and the one write of the client's service."""
    service = model.service_model.service_name
    allowed = DELIVERY_WRITES.get(service)
    if not is_read_only(service, model.name) and model.name != allowed:
        only = f"{service}:{allowed}" if allowed else "no write at all"
        raise ReadOnlyViolation(f"refused {service}:{model.name}: this delivery client only "
                                f"writes with {only}")


def delivery_client(session: boto3.session.Session, service: str, region: str | None,
                    retry: RetryPolicy | None = None) -> Any:
    """The client for one delivery path (`sns`, `ses` or `securityhub`)."""
    # Typed Any: the service name is data here, not a literal the stubs can match.
    typed: Any = session
    client = typed.client(service, region_name=region,
                          config=(retry or RetryPolicy(max_attempts=4)).botocore_config())
    client.meta.events.register_first("before-call.*.*", delivery_guard)
    return client


def read_client(session: boto3.session.Session, service: str, region: str | None) -> Any:
    """A read-only client (STS for the account ID, S3 to sign the report's link)."""
    typed: Any = session
    config = RetryPolicy(max_attempts=4).botocore_config()
    if service == "s3":
        # Presigned links in SigV4, whose stated expiry (at most 7 days) S3 enforces.
        config = config.merge(Config(signature_version="s3v4"))
    client = typed.client(service, region_name=region, config=config)
    client.meta.events.register_first("before-call.*.*", read_only_guard)
    return client
