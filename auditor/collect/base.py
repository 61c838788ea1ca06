"""What every collector gets: its scope, its clients, the datasets wanted, and a recorder that
turns a failed call into a `CollectionError` instead of an exception."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from auditor.errors import ReadOnlyViolation
from auditor.model import CollectionError, Scope
from auditor.session import Cancelled, ClientFactory, forget_last_call, last_call

log = logging.getLogger("auditor")
T = TypeVar("T")


GONE = frozenset({
    "ResourceNotFoundException", "NotFoundException", "ClusterNotFoundException",
    "ServiceNotFoundException", "DBProxyNotFoundFault", "DBProxyTargetGroupNotFoundFault",
    "DBParameterGroupNotFound", "DBParameterGroupNotFoundFault", "DBInstanceNotFound",
    "DBInstanceNotFoundFault", "TargetGroupNotFound", "TargetGroupNotFoundException",
    "NoSuchEntity",
})
"""Error codes that mean the resource asked about no longer exists."""


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
                    ", ".join(error.datasets or error.resources) or "-")

    def failure(
        self, scope: Scope, exc: Exception, datasets: tuple[str, ...], service: str,
        operation: str, resources: tuple[str, ...] = (), series: tuple[str, ...] = (),
        unread: tuple[str, ...] = (),
    ) -> CollectionError:
        """Record `exc` as the failure of the call that raised it; return the record.
        An interrupted scan is no failure of the call: it ends the collector."""
        if isinstance(exc, Cancelled):
            raise exc
        called = last_call()
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "ClientError")
            message = str(error.get("Message") or exc)
            operation = exc.operation_name or operation
        elif isinstance(exc, BotoCoreError | ReadOnlyViolation):
            code, message = type(exc).__name__, str(exc)
        else:
            # A response the parser did not expect (a new field shape, a truncated body) must
            # not end the scan: it is recorded like a failed call.
            code, message = type(exc).__name__, f"unexpected response: {exc}"
        if called is not None and not isinstance(exc, ClientError):
            service, operation = called
        recorded = CollectionError(
            account=scope.account, region=scope.region, service=service, operation=operation,
            code=code, message=message, datasets=datasets, resources=resources, series=series,
            unread=unread)
        self.add(recorded)
        return recorded

    @contextmanager
    def loading(
        self, scope: Scope, datasets: str | tuple[str, ...], service: str, operation: str,
        resources: tuple[str, ...] = (), unread: tuple[str, ...] = (), gone_ok: bool = False,
    ) -> Iterator[Call]:
        """Run the body; if an AWS call in it fails, record it and go on.

        The failure costs `datasets` for the whole scope, or, when `resources` or `unread`
        are named, for those resources only (see `CollectionError`). `operation` names the
        call when the failure carries no name and no call was made. With `gone_ok`, a
        NotFound answer (the resource was deleted since it was listed) is no failure: the
        body's result is simply absent, and the yielded `Call` says `gone`.
        """
        names = (datasets,) if isinstance(datasets, str) else datasets
        call = Call()
        forget_last_call()
        try:
            yield call
        except Exception as exc:
            if gone_ok and isinstance(exc, ClientError) and (
                    exc.response.get("Error", {}).get("Code") in GONE):
                log.debug("%s/%s %s:%s: %s is gone", scope.account, scope.region, service,
                          exc.operation_name or operation, ", ".join((*unread, *resources)))
                call.gone = True
                return
            self.failure(scope, exc, names, service, operation, resources, unread=unread)


@dataclass
class Call:
    """How a guarded call ended, for the collector that made it."""

    gone: bool = False
    """The resource it asked about no longer exists (NotFound)."""


@dataclass(frozen=True)
class ScopeCollector:
    """Handed to each service collector for one (account, region)."""

    scope: Scope
    clients: ClientFactory
    recorder: Recorder
    wanted: frozenset[str]
    now: datetime
    regions: tuple[str, ...] = ()
    """The account's regions in this scan, for account-wide readers that ask about them."""
    lookback_days: int = 14
    """The window usage is judged over, for readers of what it cost (Cost Explorer)."""

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
        """A listing: its failure costs the datasets for the whole scope."""
        return self.recorder.loading(self.scope, datasets, service, operation)

    def describing(
        self, datasets: str | tuple[str, ...], service: str, operation: str, *,
        unread: Sequence[str] = (), resources: Sequence[str] = (),
    ) -> Any:
        """A call about one resource: one item fails, one item is lost. NotFound drops it
        (deleted since it was listed: the `Call` yielded says `gone`); any other failure
        leaves `unread` (what the call would have read) unknown, and `resources` (collected
        ones that rest on it) unknown for `datasets`, and nothing else."""
        return self.recorder.loading(self.scope, datasets, service, operation,
                                     tuple(dict.fromkeys(resources)),
                                     tuple(dict.fromkeys(unread)), gone_ok=True)

    def parse_each(
        self, records: Iterable[Any], parse: Callable[[Any], T], datasets: tuple[str, ...],
        service: str, operation: str,
    ) -> list[T]:
        """Every record of a listing parsed on its own: one that cannot be read is recorded
        (what it was is unknown, so its datasets are incomplete for the scope) and the rest
        are kept. A failure of the listing call itself propagates to the caller's `loading`.
        """
        parsed: list[T] = []
        for raw in records:
            try:
                parsed.append(parse(raw))
            except Exception as exc:
                self.recorder.failure(self.scope, exc, datasets, service, operation)
        return parsed


def paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under `key` across all pages of a paginated operation."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def identifiers(values: Iterable[Any]) -> list[str]:
    """A listing's names or ARNs, refused whole when one is not a string: read on, it would
    fail a later call, which the error would then blame instead of this listing."""
    found = list(values)
    if not all(isinstance(value, str) and value for value in found):
        raise TypeError("the listing returned an identifier that is not a non-empty string")
    return found


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
