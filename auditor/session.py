"""AWS clients: one per (account, region, service), read-only by construction, and counted.

Every client the auditor creates goes through `ClientFactory`, which
- registers a `before-call` hook that refuses any operation that is not a read
  (`Describe*`, `List*`, `Get*`, `BatchGet*`, `sts:AssumeRole`, `sts:GetCallerIdentity`),
- counts every API call by operation for the report's `stats`,
- with a scan's `RateLimits`, waits before each request for a token of the bucket of its
  account, region and operation (`auditor.ratelimit`: a share of AWS's documented rates),
- uses botocore's adaptive retry mode (client-side rate limiting plus retries on throttling),
  with a connect timeout and a read timeout, and says on stderr what it is waiting for when
  an endpoint does not answer and the call is tried again.
Endpoints come from the standard chain, so `AWS_ENDPOINT_URL` (and per-service variants)
point the whole scan at an emulator unchanged. The scan's first call (who am I?) is made on
a client that waits less (`RetryPolicy.first_contact`): an endpoint that does not answer it is
named in one line within seconds, not after minutes of retries.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError
from botocore.parsers import ResponseParserError
from botocore.utils import parse_timestamp

from auditor import __version__
from auditor.errors import AuditorError, ReadOnlyViolation
from auditor.ratelimit import RateLimits

log = logging.getLogger("auditor")

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet")
READ_EXCEPTIONS = frozenset({("sts", "AssumeRole"), ("sts", "GetCallerIdentity")})


def is_read_only(service: str, operation: str) -> bool:
    return operation.startswith(READ_PREFIXES) or (service, operation) in READ_EXCEPTIONS


class Cancelled(AuditorError):
    """The scan was interrupted: no further call is made."""


_STOP = threading.Event()


def stop_calls() -> None:
    """Refuse every call not yet made, on every client: an interrupted scan stops calling AWS
    (the demo's emulator may already be gone) instead of finishing what its workers hold."""
    _STOP.set()


def resume_calls() -> None:
    _STOP.clear()


@contextmanager
def worker_pool(max_workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that stops with the scan: when the caller is interrupted, calls not yet
    made are refused and work not yet started is cancelled before the pool is left."""
    pool = ThreadPoolExecutor(max_workers=max(1, max_workers))
    try:
        yield pool
    except BaseException:
        stop_calls()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def read_only_guard(model: Any, **_: Any) -> None:
    """botocore `before-call` handler: raise before any non-read operation is sent, and before
    any call at all once the scan is stopped."""
    if _STOP.is_set():
        raise Cancelled(f"{model.service_model.service_name}:{model.name} not called: the "
                        "scan was interrupted")
    service = model.service_model.service_name
    if not is_read_only(service, model.name):
        raise ReadOnlyViolation(
            f"refused {service}:{model.name}: compute-auditor only makes read-only calls"
        )


UPLOAD_WRITE = ("s3", "PutObject")
"""The one write the auditor ever makes: the report, to the user's bucket, when asked."""


def upload_guard(model: Any, **_: Any) -> None:
    """botocore `before-call` handler for the report upload client: reads and s3:PutObject."""
    service = model.service_model.service_name
    if not is_read_only(service, model.name) and (service, model.name) != UPLOAD_WRITE:
        raise ReadOnlyViolation(
            f"refused {service}:{model.name}: the report upload client only writes with "
            "s3:PutObject"
        )


def report_upload_client(session: boto3.session.Session, retry: RetryPolicy | None = None
                         ) -> Any:
    """The only client allowed a write, built only for `--output s3://...`: it may read (S3's
    region redirects use HeadBucket) and put objects, nothing else. Scan clients from
    `ClientFactory` stay read-only and refuse s3:PutObject too."""
    config = (retry or RetryPolicy()).botocore_config()
    client: Any = session.client("s3", config=config)
    client.meta.events.register_first("before-call.*.*", upload_guard)
    return client


_current = threading.local()


def last_call() -> tuple[str, str] | None:
    """(service, operation) of the last call this thread started. A timeout or a response
    that cannot be parsed carries no operation name; this names the call that failed rather
    than the listing around it."""
    found: tuple[str, str] | None = getattr(_current, "call", None)
    return found


def forget_last_call() -> None:
    _current.call = None


@dataclass
class CallStats:
    """API calls by `service:Operation`, counted once per call (retries not included)."""

    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, model: Any, context: Any = None, **_: Any) -> None:
        service = model.service_model.service_name
        key = f"{service}:{model.name}"
        _current.call = (service, model.name)
        with self._lock:
            self.calls[key] += 1
        # Operation and region only: request and response bodies may hold secrets.
        region = (context or {}).get("client_region", "")
        log.debug("call %s %s", key, region)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def by_operation(self) -> dict[str, int]:
        return dict(sorted(self.calls.items()))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    connect_timeout: float = 10.0
    """Seconds to wait for a connection to the endpoint (botocore's own default is 60)."""
    read_timeout: float = 30.0

    def botocore_config(self) -> Config:
        return Config(
            retries={"mode": "adaptive", "max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_extra=f"compute-auditor/{__version__}",
            max_pool_connections=20,
        )

    def first_contact(self) -> RetryPolicy:
        """For the scan's first call, `sts:GetCallerIdentity`, which answers in milliseconds:
        at most 2 attempts of 5 s to connect and 10 s to answer. An endpoint that does not
        answer it (a mistyped `AWS_ENDPOINT_URL`, a black hole, no network) is named within
        about 20 s instead of after 8 attempts of the scan's timeouts (over 4 minutes)."""
        return RetryPolicy(max_attempts=min(self.max_attempts, FIRST_CONTACT_ATTEMPTS),
                           connect_timeout=min(self.connect_timeout, 5.0),
                           read_timeout=min(self.read_timeout, 10.0))


FIRST_CONTACT_ATTEMPTS = 2

UNREACHABLE = (BotocoreConnectionError, HTTPClientError)
"""What botocore raises when an endpoint does not answer: refused, unresolvable, no route, a
connect or read timeout, a connection cut (the failures its retries call transient)."""


def endpoint_source(service: str) -> str:
    """Where a client's endpoint was set, when it is not AWS's own: the environment variable
    that names it (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`), or empty."""
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return ""
    specific = f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_').replace(' ', '_')}"
    return next((name for name in (specific, "AWS_ENDPOINT_URL") if os.environ.get(name)), "")


def unreachable_message(exc: Exception, client: Any) -> str:
    """One line for a call that reached no endpoint: which endpoint, what happened, and
    what to check."""
    service = client.meta.service_model.service_name
    source = endpoint_source(service)
    where = f"{client.meta.endpoint_url} (from {source})" if source \
        else client.meta.endpoint_url
    check = f"check {source}, " if source else "check "
    return (f"cannot reach the AWS endpoint {where}: {type(exc).__name__}: {exc}; "
            f"{check}the network and any proxy (HTTPS_PROXY)")


class WaitingReporter:
    """botocore `needs-retry` observer: when an endpoint did not answer an attempt and the
    call will be tried again, say on stderr (a warning) what the scan is waiting for, so that
    an unreachable endpoint is never a silent wait. Throttling retries are not reported: they
    are the adaptive mode doing its job. It never changes the retry decision (returns None)."""

    def __init__(self, retry: RetryPolicy) -> None:
        self.retry = retry

    def __call__(self, attempts: int = 0, caught_exception: Exception | None = None,
                 operation: Any = None, request_dict: Any = None, **_: Any) -> None:
        if not isinstance(caught_exception, UNREACHABLE) or attempts >= self.retry.max_attempts:
            return
        name = (f"{operation.service_model.service_name}:{operation.name}"
                if operation is not None else "a call")
        url = (request_dict or {}).get("url", "") if isinstance(request_dict, dict) else ""
        log.warning("waiting for %s (%s): attempt %d of %d got no answer (%s); trying again "
                    "(%g s to connect, %g s to answer)", url or "the endpoint", name,
                    attempts, self.retry.max_attempts, caught_exception,
                    self.retry.connect_timeout, self.retry.read_timeout)


Hook = Callable[..., Any]


def reject_unparsed_body(http_response: Any, model: Any, **_: Any) -> None:
    """botocore `after-call` handler. For the JSON protocols botocore reads a 200 body it
    cannot parse (a proxy's HTML page, a cut-off stream) as an empty result without raising:
    read on, that is an empty listing, a silent pass. Raise instead, so it is recorded. (XML
    protocols already raise.)"""
    if model.service_model.protocol not in ("json", "rest-json"):
        return
    # Stubbed and emulated answers carry no wire body (reading it raises AttributeError).
    body = getattr(http_response, "content", None)
    if getattr(http_response, "status_code", 0) != 200 or not body:
        return
    try:
        json.loads(body)
    except ValueError:
        raise ResponseParserError(
            f"unparseable {model.service_model.service_name}:{model.name} response body "
            f"({len(body)} bytes)") from None


@dataclass(frozen=True)
class Throttle:
    """botocore `request-created` handler of one client: wait for a token of the scan's
    bucket for this account, region and operation before each attempt is signed and sent,
    retries included (AWS counts every request it receives against the rate); refuse fast
    once the scan is stopped (the wait is cut short too). An answer a `before-call` hook
    gives (the demo's emulator, a Stubber) creates no request and takes no token."""

    limits: RateLimits
    account: str
    service: str
    region: str

    def __call__(self, operation_name: str = "", **_: Any) -> None:
        if not self.limits.take(self.account, self.region, self.service, operation_name,
                                _STOP.is_set):
            raise Cancelled(f"{self.service}:{operation_name} not called: the scan was "
                            "interrupted")


def fast_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, fast for what AWS sends: epoch seconds (CBOR, JSON) and
    ISO 8601 with a zone (XML, some JSON). botocore's own takes 60 us for an epoch and 200 us
    for an ISO string (it builds a local time zone each time); at 50,000 functions a scan
    reads millions of metric timestamps, minutes of CPU. The same instant as botocore's, with
    a zone (UTC for epochs); anything else (RFC 822, numbers as text, no zone) is botocore's
    to parse."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and "T" in value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    return parse_timestamp(value)


class ClientFactory:
    """Builds and caches clients for one boto3 session (one account's credentials).

    boto3 sessions are not thread-safe, clients are: creation is serialised, use is not.
    With `limits`, every request waits for its share of `account`'s request rates.
    """

    def __init__(
        self,
        session: boto3.session.Session,
        stats: CallStats,
        retry: RetryPolicy | None = None,
        extra_hooks: tuple[tuple[str, Hook], ...] = (),
        limits: RateLimits | None = None,
        account: str = "",
    ) -> None:
        self._session = session
        # Every client of the session parses timestamps with it (the parser is the session's).
        session._session.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=fast_timestamp)
        self._stats = stats
        self._retry = retry or RetryPolicy()
        self._extra_hooks = extra_hooks
        self._limits = limits
        self._account = account
        self._clients: dict[tuple[str, str, bool], Any] = {}
        self._lock = threading.Lock()

    def limited(self, limits: RateLimits, account: str) -> ClientFactory:
        """A factory for the same credentials whose clients keep to `account`'s share of
        the rates (the scan's own account is known only after its first call)."""
        return ClientFactory(self._session, self._stats, self._retry, self._extra_hooks,
                             limits, account)

    def client(self, service: str, region: str) -> Any:
        return self._client(service, region, first_contact=False)

    def release(self) -> None:
        """Let go of the clients made so far (about 0.3 MB each, with their connections):
        an organization's account is done with them once its part of the report is made.
        A client asked for later is made anew."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def first_contact(self, service: str, region: str) -> Any:
        """A client for the scan's first call, which waits less for an endpoint that does
        not answer (`RetryPolicy.first_contact`); otherwise like `client`'s."""
        return self._client(service, region, first_contact=True)

    def _client(self, service: str, region: str, first_contact: bool) -> Any:
        key = (service, region, first_contact)
        with self._lock:
            if key not in self._clients:
                retry = self._retry.first_contact() if first_contact else self._retry
                # Typed Any: the service name is data here, not a literal the stubs can match.
                session: Any = self._session
                client = session.client(service, region_name=region,
                                        config=retry.botocore_config())
                events = client.meta.events
                # Order matters: refuse writes, then count, then let extra hooks (the demo's
                # emulator, fault injection) answer; all ahead of botocore's and moto's own.
                # Each attempt that goes out waits for its token when its request is made.
                events.register_first("before-call.*.*", read_only_guard)
                if self._limits is not None:
                    # First: before the signer, so that a long wait cannot stale a signature.
                    events.register_first("request-created.*.*", Throttle(
                        self._limits, self._account, service, region))
                events.register_first("before-call.*.*", self._stats.record)
                events.register("after-call.*.*", reject_unparsed_body)
                events.register_first("needs-retry", WaitingReporter(retry))
                for event, hook in self._extra_hooks:
                    events.register_first(event, hook)
                self._clients[key] = client
            return self._clients[key]
