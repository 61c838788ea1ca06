"""Where a message goes, parsed from a string (`--notify TARGET`, `[[notify]] target`).

Webhook URLs are secrets (whoever holds one can post to the channel): `Target.masked` is the
only form of a target that is ever printed, logged or written to a report."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from auditor.errors import ConfigError
from auditor.findings import Severity

Kind = Literal["slack", "teams", "webhook", "sns", "email"]
WEBHOOKS: tuple[Kind, ...] = ("slack", "teams", "webhook")

# Plain HTTP would send the secret URL in clear: allowed only to this machine (a local relay,
# the tests' receiver).
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_SNS_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FORMS = ("slack+https://…, teams+https://…, webhook+https://…, sns:arn:aws:sns:REGION:ACCOUNT:"
         "TOPIC or email:ADDRESS")


@dataclass(frozen=True)
class Target:
    kind: Kind
    address: str = field(repr=False)
    """The webhook URL (without the `slack+` prefix), the topic ARN or the email address;
    out of `repr`, so that a logged or printed target never shows a secret."""
    min_severity: Severity | None = None
    only_new: bool = False
    """Send only when a finding at or above `min_severity` is new since the baseline."""

    @property
    def masked(self) -> str:
        """`slack+https://hooks.slack.com/…/****`: the host says which service, nothing more."""
        if self.kind in WEBHOOKS:
            return _mask(self.kind, self.address)
        return f"{self.kind}:{self.address}"

    @property
    def region(self) -> str:
        """An SNS topic's region, from its ARN."""
        return self.address.split(":")[3]


def parse_target(text: str, min_severity: Severity | None = None,
                 only_new: bool = False) -> Target:
    """One `ConfigError` line for anything that is not a target; the line never repeats a
    webhook URL, only its masked form."""
    kind, plus, rest = text.partition("+")
    if plus and kind in WEBHOOKS:
        return Target(kind, _webhook_url(kind, rest), min_severity, only_new)
    if text.startswith("sns:"):
        arn = text.removeprefix("sns:")
        if not _SNS_ARN.fullmatch(arn):
            raise ConfigError(f"notify target sns:{arn}: not an SNS topic ARN "
                              "(sns:arn:aws:sns:REGION:ACCOUNT:TOPIC)")
        return Target("sns", arn, min_severity, only_new)
    if text.startswith("email:"):
        address = text.removeprefix("email:")
        if not _EMAIL.fullmatch(address):
            raise ConfigError(f"notify target email:{address}: not an email address")
        return Target("email", address, min_severity, only_new)
    # Only up to the first `:` or `/`: a mistyped target may still hold a webhook's secret.
    shown = re.split(r"(?<=[:/])", text, maxsplit=1)[0] + ("…" if re.search("[:/]", text) else "")
    raise ConfigError(f"notify target {shown!r} is not one of {FORMS}")


def _mask(kind: str, url: str) -> str:
    parts = urlsplit(url)
    return f"{kind}+{parts.scheme}://{parts.hostname or '?'}/…/****"


def _webhook_url(kind: str, url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced `[` of an IPv6 host
        parts = urlsplit("")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ConfigError(f"notify target {_mask(kind, url)}: a webhook URL is a secret; use "
                          "https:// (plain http only to this machine)")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"notify target {kind}+…: not an https:// URL after '{kind}+'")
    return url
