"""Does a plaintext environment variable look like a secret? Names only ever leave this module.

A value is never printed, logged or stored in a finding: what a check reports is the variable
name, why it looks secret, and `mask()`'s hint, which keeps only the value's length and shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SECRET_NAME = re.compile(
    r"(PASSW(OR)?D|PASSPHRASE|SECRET|TOKEN|API[_-]?KEY|ACCESS[_-]?KEY|PRIVATE[_-]?KEY|"
    r"CLIENT[_-]?SECRET|CREDENTIAL|AUTH|DSN|CONN(ECTION)?[_-]?STR(ING)?|SIGNING[_-]?KEY)",
    re.IGNORECASE,
)
# Names that contain a secret-ish word but hold a pointer to one, not the secret itself.
_REFERENCE_NAME = re.compile(r"(_ARN|_NAME|_ID|_PATH|_FILE|_URL|_ENDPOINT|_REGION|_TTL|"
                             r"_LENGTH|_ENABLED|_HEADER)$", re.IGNORECASE)
_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key ID", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    # 40 base64 characters with both cases and a digit: a git SHA (lowercase hex) is not one.
    ("an AWS secret access key", re.compile(
        r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+=]{0,39}[a-z])(?=[A-Za-z0-9/+=]{0,39}[A-Z])"
        r"(?=[A-Za-z0-9/+=]{0,39}[0-9])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Slack token", re.compile(r"\bxox[abpors]-[A-Za-z0-9-]{10,}\b")),
    ("a Stripe secret key", re.compile(r"\b(sk|rk)_live_[A-Za-z0-9]{16,}\b")),
    ("a password in a connection URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
_NOT_A_SECRET_VALUE = re.compile(
    r"^(|true|false|yes|no|on|off|none|null|\d+|arn:aws[a-z-]*:.*|\{\{resolve:.*\}\})$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SecretHint:
    name: str
    reason: str
    masked: str


def mask(value: str) -> str:
    """`********** (32 chars)`: enough to recognise which value is meant, nothing of it."""
    return f"{'*' * min(len(value), 10)} ({len(value)} chars)"


def _reason(name: str, value: str) -> str | None:
    for label, pattern in _VALUE_PATTERNS:
        if pattern.search(value):
            return f"its value looks like {label}"
    if _NOT_A_SECRET_VALUE.match(value.strip()):
        return None
    if _SECRET_NAME.search(name) and not _REFERENCE_NAME.search(name):
        return "its name says it holds a secret"
    return None


def find_secrets(environment: Mapping[str, str]) -> list[SecretHint]:
    """The variables that look like plaintext secrets, sorted by name."""
    hints = []
    for name, value in sorted(environment.items()):
        reason = _reason(name, value)
        if reason is not None:
            hints.append(SecretHint(name, reason, mask(value)))
    return hints
