"""A moto server on 127.0.0.1 for benchmarks and fault-injection tests.

Test tooling, so not in the `auditor` package: bench/run.py imports it as a sibling module,
the tests as `bench.moto_server` (the repository root is on their path, as for `tests.*`).

`MotoServer` runs moto's WSGI app in a background thread on a free port, behind a middleware
that
- waits a fixed latency before every request (default 30 ms), as a real endpoint would, so a
  tool's cost in round trips shows up in its wall time;
- counts requests by `service:Operation` (the spelling `CallStats` uses), from the botocore
  service model: `X-Amz-Target` for the JSON protocols, `Action=` for query/EC2, the
  `/service/S/operation/O` path for RPC v2 CBOR (CloudWatch), and the operation's HTTP method
  and request-URI template for the REST protocols (Lambda, EKS). The service is the SigV4
  signing name of the request's credential scope; a request no model explains counts as
  `service:UNRESOLVED` rather than being dropped;
- injects faults by rule (`FaultRule`): an AWS error in the request's own protocol (so botocore
  parses the code: AccessDenied, throttling, 500, 503), a delay past the client's timeout, or
  a truncated or malformed body; for the first N matching requests or always. Rules can be
  added and removed while the server runs;
- counts requests by wall-clock second, account (moto's, from the credential's access key: an
  assumed role's key belongs to the role's account), region and operation (`by_second()`);
- enforces AWS's documented request rates (`auditor.ratelimit`) when asked (`enforce_rates()`,
  off by default): a token bucket per account, region, service and operation class, at the
  full rate (not the scan's share of it), answering a request that finds its bucket empty
  with the service's own throttling error, counted by account and service (`throttles()`).

The process running the server gets the demo's CloudWatch patches (`fast_metric_data`,
`unique_list_metrics`) and an indexed `GetMetricStatistics`, so metric reads over many series
cost what they would on AWS rather than moto's linear scans. They are undone by `stop()`.
Needs `moto[server]` (Flask), which the `dev` extra installs.

    with MotoServer(latency_s=0.03) as server:
        os.environ.update(server.client_env())      # AWS_ENDPOINT_URL and fake credentials
        server.add_fault(FaultRule(throttle(), service="lambda", times=2))
        ...
        server.counts()                             # {"lambda:ListFunctions": 3, ...}
"""

from __future__ import annotations

import bisect
import io
import json
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs

import botocore.session
from botocore.exceptions import UnknownServiceError
from moto.cloudwatch.models import CloudWatchBackend, MetricDatumBase, Statistics
from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import BaseWSGIServer, make_server

from auditor.demo.emulator import install_fast_metric_data, install_unique_list_metrics
from auditor.ratelimit import Rate, rate_for, scope_region

UNRESOLVED = "UNRESOLVED"

_Environ = dict[str, Any]
_StartResponse = Callable[..., Any]
_WsgiApp = Callable[[_Environ, _StartResponse], Iterable[bytes]]

# --------------------------------------------------------------------------- operations

# SigV4 signing names that are not the botocore service name (a few services share one).
_SIGNING_ALIASES: dict[str, tuple[str, ...]] = {
    "monitoring": ("cloudwatch",),
    "apigateway": ("apigateway", "apigatewayv2"),
    "elasticloadbalancing": ("elbv2", "elb"),
    "tagging": ("resourcegroupstaggingapi",),
    "states": ("stepfunctions",),
    "email": ("ses", "sesv2"),
}
_CREDENTIAL = re.compile(r"Credential=([^/]*)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    query_keys: frozenset[str]
    labels: int
    literal: int
    operation: str


@dataclass(frozen=True)
class _Model:
    name: str
    protocol: str
    target_prefix: str | None
    api_version: str
    query_compatible: bool
    routes: tuple[_Route, ...]


def _route(operation: str, http: dict[str, Any]) -> _Route:
    path, _, query = str(http.get("requestUri", "/")).partition("?")
    regex, last = "", 0
    for label in _LABEL.finditer(path):
        regex += re.escape(path[last:label.start()])
        # `{Key+}` spans slashes; a plain label is one non-empty segment.
        regex += ".+" if label.group(1).endswith("+") else "[^/]+"
        last = label.end()
    regex += re.escape(path[last:])
    keys = frozenset(part.split("=", 1)[0] for part in query.split("&") if part)
    literal = len(_LABEL.sub("", path))
    return _Route(str(http.get("method", "POST")), re.compile(f"^{regex}/?$"), keys,
                  len(_LABEL.findall(path)), literal, operation)


@cache
def _model(name: str) -> _Model | None:
    try:
        model = _BOTOCORE.get_service_model(name)
    except UnknownServiceError:
        return None
    routes = tuple(_route(op, model.operation_model(op).http) for op in model.operation_names)
    return _Model(name, str(model.protocol), model.metadata.get("targetPrefix"),
                  str(model.api_version), "awsQueryCompatible" in model.metadata, routes)


_BOTOCORE = botocore.session.get_session()
_MODEL_LOCK = threading.Lock()


def _models(signing_name: str) -> list[_Model]:
    with _MODEL_LOCK:  # functools.cache is not safe against two threads filling one entry
        found = [_model(n) for n in _SIGNING_ALIASES.get(signing_name, (signing_name,))]
    return [m for m in found if m is not None]


@dataclass(frozen=True)
class Call:
    """What one request asked for, as the middleware understood it."""

    service: str
    operation: str
    region: str
    protocol: str
    """The wire protocol of the request: json, rest-json, rest-xml, query, ec2 or cbor."""
    query_compatible: bool = False
    """The service also speaks query-style error codes (`x-amzn-query-error`)."""
    access_key: str = ""
    """The SigV4 credential's access key ID: moto knows which account it belongs to."""

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"


def identify(environ: _Environ, body: bytes) -> Call:
    """The service, operation and protocol of a request, from its headers, path and body."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    scope = _CREDENTIAL.search(auth) or _CREDENTIAL.search(
        "Credential=" + "".join(query.get("X-Amz-Credential", [])))
    access_key, region, signing = scope.groups() if scope else ("", "us-east-1", "unknown")
    models = _models(signing)
    service = models[0].name if models else signing
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/") or "/"

    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix, _, operation = target.rpartition(".")
        chosen = next((m for m in models if m.target_prefix == prefix), None)
        return Call(chosen.name if chosen else service, operation, region, "json",
                    bool(chosen and chosen.query_compatible), access_key)
    cbor = re.fullmatch(r"/service/([^/]+)/operation/([^/]+)", path)
    if cbor and environ.get("HTTP_SMITHY_PROTOCOL"):
        chosen = next((m for m in models if m.target_prefix == cbor.group(1)), None)
        return Call(chosen.name if chosen else service, cbor.group(2), region, "cbor",
                    bool(chosen and chosen.query_compatible), access_key)
    form: dict[str, list[str]] = {}
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"))
    action = (form.get("Action") or query.get("Action") or [None])[0]
    if action:
        version = (form.get("Version") or query.get("Version") or [None])[0]
        chosen = next((m for m in models if m.api_version == version), None)
        chosen = chosen or (models[0] if models else None)
        protocol = "ec2" if chosen and chosen.protocol == "ec2" else "query"
        return Call(chosen.name if chosen else service, action, region, protocol,
                    access_key=access_key)
    for model in models:
        matches = [r for r in model.routes
                   if r.method == method and r.pattern.match(path) and r.query_keys <= set(query)]
        if matches:
            # The most specific template wins: `/functions/{F}/concurrency` over `{F+}`.
            best = max(matches, key=lambda r: (len(r.query_keys), -r.labels, r.literal))
            protocol = model.protocol if model.protocol.startswith("rest") else "rest-json"
            return Call(model.name, best.operation, region, protocol, access_key=access_key)
    return Call(service, UNRESOLVED, region, "rest-json", access_key=access_key)


# --------------------------------------------------------------------------- faults

FaultKind = Literal["error", "delay", "truncate", "malformed"]


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or to) moto's answer.

    `error` answers `status` with the AWS error `code` in the request's protocol; a code of
    None picks the protocol's usual spelling of `generic` ("denied" or "throttled").
    `delay` waits `delay_s` before serving the request normally (past a client's read timeout
    the client gives up first). `truncate` cuts moto's body in half and `malformed` replaces
    it with a proxy's HTML page; both keep status 200 and a matching Content-Length.
    """

    kind: FaultKind
    status: int = 400
    code: str | None = None
    generic: Literal["denied", "throttled", "server"] = "server"
    message: str = "injected by the benchmark server"
    delay_s: float = 0.0


def deny(code: str | None = None) -> Fault:
    """403 AccessDenied (query/XML) or AccessDeniedException (JSON, REST, CBOR)."""
    return Fault("error", 403, code, "denied", "User is not authorized to perform this action")


def throttle(code: str | None = None) -> Fault:
    """400 Throttling (query/XML), RequestLimitExceeded (EC2) or ThrottlingException."""
    return Fault("error", 400, code, "throttled", "Rate exceeded")


def server_error(status: Literal[500, 503] = 500) -> Fault:
    """500 InternalFailure or 503 ServiceUnavailable: botocore retries both."""
    return Fault("error", status, "InternalFailure" if status == 500 else "ServiceUnavailable")


def delay(seconds: float) -> Fault:
    return Fault("delay", delay_s=seconds)


def truncate() -> Fault:
    """Half of moto's body. botocore's XML parsers raise `ResponseParserError`; its JSON
    parsers read an unparseable 200 body as `{"message": body}`, an empty result, without
    raising. (botocore does not enforce Content-Length, so a connection dropped mid-body
    reaches its parser exactly like this.)"""
    return Fault("truncate", 200)


def malformed() -> Fault:
    return Fault("malformed", 200)


@dataclass
class FaultRule:
    """Apply `fault` to requests for `service` (botocore name, e.g. "cloudwatch") and
    `operation` (e.g. "GetMetricData"); None matches any. `times`: only the first N matching
    requests, None for all. `hits` counts the requests it was applied to."""

    fault: Fault
    service: str | None = None
    operation: str | None = None
    times: int | None = None
    hits: int = 0

    def matches(self, call: Call) -> bool:
        return ((self.service is None or self.service == call.service)
                and (self.operation is None or self.operation == call.operation)
                and (self.times is None or self.hits < self.times))


_CODES = {
    # generic: (JSON/REST/CBOR, query/XML, EC2)
    "denied": ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"),
    "throttled": ("ThrottlingException", "Throttling", "RequestLimitExceeded"),
    "server": ("InternalFailure", "InternalFailure", "InternalError"),
}


def _cbor(items: dict[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949), enough for an RPC v2 error body."""

    def head(major: int, size: int) -> bytes:
        if size < 24:
            return bytes([major << 5 | size])
        width = 1 if size < 0x100 else 2 if size < 0x10000 else 4
        return bytes([major << 5 | {1: 24, 2: 25, 4: 26}[width]]) + size.to_bytes(width, "big")

    out = head(5, len(items))
    for key, value in items.items():
        for text in (key, value):
            data = text.encode()
            out += head(3, len(data)) + data
    return out


def error_response(call: Call, fault: Fault) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of an AWS error for `call`'s protocol."""
    json_code, query_code, ec2_code = _CODES[fault.generic]
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if call.protocol in ("query", "ec2", "rest-xml"):
        code = fault.code or (ec2_code if call.protocol == "ec2" else query_code)
        error = f"<Code>{code}</Code><Message>{fault.message}</Message>"
        if call.protocol == "ec2":
            text = (f"<Response><Errors><Error>{error}</Error></Errors>"
                    f"<RequestID>{request_id}</RequestID></Response>")
        elif call.protocol == "query":
            text = (f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
                    f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        else:
            text = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
        headers.append(("Content-Type", "text/xml"))
        return fault.status, headers, text.encode()
    code = fault.code or json_code
    headers.append(("x-amzn-ErrorType", code))
    if call.query_compatible:
        # CloudWatch and SQS clients read the (query-style) code from this header.
        headers.append(("x-amzn-query-error", f"{code};Sender"))
    if call.protocol == "cbor":
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        return fault.status, headers, _cbor({"__type": code, "message": fault.message})
    headers.append(("Content-Type", "application/x-amz-json-1.1"))
    return fault.status, headers, json.dumps({"__type": code, "message": fault.message}).encode()


# --------------------------------------------------------------------------- rates


Rates = Callable[[str, str], Rate]
"""(service, operation) -> its rate: `auditor.ratelimit.rate_for`, or a test's own."""

_SERVICE_THROTTLES = {
    # Services whose throttling error is not the protocol's usual spelling (`throttle()`).
    "lambda": Fault("error", 429, "TooManyRequestsException", "throttled", "Rate exceeded"),
    "ec2": Fault("error", 503, "RequestLimitExceeded", "throttled", "Request limit exceeded."),
    "organizations": Fault("error", 400, "TooManyRequestsException", "throttled",
                           "AWS Organizations can't complete your request: too many requests."),
}
THROTTLING_CODES = frozenset({
    *(fault.code for fault in _SERVICE_THROTTLES.values()), *_CODES["throttled"]})
"""Every error code the server throttles with: a report error with one of these is a request
the client gave up on after its retries."""


Bucket = tuple[str, str, str, str]
"""(account, region or `ratelimit.GLOBAL`, service, bucket name): one of AWS's buckets."""


def bucket_of(account: str, region: str, service: str, operation: str,
              rates: Rates = rate_for) -> tuple[Bucket, Rate]:
    """The bucket a request draws from, and its rate: AWS's buckets are per account and
    region (one for the account-wide services) and per operation class."""
    rate = rates(service, operation)
    return (account, scope_region(service, region), service, rate.bucket_for(operation)), rate


def service_throttle(service: str) -> Fault:
    """The throttling error `service` itself answers."""
    return _SERVICE_THROTTLES.get(service, throttle())


@dataclass
class _Bucket:
    """AWS's token bucket: full at `burst` tokens, refilled at `per_second`; each request
    takes one, and a request finding none is throttled (where the auditor's
    `ratelimit.TokenBucket` waits for its token, AWS refuses)."""

    per_second: float
    burst: float
    tokens: float
    at: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass(frozen=True)
class Second:
    """Requests one account sent to one operation in one region within one wall-clock
    second (`at`, epoch seconds), retries and throttled ones included."""

    at: int
    account: str
    region: str
    service: str
    operation: str
    requests: int


# --------------------------------------------------------------------------- middleware


class _Middleware:
    """Latency, counting and faults in front of moto's dispatcher; all state behind a lock."""

    def __init__(self, app: _WsgiApp, latency_s: float) -> None:
        self.app = app
        self.latency_s = latency_s
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.rules: list[FaultRule] = []
        self.accounts: dict[str, str] = {}
        self.seconds: Counter[tuple[int, str, str, str, str]] = Counter()
        self.rates: Rates | None = None
        self.buckets: dict[Bucket, _Bucket] = {}
        self.throttled: Counter[tuple[str, str]] = Counter()
        self.listings: dict[tuple[str, str], tuple[list[tuple[str, str]], list[Any]]] = {}

    def account(self, access_key: str) -> str:
        """moto's account for an access key, remembered: moto looks it up in every account's
        keys, which costs a scan of all of them per request in a 100-account organization."""
        account = self.accounts.get(access_key)
        if account is None:
            account = self.accounts[access_key] = get_account_id_from(access_key)
        return account

    def functions_page(self, environ: _Environ, account: str, region: str
                       ) -> tuple[int, list[tuple[str, str]], bytes]:
        """ListFunctions a page at a time, as AWS answers it (50 at most, `NextMarker`):
        moto answers every function at once, which would count one call where AWS takes one
        per 50. A listing's first page reads moto's whole answer, its next pages slice it."""
        query = parse_qs(environ.get("QUERY_STRING", ""))
        marker = query.get("Marker", [""])[0]
        size = min(int(query.get("MaxItems", [str(FUNCTIONS_PAGE)])[0]), FUNCTIONS_PAGE)
        key = (account, region)
        with self.lock:
            listing = self.listings.get(key) if marker.startswith(_MARKER) else None
        if listing is None:
            status, headers, payload = _capture(self.app, environ)
            if status != 200:
                return status, headers, payload
            listing = (headers, json.loads(payload).get("Functions", []))
            with self.lock:
                self.listings[key] = listing
        headers, functions = listing
        offset = int(marker.removeprefix(_MARKER)) if marker.startswith(_MARKER) else 0
        page: dict[str, Any] = {"Functions": functions[offset:offset + size]}
        if offset + size < len(functions):
            page["NextMarker"] = f"{_MARKER}{offset + size}"
        return 200, headers, json.dumps(page).encode()

    def admit(self, call: Call, account: str) -> bool:
        """Take a token from the call's bucket; False when rates are enforced and it is empty.
        Called under the lock."""
        if self.rates is None:
            return True
        key, rate = bucket_of(account, call.region, call.service, call.operation, self.rates)
        now = time.monotonic()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(rate.per_second, rate.burst, rate.burst, now)
        if bucket.take(now):
            return True
        self.throttled[(account, call.service)] += 1
        return False

    def __call__(self, environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        call = identify(environ, body)
        account = self.account(call.access_key)
        with self.lock:
            self.counts[call.key] += 1
            self.seconds[(int(time.time()), account, call.region, call.service,
                          call.operation)] += 1
            rule = next((r for r in self.rules if r.matches(call)), None)
            if rule is not None:
                rule.hits += 1
            admitted = rule is not None or self.admit(call, account)
            latency = self.latency_s
        if latency > 0:
            time.sleep(latency)
        fault = rule.fault if rule else (None if admitted else service_throttle(call.service))
        if fault is None and call.key == "lambda:ListFunctions":
            return _respond(start_response, *self.functions_page(environ, account, call.region))
        if fault is None:
            return self.app(environ, start_response)
        if fault.kind == "error":
            status, headers, payload = error_response(call, fault)
            return _respond(start_response, status, headers, payload)
        if fault.kind == "delay":
            time.sleep(fault.delay_s)
            return self.app(environ, start_response)
        status, headers, payload = _capture(self.app, environ)
        payload = payload[: len(payload) // 2] if fault.kind == "truncate" else _NOT_AWS
        return _respond(start_response, status, headers, payload)


def _capture(app: _WsgiApp, environ: _Environ) -> tuple[int, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        seen["status"], seen["headers"] = int(status.split(maxsplit=1)[0]), headers

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return seen["status"], seen["headers"], payload


def _respond(start_response: _StartResponse, status: int, headers: list[tuple[str, str]],
             payload: bytes) -> list[bytes]:
    kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests",
              500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    start_response(f"{status} {reason}", [*kept, ("Content-Length", str(len(payload)))])
    return [payload]


FUNCTIONS_PAGE = 50
"""AWS's largest ListFunctions page (MaxItems), and its default."""
_MARKER = "bench-offset-"

_NOT_AWS = b"<html><body><h1>502 Bad Gateway</h1><hr>"
"""What a proxy in the path sends instead of the service's answer, cut short: complete HTML
would parse as an empty, well-formed EC2 answer."""


class _QuietHandler(MotoRequestHandler):
    """moto's request handler without a log line per request (benchmarks send thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


# --------------------------------------------------------------------------- statistics

_StatsIndex = dict[tuple[str, str], list[tuple[dict[str, str], list[MetricDatumBase]]]]


def _stats_index(backend: CloudWatchBackend) -> _StatsIndex:
    """(namespace, name) -> [(dimensions, datapoints by time)], rebuilt when data is added."""
    version = (len(backend.metric_data), len(backend.aws_metric_data))
    cached = getattr(backend, "_server_stats_index", None)
    if cached is not None and cached[0] == version:
        index: _StatsIndex = cached[1]
        return index
    series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[MetricDatumBase]] = (
        defaultdict(list))
    for datum in backend.get_all_metrics():
        dims = tuple(sorted((str(d.name), str(d.value)) for d in datum.dimensions))
        series[(datum.namespace, datum.name, dims)].append(datum)
    index = defaultdict(list)
    for (namespace, name, dims), data in series.items():
        data.sort(key=lambda d: d.timestamp)
        index[(namespace, name)].append((dict(dims), data))
    backend._server_stats_index = (version, index)  # type: ignore[attr-defined]
    return index


_STATS_LOCK = threading.Lock()


def _fast_get_metric_statistics(
    self: CloudWatchBackend, namespace: str, metric_name: str, start_time: datetime,
    end_time: datetime, period: int, stats: list[str], dimensions: list[dict[str, str]],
    unit: str | None = None,
) -> list[Statistics]:
    """moto's `get_metric_statistics` with the same results, from a per-series index:
    moto scans every stored datapoint on every call, which at benchmark scale makes one
    call cost tens of milliseconds and the thousands a per-resource tool sends, minutes."""
    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    if start >= end:
        return list(_ORIGINAL_STATS(self, namespace, metric_name, start_time, end_time, period,
                                    stats, dimensions, unit))
    with _STATS_LOCK:
        index = _stats_index(self)
    picked: list[MetricDatumBase] = []
    for dims, data in index.get((namespace, metric_name), []):
        # A requested dimension without a value matches any value, as in moto.
        if all(d["Name"] in dims and d.get("Value") in (None, dims[d["Name"]])
               for d in dimensions or []):
            times = [d.timestamp for d in data]
            picked += data[bisect.bisect_left(times, start):bisect.bisect_left(times, end)]
    picked = sorted((d for d in picked if not unit or d.unit == unit), key=lambda d: d.timestamp)
    step = timedelta(seconds=period)
    result: list[Statistics] = []
    # moto's buckets start at the first datapoint and step by the period; so do these.
    bucket_start, bucket = picked[0].timestamp if picked else start, None
    for datum in picked:
        while datum.timestamp >= bucket_start + step:
            bucket_start += step
            bucket = None
        if bucket is None:
            bucket = Statistics(stats, bucket_start)
            result.append(bucket)
        bucket.metric_data.append(datum)
        bucket.unit = datum.unit
    return result


_ORIGINAL_STATS = CloudWatchBackend.__dict__["get_metric_statistics"]


def _install_fast_statistics() -> Callable[[], None]:
    setattr(CloudWatchBackend, "get_metric_statistics", _fast_get_metric_statistics)  # noqa: B010

    def uninstall() -> None:
        setattr(CloudWatchBackend, "get_metric_statistics", _ORIGINAL_STATS)  # noqa: B010

    return uninstall


# --------------------------------------------------------------------------- server


@dataclass
class MotoServer:
    """moto on 127.0.0.1 (a free port unless `port` is given) in a daemon thread."""

    latency_s: float = 0.03
    port: int = 0
    _middleware: _Middleware | None = field(default=None, init=False, repr=False)
    _server: BaseWSGIServer | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _undo: list[Callable[[], None]] = field(default_factory=list, init=False, repr=False)

    def start(self) -> MotoServer:
        self._undo = [install_fast_metric_data(), install_unique_list_metrics(),
                      _install_fast_statistics()]
        self._middleware = _Middleware(DomainDispatcherApplication(create_backend_app),
                                       self.latency_s)
        self._server = make_server("127.0.0.1", self.port, self._middleware, threaded=True,
                                   request_handler=_QuietHandler)
        # A short poll interval: `stop()` waits up to one interval for the loop to notice.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True,
                                        name=f"moto-server-{self._server.server_port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        for undo in reversed(self._undo):
            undo()
        self._undo, self._server, self._thread = [], None, None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def client_env(self) -> dict[str, str]:
        """Environment for a boto3 client or a subprocess to talk to this server only."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

    @property
    def _mw(self) -> _Middleware:
        assert self._middleware is not None, "start() the server first"
        return self._middleware

    def set_latency(self, seconds: float) -> None:
        self.latency_s = seconds
        with self._mw.lock:
            self._mw.latency_s = seconds

    def counts(self) -> dict[str, int]:
        """Requests received by `service:Operation`, including retries and faulted ones."""
        with self._mw.lock:
            return dict(sorted(self._mw.counts.items()))

    def total(self) -> int:
        with self._mw.lock:
            return sum(self._mw.counts.values())

    def reset_counts(self) -> None:
        """Clears the request counts, the per-second counts and the throttle counts."""
        with self._mw.lock:
            self._mw.counts.clear()
            self._mw.seconds.clear()
            self._mw.throttled.clear()

    def by_second(self) -> list[Second]:
        """Requests by wall-clock second, account, region and operation, in time order."""
        with self._mw.lock:
            return [Second(*key, count) for key, count in sorted(self._mw.seconds.items())]

    def enforce_rates(self, rates: Rates | None = None) -> None:
        """From now on, answer a request its service's own throttling error once its bucket
        is empty, as AWS does: a bucket per account, region, service and operation class
        (`bucket_of`). `rates`
        gives each operation's rate; by default AWS's documented ones
        (`auditor.ratelimit.rate_for`). Requests a fault rule matches are not throttled.
        Buckets start full."""
        with self._mw.lock:
            self._mw.rates, self._mw.buckets = rates or rate_for, {}

    def throttles(self) -> dict[tuple[str, str], int]:
        """Requests answered a throttling error by `enforce_rates`, by (account, service)."""
        with self._mw.lock:
            return dict(sorted(self._mw.throttled.items()))

    def add_fault(self, rule: FaultRule) -> FaultRule:
        """Rules are tried in the order added; the first that matches applies."""
        with self._mw.lock:
            self._mw.rules.append(rule)
        return rule

    def remove_fault(self, rule: FaultRule) -> None:
        with self._mw.lock:
            self._mw.rules = [r for r in self._mw.rules if r is not rule]

    def clear_faults(self) -> None:
        with self._mw.lock:
            self._mw.rules = []
