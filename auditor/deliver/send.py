"""Sending the message to every target: the entry point `deliver_all`.

Webhooks are posted with the standard library (a JSON POST needs no HTTP dependency), retried
with backoff on a timeout, a connection failure, 429 or 5xx; a 4xx other than 429 is not
retried (a revoked or mistyped webhook stays so). Redirects are not followed: a webhook that
answers with one is misconfigured, and following it would send the report elsewhere. SNS and
SES go through their one-write clients, with botocore's retries.

Nothing here raises: each target ends as a `Delivery`, sent, skipped or failed with a reason
that names the target only in its masked form."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3

from auditor import __version__
from auditor.deliver import render
from auditor.deliver.clients import delivery_client
from auditor.deliver.message import Link, Message, build_message
from auditor.deliver.targets import Target
from auditor.errors import ConfigError
from auditor.report.document import Delivery, Report

REASON_MAX = 300


@dataclass(frozen=True)
class Retry:
    attempts: int = 4
    backoff_s: float = 1.0
    """Waits 1, 2, 4 s between attempts (a 429's Retry-After, when longer, up to 30 s)."""
    timeout_s: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_s * 2 ** (attempt - 1)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 30.0))
        self.sleep(delay)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class AwsDelivery:
    """How SNS and SES are reached: the user's session (`--profile` or the standard chain);
    SES in `ses_region` (the session's region when None)."""

    session: boto3.session.Session
    ses_region: str | None = None


def post_json(target: Target, payload: dict[str, Any], retry: Retry) -> Delivery:
    body = json.dumps(payload).encode()
    reason = ""
    for attempt in range(1, retry.attempts + 1):
        request = urllib.request.Request(
            target.address, data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "User-Agent": f"compute-auditor/{__version__}"})
        retry_after = None
        try:
            with _OPENER.open(request, timeout=retry.timeout_s) as response:
                response.read()
            return Delivery(target.masked, "sent", f"HTTP {response.status}", attempt)
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode("utf-8", "replace").strip()
            reason = f"HTTP {exc.code}" + (f": {detail}" if detail else "")
            if 300 <= exc.code < 400:
                reason += " (a redirect: not followed)"
            if exc.code < 500 and exc.code != 429:
                return _failed(target, reason, attempt)
            retry_after = exc.headers.get("Retry-After")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            reason = f"{type(cause).__name__}: {cause}"
        if attempt < retry.attempts:
            retry.wait(attempt, retry_after)
    return _failed(target, reason, retry.attempts)


def _failed(target: Target, reason: str, attempts: int) -> Delivery:
    # A receiver's answer or an OS error could quote the URL; the secret never goes further.
    clean = reason.replace(target.address, target.masked)[:REASON_MAX]
    return Delivery(target.masked, "failed", clean, attempts)


def _send(target: Target, message: Message, aws: AwsDelivery | None, sender: str | None,
          retry: Retry) -> Delivery:
    if target.kind == "slack":
        return post_json(target, render.slack(message), retry)
    if target.kind == "teams":
        return post_json(target, render.teams(message), retry)
    if target.kind == "webhook":
        return post_json(target, render.webhook(message), retry)
    if aws is None:
        return _failed(target, "no AWS session to send with", 0)
    if target.kind == "sns":
        client = delivery_client(aws.session, "sns", target.region)
        client.publish(TopicArn=target.address, Subject=render.subject(message),
                       Message=message.text())
        return Delivery(target.masked, "sent", "published", 1)
    if sender is None:
        return _failed(target, "no sender address: set `from` under [delivery] in the config", 0)
    client = delivery_client(aws.session, "ses", aws.ses_region)
    client.send_email(Source=sender, Destination={"ToAddresses": [target.address]},
                      Message={"Subject": {"Data": render.subject(message), "Charset": "UTF-8"},
                               "Body": {"Text": {"Data": message.text(), "Charset": "UTF-8"}}})
    return Delivery(target.masked, "sent", "sent", 1)


def deliver(target: Target, message: Message, aws: AwsDelivery | None = None,
            sender: str | None = None, retry: Retry | None = None) -> Delivery:
    """One target, after its filters: `min_severity` narrows the message, `only_new` skips it
    when nothing at or above that severity is new."""
    narrowed = message.at_or_above(target.min_severity)
    if target.only_new and not narrowed.new:
        at = f" at or above {target.min_severity.value}" if target.min_severity else ""
        return Delivery(target.masked, "skipped", f"nothing new{at}")
    try:
        return _send(target, narrowed, aws, sender, retry or Retry())
    # Deliberately broad: a delivery runs after the report is written and must never lose it
    # or change the exit code, whatever botocore, the network or a bug raises.
    except Exception as exc:
        return _failed(target, f"{type(exc).__name__}: {exc}", 1)


def deliver_all(report: Report, targets: Sequence[Target], baseline: Report | None = None,
                link: Link | None = None, aws: AwsDelivery | None = None,
                sender: str | None = None, retry: Retry | None = None) -> list[Delivery]:
    """Build the message once and send it to every target, in order; one `Delivery` each."""
    message = build_message(report, baseline, link)
    return [deliver(target, message, aws, sender, retry) for target in targets]


def require_sender(targets: Sequence[Target], sender: str | None) -> None:
    """Before the scan: an email target needs the sender address SES sends from."""
    if sender is None and any(t.kind == "email" for t in targets):
        raise ConfigError("an email: notify target needs a sender: set `from` under [delivery] "
                          "in the config (an address or domain verified in SES)")
