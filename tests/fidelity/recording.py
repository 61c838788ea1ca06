"""The demo scan, recorded once, then replayed without the emulator, one failure at a time.

`record_demo()` runs the real scan on the embedded demo account (moto, seeded once per test
process: `tests/shared_demo.py`) with an
`after-call` hook that keeps every call's parsed response, keyed by (operation, region,
parameters as the scan passed them). `Replay` answers a later scan from that recording through
a `before-call` hook, so no emulator runs and a replay takes a second or two; its `inject`
callback may answer any call with a failure instead.

Two things a replay answers by more than lookup, because a failure upstream changes what the
scan asks for:
- `GetMetricData` is answered query by query (a series is the same series in any batch), so a
  scan that plans fewer series, or batches them differently, still gets the recorded values;
- `DescribeClusterVersions` asked for fewer versions, and `DescribeSpotPriceHistory` for fewer
  instance types, get the recorded rows for those.
A call the recording cannot answer is a `miss`: it is answered with an error and reported, so
a replay never invents data.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from auditor.config import Config
from auditor.report.document import Report
from auditor.scan import Environment, scan
from tests.fidelity.hooks import PARAMS_HOOK, Answer, Failure, answer, call_params, canonical
from tests.fidelity.operations import SCAN_CONFIG, Operation

if TYPE_CHECKING:
    from tests.shared_demo import SharedDemo

GET_METRIC_DATA = Operation("cloudwatch", "GetMetricData")
FEWER = {Operation("eks", "DescribeClusterVersions"): (
             "clusterVersions", "clusterVersions", "clusterVersion"),
         Operation("ec2", "DescribeSpotPriceHistory"): (
             "InstanceTypes", "SpotPriceHistory", "InstanceType"),
         Operation("compute-optimizer", "GetLambdaFunctionRecommendations"): (
             "functionArns", "lambdaFunctionRecommendations", "functionArn"),
         Operation("compute-optimizer", "GetECSServiceRecommendations"): (
             "serviceArns", "ecsServiceRecommendations", "serviceArn")}
"""Calls a failure upstream may make for fewer of what they ask about: (parameter, result
key, the field of a result row that names it)."""
_MISS = Failure("miss", "FidelityReplayMiss", 500, "the recording holds no answer to this call")


@dataclass(frozen=True)
class Call:
    """One recorded call and its parsed answer."""

    operation: Operation
    region: str
    params: Mapping[str, Any]
    status: int
    body: Mapping[str, Any]
    """The parsed response, without `ResponseMetadata`."""

    @property
    def key(self) -> tuple[Operation, str, str]:
        return self.operation, self.region, canonical(self.params)


def fresh(value: Any) -> Any:
    """A copy of a parsed response's dicts and lists (its leaves are immutable), so what one
    scan does to an answer cannot reach the next; far cheaper than `copy.deepcopy` on the
    tens of thousands of datetimes a metric answer holds."""
    if isinstance(value, dict):
        return {k: fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        # An AWS list holds one shape: a metric answer's thousands of timestamps and values
        # are copied in one step.
        if value and not isinstance(value[0], (dict, list)):
            return list(value)
        return [fresh(v) for v in value]
    return value


def _series_key(region: str, query: Mapping[str, Any]) -> tuple[str, str]:
    return region, canonical(query.get("MetricStat") or {"Expression": query.get("Expression")})


@dataclass(frozen=True)
class Recording:
    calls: tuple[Call, ...]
    """In the order they completed."""
    config: Config
    now: datetime
    report: Report
    """The recorded scan's own report."""

    def of(self, operation: Operation) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    @property
    def operations(self) -> frozenset[Operation]:
        return frozenset(c.operation for c in self.calls)

    @property
    def account(self) -> str:
        identity = self.of(Operation("sts", "GetCallerIdentity"))[0]
        return str(identity.body["Account"])

    def by_key(self) -> dict[tuple[Operation, str, str], Call]:
        return {call.key: call for call in self.calls}

    def series(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Every recorded metric result, by (region, series), without its query ID; a series
        that came in several pages (past 100,800 datapoints a call) is joined into one."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for call in self.of(GET_METRIC_DATA):
            queries = {q["Id"]: q for q in call.params.get("MetricDataQueries", [])}
            for result in call.body.get("MetricDataResults", []):
                key = _series_key(call.region, queries[result["Id"]])
                if key in found:
                    for part in ("Timestamps", "Values"):
                        found[key].setdefault(part, []).extend(result.get(part, []))
                else:
                    found[key] = {k: fresh(v) for k, v in result.items() if k != "Id"}
        return found


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def after_call(self, http_response: Any, parsed: Mapping[str, Any], model: Any,
                   context: Mapping[str, Any], **_: Any) -> None:
        body = {k: fresh(v) for k, v in parsed.items() if k != "ResponseMetadata"}
        call = Call(Operation(model.service_model.service_name, model.name),
                    str(context.get("client_region")), call_params(context),
                    int(http_response.status_code), body)
        with self._lock:
            self.calls.append(call)


def record_demo(shared: SharedDemo) -> Recording:
    """One clean scan of the demo account (the one each test process seeds once), every call
    recorded."""
    recorder = _Recorder()
    with shared.active() as demo:
        config = dataclasses.replace(SCAN_CONFIG, regions=demo.account.regions)
        env = Environment(hooks=(*demo.extra_hooks, PARAMS_HOOK,
                                 ("after-call.*.*", recorder.after_call)), demo=True)
        report = scan(config, env, demo.account.now)
    return Recording(tuple(recorder.calls), config, demo.account.now, report)


@dataclass(frozen=True)
class Asked:
    """A call the replayed scan makes, handed to `Inject`."""

    operation: Operation
    region: str
    params: Mapping[str, Any]

    @property
    def key(self) -> tuple[Operation, str, str]:
        return self.operation, self.region, canonical(self.params)


Inject = Callable[[Asked, Mapping[str, Any]], Answer | None]
"""Given a call and the body the recording would answer, the answer to give instead, or
None to give the recorded one."""


@dataclass
class Replay:
    recording: Recording
    inject: Inject | None = None
    misses: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._calls = self.recording.by_key()
        self._series = self.recording.series()

    def hook(self, model: Any, context: Mapping[str, Any], **_: Any) -> Answer:
        asked = Asked(Operation(model.service_model.service_name, model.name),
                      str(context.get("client_region")), call_params(context))
        found = self._answer(asked)
        if found is None:
            with self._lock:
                self.misses.append(f"{asked.operation} in {asked.region} {dict(asked.params)}")
            return _MISS.answer()
        status, body = found
        injected = self.inject(asked, body) if self.inject else None
        return injected or answer(body, status)

    def _answer(self, asked: Asked) -> tuple[int, dict[str, Any]] | None:
        if asked.operation == GET_METRIC_DATA:
            return 200, self._metric_data(asked)
        call = self._calls.get(asked.key)
        if call is None and asked.operation in FEWER:
            return self._fewer(asked)
        return None if call is None else (call.status, fresh(dict(call.body)))

    def _metric_data(self, asked: Asked) -> dict[str, Any]:
        results = []
        for query in asked.params.get("MetricDataQueries", []):
            recorded = self._series.get(_series_key(asked.region, query))
            if recorded is None:
                with self._lock:
                    self.misses.append(f"{GET_METRIC_DATA} series {canonical(query)}")
                recorded = {"Label": "", "Timestamps": [], "Values": [], "StatusCode": "Complete"}
            results.append({**fresh(recorded), "Id": query["Id"]})
        return {"MetricDataResults": results, "Messages": []}

    def _fewer(self, asked: Asked) -> tuple[int, dict[str, Any]] | None:
        param, key, field_name = FEWER[asked.operation]
        wanted = set(asked.params.get(param, []))
        rest = {k: v for k, v in asked.params.items() if k != param}
        for call in self.recording.of(asked.operation):
            params = {k: v for k, v in call.params.items() if k != param}
            if (call.region == asked.region and params == rest
                    and wanted <= set(call.params.get(param, []))):
                rows = [r for r in call.body.get(key, []) if r.get(field_name) in wanted]
                return call.status, {**fresh(dict(call.body)), key: fresh(rows)}
        return None

    def scan(self) -> Report:
        session = harness_session()
        env = Environment(session=session, demo=True,
                          hooks=(PARAMS_HOOK, ("before-call.*.*", self.hook)))
        with session.lease():
            return scan(self.recording.config, env, self.recording.now)


_Registration = tuple[str, Any, tuple[Any, ...], dict[str, Any]]


class _Lent:
    """A pooled client lent to one scan: what the scan registers on its events is recorded,
    to be unregistered when the client comes back."""

    _METHODS = ("register", "register_first", "register_last")

    def __init__(self, key: str, client: Any) -> None:
        self.key = key
        self.client = client
        self.sent = False
        self._registered: list[_Registration] = []
        events = client.meta.events
        for name in self._METHODS:
            setattr(events, name, self._recording(getattr(events, name)))
        events.register_first("before-send", self._mark_sent)

    def _recording(self, register: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(event_name: str, handler: Any, *args: Any, **kwargs: Any) -> Any:
            self._registered.append((event_name, handler, args, kwargs))
            return register(event_name, handler, *args, **kwargs)

        return recorded

    def _mark_sent(self, **_: Any) -> None:
        self.sent = True

    def returned(self) -> Any:
        """The client as it was built: every handler registered since it was lent removed."""
        events = self.client.meta.events
        for name in self._METHODS:
            delattr(events, name)
        for event_name, handler, args, kwargs in reversed(self._registered):
            events.unregister(event_name, handler, *args, **kwargs)
        return self.client


class HarnessSession(boto3.session.Session):
    """A session that, inside `lease()`, lends clients from a pool instead of building them.

    Building a client is a third of a replay's CPU (botocore copies the session's whole table
    of event handlers, resolves the endpoint and the config), and the harnesses scan the same
    services and regions with the same config a hundred and sixty times per run. A lent client
    is the one botocore built, with every handler the scan registered on it (the read-only
    guard, the scan's call counter, the replay's hook) removed when the lease ends, so each
    scan sees its own hooks only. Its retry state cannot carry from one scan to the next: the
    harnesses answer every call in `before-call`, and the retry handlers run only on a request
    sent; a client that sent one anyway (seen in `before-send`) is dropped, not pooled. The
    same client is never lent twice at once: a scan that asks twice for one service and region
    (its first-contact client, its account's own) gets two."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._free: dict[str, list[Any]] = {}
        self._lent: list[_Lent] | None = None
        self._pool_lock = threading.Lock()

    def client(self, *args: Any, **kwargs: Any) -> Any:
        with self._pool_lock:
            if self._lent is None:
                return super().client(*args, **kwargs)
            config = kwargs.get("config")
            key = canonical({"args": args, "kwargs": {k: v for k, v in kwargs.items()
                                                      if k != "config"},
                             "config": config and config._user_provided_options})
            free = self._free.get(key)
            lent = _Lent(key, free.pop() if free else super().client(*args, **kwargs))
            self._lent.append(lent)
            return lent.client

    @contextmanager
    def lease(self) -> Iterator[None]:
        """Clients asked for until the block ends are lent, and come back when it ends."""
        with self._pool_lock:
            if self._lent is not None:
                raise RuntimeError("one scan at a time leases the harness session's clients")
            self._lent = []
        try:
            yield
        finally:
            with self._pool_lock:
                for lent in self._lent:
                    if not lent.sent:
                        self._free.setdefault(lent.key, []).append(lent.returned())
                self._lent = None


@cache
def harness_session() -> HarnessSession:
    """The session of every scan the fidelity harnesses run (replays and generated accounts):
    one session caches the service models its clients load, and lends built clients to one
    scan after another (`HarnessSession.lease`). The credentials sign nothing: no request is
    sent."""
    return HarnessSession(aws_access_key_id="fidelity", aws_secret_access_key="fidelity",
                          region_name="us-east-1")
