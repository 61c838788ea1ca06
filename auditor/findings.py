"""The finding: what a check saw, where, against which threshold, and what to do."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Status = Literal["fail", "unknown"]


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 ... info 0."""
        return len(_SEVERITY_ORDER) - 1 - _SEVERITY_ORDER.index(self)

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r}; use one of {names}") from None


_SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
SEVERITIES = tuple(s.value for s in _SEVERITY_ORDER)


class Category(StrEnum):
    NETWORK = "network"
    IAM = "iam"
    COST = "cost"
    RELIABILITY = "reliability"
    SECURITY = "security"
    OPERATIONS = "operations"


def fingerprint(check_id: str, resource_arn: str, sub_key: str = "") -> str:
    """Stable across runs: the same problem on the same resource has the same fingerprint."""
    digest = hashlib.sha256(f"{check_id}\x1f{resource_arn}\x1f{sub_key}".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    severity: Severity
    category: Category
    status: Status
    resource_arn: str
    resource_type: str
    account: str
    region: str
    message: str
    evidence: Mapping[str, Any]
    remediation: str
    monthly_savings_usd: float | None = None
    savings_kind: str | None = None
    """What the saving comes from (`auditor.cost.priced.SAVINGS_KINDS`): the cost model
    composes each workload's savings by kind, so findings never claim one dollar twice."""
    sub_key: str = ""
    """Distinguishes several findings of one check on one resource (e.g. one per subnet)."""
    suppressed: bool = False
    suppression_reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.check_id, self.resource_arn, self.sub_key)
