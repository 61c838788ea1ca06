"""Slack, Teams and generic webhooks against a real local HTTP receiver: the documented
payload structures, what the message names, retries, failures that never raise, and the
webhook URL (a secret) never shown."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from auditor.deliver.message import Link, build_message
from auditor.deliver.send import Retry, deliver_all, require_sender
from auditor.deliver.targets import parse_target
from auditor.errors import ConfigError
from auditor.findings import Severity
from auditor.report.document import Delivery, Report
from tests.deliver.conftest import (
    NEW,
    RESOLVED,
    STAYING,
    SUPPRESSED,
    TONIGHT,
    Receiver,
    arn,
    report,
)
from tests.report.conftest import finding

SECRET = "XXXXSECRET"


def no_wait(waits: list[float] | None = None) -> Retry:
    return Retry(attempts=4, backoff_s=1.0, timeout_s=5.0,
                 sleep=(waits.append if waits is not None else lambda _: None))


def send(kind: str, url: str, tonight: Report, baseline: Report | None = None,
         **target: Any) -> Delivery:
    [result] = deliver_all(tonight, [parse_target(f"{kind}+{url}", **target)], baseline,
                           link=Link("https://reports.example.com/tonight.html"),
                           retry=no_wait())
    return result


def texts(value: Any) -> str:
    return json.dumps(value)


def test_slack_gets_text_and_blocks_naming_the_new_and_the_resolved_finding(
        receiver: Receiver, tonight: Report, baseline: Report) -> None:
    result = send("slack", receiver.url, tonight, baseline)
    assert result.status == "sent"
    [payload] = receiver.accepted
    assert receiver.requests[0]["content_type"] == "application/json"
    assert "1 new, 1 resolved since 2026-11-22 02:00 UTC" in payload["text"]
    types = [block["type"] for block in payload["blocks"]]
    assert types[0] == "header" and "section" in types and types[-1] == "context"
    sections = " ".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    assert "*New (1)*" in sections and NEW.check_id in sections and "checkout" in sections
    assert "*Resolved (1)*" in sections and RESOLVED.check_id in sections
    assert STAYING.check_id not in sections, "unchanged findings are not news"
    assert SUPPRESSED.check_id not in texts(payload), "suppressed findings are never sent"
    [button] = [b["accessory"] for b in payload["blocks"] if "accessory" in b]
    assert button["url"] == "https://reports.example.com/tonight.html"
    for block in payload["blocks"]:
        for element in block.get("elements", []):
            assert element["type"] == "mrkdwn"


def test_teams_gets_an_adaptive_card(receiver: Receiver, tonight: Report,
                                     baseline: Report) -> None:
    assert send("teams", receiver.url, tonight, baseline).status == "sent"
    [payload] = receiver.accepted
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert isinstance(card["body"], list) and card["body"]
    assert {"type"} <= set(card["body"][0]) and card["body"][0]["type"] == "TextBlock"
    facts = next(b["facts"] for b in card["body"] if b["type"] == "FactSet")
    assert {"title": "High", "value": "1"} in facts
    body = texts(card["body"])
    assert NEW.check_id in body and RESOLVED.check_id in body
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open report",
                                "url": "https://reports.example.com/tonight.html"}]


def test_generic_webhook_gets_the_summary_and_the_findings(
        receiver: Receiver, tonight: Report, baseline: Report) -> None:
    assert send("webhook", receiver.url, tonight, baseline).status == "sent"
    [payload] = receiver.accepted
    assert payload["summary"]["new"] == 1 and payload["summary"]["resolved"] == 1
    assert payload["summary"]["findings_by_severity"]["high"] == 1
    assert [f["fingerprint"] for f in payload["new"]] == [NEW.fingerprint]
    assert [f["fingerprint"] for f in payload["resolved"]] == [RESOLVED.fingerprint]
    assert payload["summary"]["monthly_savings_usd_change"] == -40.0
    assert payload["baseline_generated_at"] == "2026-11-22T02:00:00Z"
    assert payload["report_url"] == "https://reports.example.com/tonight.html"


def test_a_receiver_answering_500_then_200_gets_one_message_after_a_backoff(
        receiver: Receiver, tonight: Report) -> None:
    receiver.script = [500]
    waits: list[float] = []
    [result] = deliver_all(tonight, [parse_target(f"slack+{receiver.url}")], retry=no_wait(waits))
    assert result.status == "sent" and result.attempts == 2
    assert [r["status"] for r in receiver.requests] == [500, 200]
    assert len(receiver.accepted) == 1 and waits == [1.0]


def test_a_receiver_failing_forever_is_a_failed_delivery_not_an_exception(
        receiver: Receiver, tonight: Report) -> None:
    receiver.script = [503] * 10
    waits: list[float] = []
    [result] = deliver_all(tonight, [parse_target(f"teams+{receiver.url}")],
                           retry=no_wait(waits))
    assert result.failed and result.attempts == 4 and waits == [1.0, 2.0, 4.0]
    assert result.reason == "HTTP 503: no_service"
    assert result.target == "teams+http://127.0.0.1/…/****"
    assert SECRET not in result.line() and SECRET not in json.dumps(result.to_dict())
    assert result.line().startswith("delivery to teams+http://127.0.0.1/…/**** failed after 4")


def test_too_many_requests_waits_as_long_as_the_receiver_asks(
        receiver: Receiver, tonight: Report) -> None:
    receiver.script = [429]
    receiver.headers[429] = ("Retry-After", "7")
    waits: list[float] = []
    [result] = deliver_all(tonight, [parse_target(f"slack+{receiver.url}")], retry=no_wait(waits))
    assert result.status == "sent" and waits == [7.0] and len(receiver.accepted) == 1


def test_a_client_error_is_not_retried(receiver: Receiver, tonight: Report) -> None:
    receiver.script = [404]
    result = send("slack", receiver.url, tonight)
    assert result.failed and result.attempts == 1 and len(receiver.requests) == 1


def test_a_redirect_is_not_followed(receiver: Receiver, tonight: Report) -> None:
    receiver.script = [302]
    receiver.headers[302] = ("Location", "http://127.0.0.1:9/elsewhere")
    result = send("webhook", receiver.url, tonight)
    assert result.failed and "redirect" in result.reason and len(receiver.requests) == 1


def test_an_unreachable_receiver_is_a_failed_delivery(tonight: Report) -> None:
    result = send("webhook", f"http://127.0.0.1:9/hooks/{SECRET}", tonight)
    assert result.failed and result.attempts == 4 and SECRET not in result.reason


def test_min_severity_narrows_the_message_and_only_new_skips_an_empty_one(
        receiver: Receiver, tonight: Report, baseline: Report) -> None:
    skipped = send("slack", receiver.url, tonight, baseline,
                   min_severity=Severity.CRITICAL, only_new=True)
    assert skipped.status == "skipped" and skipped.reason == "nothing new at or above critical"
    assert receiver.requests == []
    assert send("webhook", receiver.url, tonight, baseline, min_severity=Severity.HIGH,
                only_new=True).status == "sent"
    [payload] = receiver.accepted
    assert set(payload["summary"]["findings_by_severity"]) == {"critical", "high"}


def test_the_message_lists_the_top_ten_new_findings_by_saving(receiver: Receiver) -> None:
    many = tuple(finding("ecs.task_overprovisioned", arn(f"svc-{i:02}"), Severity.MEDIUM,
                         resource_type="ecs-service", monthly_savings_usd=float(i))
                 for i in range(1, 14))
    message = build_message(report(many))
    assert [item.saving for item in message.top_new] == [float(i) for i in range(13, 3, -1)]
    assert "New (top 10 of 13 by saving):" in message.text()
    send("slack", receiver.url, report(many))
    [payload] = receiver.accepted
    assert "*New (top 10 of 13)*" in texts(payload["blocks"])


def test_account_text_cannot_become_a_slack_link_or_mention(receiver: Receiver) -> None:
    hostile = finding("iam.shared_role", "arn:aws:iam::1:role/<!channel>|<http://evil>",
                      Severity.HIGH)
    send("slack", receiver.url, report((hostile,)))
    [payload] = receiver.accepted
    for shown in (texts(payload["blocks"]), payload["text"]):
        assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


def test_the_link_states_its_expiry(tonight: Report) -> None:
    link = Link("https://bucket.s3.amazonaws.com/r.html?X-Amz-Signature=abc",
                TONIGHT + timedelta(days=7))
    message = build_message(tonight, link=link)
    assert "(link expires 2026-11-30 02:00 UTC)" in message.text()
    assert replace(message, link=None).text().count("Report:") == 0


@pytest.mark.parametrize(("text", "error"), [
    ("slack+http://hooks.slack.com/services/T0/B0/SECRET", "use https://"),
    ("slack+ftp://hooks.slack.com/SECRET", "not an https:// URL"),
    ("teams+https://[SECRET/x", "not an https:// URL"),
    ("sns:arn:aws:sqs:us-east-1:123456789012:q", "not an SNS topic ARN"),
    ("email:nobody", "not an email address"),
    ("pager:https://example.com/SECRET", "is not one of slack\\+https://"),
    ("hooks.slack.com/services/SECRET", "is not one of"),
])
def test_a_bad_target_is_one_line_without_the_secret(text: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error) as raised:
        parse_target(text)
    assert "SECRET" not in str(raised.value) and "\n" not in str(raised.value)


def test_targets_parse_and_mask() -> None:
    slack = parse_target("slack+https://hooks.slack.com/services/T0/B0/SECRET")
    assert (slack.kind, slack.masked) == ("slack", "slack+https://hooks.slack.com/…/****")
    assert slack.address == "https://hooks.slack.com/services/T0/B0/SECRET"
    assert "SECRET" not in repr(slack) and "SECRET" not in str([slack])
    topic = parse_target("sns:arn:aws:sns:eu-west-1:123456789012:nightly")
    assert (topic.kind, topic.region, topic.masked) == (
        "sns", "eu-west-1", "sns:arn:aws:sns:eu-west-1:123456789012:nightly")
    assert parse_target("email:ops@example.com").address == "ops@example.com"


def test_an_email_target_needs_a_sender() -> None:
    with pytest.raises(ConfigError, match="set `from` under \\[delivery\\]"):
        require_sender([parse_target("email:ops@example.com")], None)
    require_sender([parse_target("email:ops@example.com")], "auditor@example.com")
