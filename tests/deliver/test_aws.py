"""SNS and SES through moto, and the delivery clients: each may make its service's one write
and refuses every other write of that service (walking botocore's service models)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.session
import pytest
from moto.ses.models import ses_backends

from auditor.deliver.clients import (
    DELIVERY_WRITES,
    delivery_client,
    delivery_policy,
    read_client,
)
from auditor.deliver.message import Link, presigned_link, report_link
from auditor.deliver.send import AwsDelivery, deliver_all
from auditor.deliver.targets import parse_target
from auditor.errors import ReadOnlyViolation
from auditor.report.document import Report
from auditor.session import is_read_only
from tests.deliver.conftest import NEW, RESOLVED, TONIGHT

pytestmark = pytest.mark.usefixtures("aws")
_BOTOCORE = botocore.session.get_session()


def writes(service: str) -> list[str]:
    return [name for name in _BOTOCORE.get_service_model(service).operation_names
            if not is_read_only(service, name)]


@pytest.mark.parametrize("service", sorted(DELIVERY_WRITES))
def test_each_delivery_client_refuses_every_other_write_of_its_service(service: str) -> None:
    client = delivery_client(boto3.session.Session(), service, "us-east-1")
    others = [name for name in writes(service) if name != DELIVERY_WRITES[service]]
    assert len(others) > 3, f"{service} has other writes to refuse"
    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}"
    for name in [*others, DELIVERY_WRITES[service]]:
        def call(name: str = name) -> object:
            return client.meta.events.emit_until_response(
                f"{event}.{name}", model=client.meta.service_model.operation_model(name),
                params={}, request_signer=None, context={})
        if name == DELIVERY_WRITES[service]:
            call()
        else:
            with pytest.raises(ReadOnlyViolation, match=f"only writes with {service}:"):
                call()


def test_the_sns_client_publishes_and_refuses_to_change_the_topic() -> None:
    client = delivery_client(boto3.session.Session(), "sns", "us-east-1")
    with pytest.raises(ReadOnlyViolation, match="refused sns:CreateTopic"):
        client.create_topic(Name="sneaky")
    with pytest.raises(ReadOnlyViolation, match="refused sns:Subscribe"):
        client.subscribe(TopicArn="arn:aws:sns:us-east-1:123456789012:t", Protocol="email",
                         Endpoint="attacker@example.com")


def test_sns_target_publishes_the_message(tonight: Report, baseline: Report) -> None:
    sns = boto3.client("sns", region_name="eu-west-1")
    sqs = boto3.client("sqs", region_name="eu-west-1")
    topic = sns.create_topic(Name="nightly")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    [result] = deliver_all(tonight, [parse_target(f"sns:{topic}")], baseline,
                           aws=AwsDelivery(boto3.session.Session()))
    assert result.status == "sent" and result.target == f"sns:{topic}"
    [received] = sqs.receive_message(QueueUrl=queue)["Messages"]
    note = json.loads(received["Body"])
    assert note["Subject"].startswith("compute-auditor: 1 new, 1 resolved since")
    assert NEW.check_id in note["Message"] and RESOLVED.check_id in note["Message"]


def test_a_missing_topic_is_a_failed_delivery(tonight: Report) -> None:
    [result] = deliver_all(tonight, [parse_target(
        "sns:arn:aws:sns:us-east-1:123456789012:gone")], aws=AwsDelivery(
        boto3.session.Session()))
    assert result.failed and "NotFound" in result.reason


def test_email_target_sends_through_ses_from_the_configured_sender(
        tonight: Report, baseline: Report) -> None:
    boto3.client("ses", region_name="us-east-1").verify_email_identity(
        EmailAddress="auditor@example.com")
    [result] = deliver_all(tonight, [parse_target("email:ops@example.com")], baseline,
                           aws=AwsDelivery(boto3.session.Session()),
                           sender="auditor@example.com")
    assert result.status == "sent"
    [sent] = ses_backends["123456789012"]["us-east-1"].sent_messages
    assert sent.source == "auditor@example.com"
    assert sent.destinations["ToAddresses"] == ["ops@example.com"]
    assert NEW.check_id in sent.body and sent.subject.startswith("compute-auditor: 1 new")


def test_an_unverified_sender_is_a_failed_delivery(tonight: Report) -> None:
    [result] = deliver_all(tonight, [parse_target("email:ops@example.com")],
                           aws=AwsDelivery(boto3.session.Session()),
                           sender="nobody@example.com")
    assert result.failed and "not verified" in result.reason


def test_the_presigned_link_is_a_get_that_expires_when_it_says() -> None:
    s3 = read_client(boto3.session.Session(), "s3", "us-east-1")
    link = presigned_link(s3, "s3://reports/nightly/report.html", timedelta(days=30), TONIGHT)
    query = parse_qs(urlsplit(link.url).query)
    assert urlsplit(link.url).path.endswith("nightly/report.html")
    assert query["X-Amz-Expires"] == ["604800"], "capped at the 7 days SigV4 allows"
    assert link.expires_at == TONIGHT + timedelta(days=7)


def test_the_delivery_policy_allows_each_write_and_nothing_the_clients_refuse() -> None:
    policy = delivery_policy(["arn:aws:sns:eu-west-1:123456789012:nightly"])
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"sns:Publish", "ses:SendEmail", "securityhub:BatchImportFindings",
                       "securityhub:GetFindings"}
    [sns] = [s for s in policy["Statement"] if s["Action"] == ["sns:Publish"]]
    assert sns["Resource"] == ["arn:aws:sns:eu-west-1:123456789012:nightly"]
    for action in actions:
        service, name = action.split(":")
        assert is_read_only(service, name) or DELIVERY_WRITES[service] == name


def test_the_message_links_the_configured_url_else_the_uploaded_html() -> None:
    s3 = read_client(boto3.session.Session(), "s3", "us-east-1")
    written = ["s3://reports/n/report-20261123T020000Z.json",
               "s3://reports/n/report-20261123T020000Z.html"]
    week = timedelta(days=7)
    configured = report_link(written, "https://intranet/report", s3, week, TONIGHT)
    assert configured == Link("https://intranet/report")
    signed = report_link(written, None, s3, week, TONIGHT)
    assert signed is not None and "/n/report-20261123T020000Z.html?" in signed.url
    assert signed.expires_at == TONIGHT + week
    assert report_link(["out/report.html", written[0]], None, s3, week, TONIGHT) is None
