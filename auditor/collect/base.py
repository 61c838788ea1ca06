"""What every collector gets: its scope, its clients, the datasets wanted, and a recorder that
turns a failed call into a `CollectionError` instead of an exception."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from auditor.errors import ReadOnlyViolation
from auditor.model import CollectionError, Scope
from auditor.session import ClientFactory

log = logging.getLogger("auditor")


@dataclass
class Recorder:
    """Collects the failures of one scan, thread-safe."""

    errors: list[CollectionError] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, error: CollectionError) -> None:
        with self._lock:
            self.errors.append(error)
        log.warning("%s/%s %s:%s failed: %s (%s); unknown: %s", error.account, error.region,
                    error.service, error.operation, error.code, error.message,
                    ", ".join(error.datasets) or "-")

    @contextmanager
    def loading(
        self, scope: Scope, datasets: str | tuple[str, ...], service: str, operation: str
    ) -> Iterator[None]:
        """Run the body; if an AWS call in it fails, record it against `datasets` and go on.

        `operation` names the call when the failure carries none (timeouts, bad credentials).
        """
        names = (datasets,) if isinstance(datasets, str) else datasets
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            self.add(CollectionError(
                account=scope.account, region=scope.region, service=service,
                operation=exc.operation_name or operation,
                code=str(error.get("Code") or "ClientError"),
                message=str(error.get("Message") or exc), datasets=names,
            ))
        except (BotoCoreError, ReadOnlyViolation) as exc:
            self.add(CollectionError(
                account=scope.account, region=scope.region, service=service,
                operation=operation, code=type(exc).__name__, message=str(exc), datasets=names,
            ))
        except Exception as exc:
            # A response the parser did not expect (a new field shape, a truncated body) must
            # not end the scan: it is recorded like a failed call and its checks go unknown.
            self.add(CollectionError(
                account=scope.account, region=scope.region, service=service,
                operation=operation, code=type(exc).__name__,
                message=f"unexpected response: {exc}", datasets=names,
            ))


@dataclass(frozen=True)
class ScopeCollector:
    """Handed to each service collector for one (account, region)."""

    scope: Scope
    clients: ClientFactory
    recorder: Recorder
    wanted: frozenset[str]
    now: datetime

    def client(self, service: str) -> Any:
        return self.clients.client(service, self._client_region)

    @property
    def _client_region(self) -> str:
        # IAM is global; its scope carries no real region.
        return self.scope.region if self.scope.region != "global" else "us-east-1"

    def wants(self, *datasets: str) -> bool:
        return any(name in self.wanted for name in datasets)

    def wanted_among(self, datasets: tuple[str, ...]) -> tuple[str, ...]:
        """The wanted ones of `datasets`: what a call that serves all of them fails for."""
        return tuple(name for name in datasets if name in self.wanted)

    def loading(
        self, datasets: str | tuple[str, ...], service: str, operation: str
    ) -> Any:
        return self.recorder.loading(self.scope, datasets, service, operation)


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under `key` across all pages of a paginated operation."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def tag_map(tags: Any) -> dict[str, str]:
    """AWS spells tags three ways: [{Key, Value}], [{key, value}] and {k: v}."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    result: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            result[str(key)] = str(tag.get("Value", tag.get("value", "")))
    return result


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def parse_time(value: Any) -> datetime | None:
    """botocore hands back datetimes, but fakes, emulators and Lambda's string-typed fields
    give ISO 8601 text; an unreadable value is treated as absent rather than ending the scan."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
