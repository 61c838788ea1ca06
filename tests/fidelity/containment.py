"""Containment: one failed call costs only what depends on it (SPEC section 9).

The demo scan is recorded once (`recording.record_demo`) and replayed once clean and once per
`Case`: one operation failing on every call, or on its first resource only, or one
`GetMetricData` batch, or one metric series. Each replay's report is compared with the clean
replay's, verdict by verdict ((check, resource, sub-key) -> status) and workload by workload,
and judged by the oracle (`judge`):

1. the failure is in `errors`, under the operation that failed, and the scan did not crash
   (a resource deleted since it was listed may instead vanish without an entry);
2. a changed verdict went to `unknown`: `fail` may become `unknown`, nothing clean becomes
   `fail`, and a `fail` never disappears unless a scope-wide `unknown` of its check stands for
   it (or it is about the deleted resource itself);
3. every changed verdict is of a check the entry lists in `checks_affected`, and a changed
   workload needs the cost check there;
4. a per-resource failure changes only that resource and what hangs off it: no scope-wide
   `unknown`, no sibling of the same kinds, and nothing outside the entry's `resources` (an
   ARN, or a prefix ending in `*` for what is under it);
5. a failed metric series or batch changes only the subjects that read it.

Account-wide verdicts (IAM roles) rest on every workload of the account: whether a role is
shared, or a workload role at all, may turn on the resource that failed, so one may go
`unknown` for any failure its check depends on. A resource deleted since it was listed takes
with it the verdicts that named it in their evidence (the role it shared with another
function is no longer shared).

`python -m tests.fidelity.containment` prints the table of every case as Markdown.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from auditor.collect import cloudwatch
from auditor.engine import Registry
from auditor.errors import NothingCollected
from auditor.findings import Finding
from auditor.model import GLOBAL_REGION
from auditor.report.document import Report, to_dict
from tests.fidelity.hooks import (
    NOT_FOUND,
    Answer,
    Failure,
    answer,
    canonical,
    denied,
    throttled,
)
from tests.fidelity.operations import FALLBACK_OPERATIONS, Operation, scan_operations
from tests.fidelity.recording import GET_METRIC_DATA, Asked, Call, Recording, Replay, fresh

IDENTITY = Operation("sts", "GetCallerIdentity")
COST_CHECK = "cost.migration_opportunity"
"""The check whose verdicts the report's workloads are (check IDs are fixed by the SPEC)."""
BATCH = 25
"""Queries per `GetMetricData` call in the batch case, so that the demo's ~90 series of a
region take several calls (at AWS's 500 they fit in one, and a failed batch is the region)."""
METRIC_CHECKS = frozenset(c.id for c in Registry.build(include_entry_points=False).checks
                          if "cloudwatch.metrics" in c.requires)
_WORKLOAD_KINDS = {"lambda": "lambda-function", "ecs-fargate": "ecs-service",
                   "ecs-ec2": "ecs-service", "eks": "eks-cluster"}

# --------------------------------------------------------------------------- cases


@dataclass(frozen=True, order=True)
class Case:
    operation: Operation
    failure: str
    """`denied`, `throttled`, `not-found`, or a metric series' status (`Forbidden`,
    `InternalError`)."""
    scope: str
    """`every call`, `first resource`, `first batch` or `one series`."""

    def __str__(self) -> str:
        return f"{self.operation} {self.failure} ({self.scope})"


def cases() -> tuple[Case, ...]:
    operations = scan_operations()
    # A throttle that outlasted the retries reaches the scan as AccessDenied does, a
    # ClientError, and differs only in its code: one operation per code is replayed.
    throttle_codes = {throttled(op).code: op for op in reversed(operations)}
    every = [Case(op, "denied", "every call") for op in operations]
    every += [Case(op, "throttled", "every call") for op in sorted(throttle_codes.values())]
    first = [Case(op, failure, "first resource") for op in sorted(NOT_FOUND)
             for failure in ("not-found", "denied")]
    metrics = [Case(GET_METRIC_DATA, "throttled", "first batch"),
               *(Case(GET_METRIC_DATA, status, "one series")
                 for status in ("Forbidden", "InternalError"))]
    return (*sorted(every), *first, *metrics)


# --------------------------------------------------------------------------- what may change


@dataclass(frozen=True)
class Blast:
    """What a failure may touch. `owns`: the failed resources themselves (a NotFound drops
    them); `hangs`: what uses them; `kinds`: resource types whose other members must not
    change; `reads`: for metric failures, the subjects of the failed series."""

    owns: Callable[[str], bool] = lambda arn: False
    hangs: Callable[[str], bool] = lambda arn: False
    kinds: frozenset[str] = frozenset()
    reads: Callable[[str], bool] | None = None


def _function_arn(recording: Recording, region: str, name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return ":".join(name_or_arn.split(":")[:7])
    return f"arn:aws:lambda:{region}:{recording.account}:function:{name_or_arn}"


def _of_function(function: str) -> Callable[[str], bool]:
    return lambda arn: arn == function or arn.startswith(f"{function}:") or arn.startswith(
        f"{function}/")


def _eks(region: str, account: str, cluster: str, kind: str) -> Callable[[str], bool]:
    """ARNs of `kind` (`cluster`, `nodegroup`, `addon`, `fargateprofile`, `insight`, or `*`
    for all the cluster's children) in one cluster."""
    base = f"arn:aws:eks:{region}:{account}:"
    if kind == "cluster":
        return lambda arn: arn == f"{base}cluster/{cluster}"
    if kind == "*":
        return lambda arn: arn.startswith(base) and (
            f"/{cluster}/" in arn or arn.startswith(f"{base}cluster/{cluster}/"))
    if kind == "insight":
        # Insights have no ARN; the collector files them under their cluster's.
        return lambda arn: arn.startswith(f"{base}cluster/{cluster}/insight/")
    return lambda arn: arn.startswith(f"{base}{kind}/{cluster}/")


def _the(described: str) -> Callable[[str], bool]:
    """One resource, also by the ARN a scan names it with when it could not describe it."""
    return lambda arn: not arn.endswith("/*") and names(arn, described)


def _any(*tests: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda arn: any(test(arn) for test in tests)


def _bodies(recording: Recording, service: str, name: str, key: str) -> list[Any]:
    return [item for call in recording.of(Operation(service, name))
            for item in call.body.get(key, [])]


def blast_of(recording: Recording, call: Call) -> Blast:
    """What the failure of this one per-resource call may touch, from the recording."""
    op, region, params, account = call.operation.name, call.region, call.params, recording.account
    eks_kinds = {"DescribeNodegroup": ("nodegroup", "eks-nodegroup"),
                 "DescribeFargateProfile": ("fargateprofile", "eks-fargate-profile"),
                 "DescribeAddon": ("addon", "eks-addon"),
                 "ListNodegroups": ("nodegroup", "eks-nodegroup"),
                 "ListAddons": ("addon", "eks-addon"),
                 "ListInsights": ("insight", "eks-insight")}
    if op == "DescribeTaskDefinition":
        definition = str(params["taskDefinition"])
        body = call.body.get("taskDefinition", {})
        users = {s["serviceArn"] for s in _bodies(recording, "ecs", "DescribeServices", "services")
                 if s.get("taskDefinition") == definition}
        roles = {body.get("taskRoleArn"), body.get("executionRoleArn")} - {None}
        return Blast(owns=lambda arn: arn == definition,
                     hangs=lambda arn: arn in users or arn in roles,
                     kinds=frozenset({"ecs-task-definition", "ecs-service"}))
    if op == "DescribeServices":
        batch = set(params["services"])
        definitions = {s.get("taskDefinition") for s in call.body.get("services", [])}
        shared = {s.get("taskDefinition") for s in _bodies(
            recording, "ecs", "DescribeServices", "services") if s["serviceArn"] not in batch}
        only_here = definitions - shared
        roles = {role for described in recording.of(Operation("ecs", "DescribeTaskDefinition"))
                 if described.params["taskDefinition"] in definitions
                 for role in (described.body["taskDefinition"].get("taskRoleArn"),
                              described.body["taskDefinition"].get("executionRoleArn")) if role}
        return Blast(owns=lambda arn: arn in batch or arn in only_here,
                     hangs=lambda arn: arn in roles,
                     kinds=frozenset({"ecs-service", "ecs-task-definition"}))
    if op == "DescribeCluster":
        name = str(params["name"])
        return Blast(owns=_eks(region, account, name, "cluster"),
                     hangs=_eks(region, account, name, "*"),
                     kinds=frozenset({"eks-cluster", "eks-nodegroup", "eks-addon",
                                      "eks-fargate-profile", "eks-insight"}))
    if op in eks_kinds:
        cluster = str(params["clusterName"])
        arn_kind, kind = eks_kinds[op]
        own = _eks(region, account, cluster, arn_kind)
        if op.startswith("Describe"):
            resource: Any = next(iter(call.body.values()), {})
            arn_key = {"DescribeNodegroup": "nodegroupArn",
                       "DescribeFargateProfile": "fargateProfileArn",
                       "DescribeAddon": "addonArn"}[op]
            single = resource.get(arn_key) if isinstance(resource, dict) else None
            own = _the(single) if single else own
        return Blast(owns=own, hangs=_eks(region, account, cluster, "cluster"),
                     kinds=frozenset({kind, "eks-cluster"}))
    if op == "DescribeDBProxyTargets":
        proxies = {p["DBProxyArn"] for p in _bodies(recording, "rds", "DescribeDBProxies",
                                                    "DBProxies")
                   if p.get("DBProxyName") == params["DBProxyName"]}
        return Blast(owns=lambda arn: arn in proxies, kinds=frozenset({"rds-proxy"}))
    if op == "DescribeDBParameters":
        group = params["DBParameterGroupName"]
        instances = {i["DBInstanceArn"] for i in _bodies(recording, "rds", "DescribeDBInstances",
                                                         "DBInstances")
                     if group in [g.get("DBParameterGroupName")
                                  for g in i.get("DBParameterGroups", [])]}
        return Blast(owns=lambda arn: arn in instances, kinds=frozenset({"rds-instance"}))
    if op == "DescribeTargetHealth":
        group = str(params["TargetGroupArn"])
        functions = {_function_arn(recording, region, str(d["Target"]["Id"]))
                     for d in call.body.get("TargetHealthDescriptions", [])}
        return Blast(owns=lambda arn: arn == group, hangs=_any(*map(_of_function, functions)),
                     kinds=frozenset({"target-group", "lambda-function"}))
    if op in ("GetResources", "GetIntegrations"):
        api = str(params.get("restApiId") or params.get("ApiId"))
        kind = "restapis" if op == "GetResources" else "apis"
        # The functions its integrations name, wherever the URI puts the ARN.
        fronted = set(re.findall(r"arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+",
                                 json.dumps(call.body)))
        return Blast(owns=lambda arn: arn == f"arn:aws:apigateway:{region}::/{kind}/{api}",
                     hangs=_any(*map(_of_function, fronted)),
                     kinds=frozenset({"api-gateway"}))
    if call.operation.service == "lambda":
        function = _function_arn(recording, region, str(params["FunctionName"]))
        return Blast(owns=_of_function(function),
                     kinds=frozenset({"lambda-function", "lambda-provisioned-concurrency",
                                      "lambda-alias", "lambda-function-url"}))
    raise LookupError(f"no blast radius known for {call.operation}")


def _series_subjects(recording: Recording, region: str, query: Mapping[str, Any]
                     ) -> Callable[[str], bool]:
    """The resources whose verdicts may rest on one series, from its dimensions."""
    metric = query["MetricStat"]["Metric"]
    dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
    account = recording.account
    if "FunctionName" in dims:
        return _of_function(_function_arn(recording, region, dims["FunctionName"]))
    if "ServiceName" in dims:
        return lambda arn: arn == (f"arn:aws:ecs:{region}:{account}:service/"
                                   f"{dims['ClusterName']}/{dims['ServiceName']}")
    if "ClusterName" in dims:
        return lambda arn: arn.endswith(f":cluster/{dims['ClusterName']}") and f":{region}:" in arn
    if "LoadBalancer" in dims:
        behind = _behind_load_balancer(recording, region, dims)
        # elb.unused_load_balancer judges the load balancer itself on its whole series.
        own = f":loadbalancer/{dims['LoadBalancer']}"
        return lambda arn: arn.endswith(own) or behind(arn)
    if "NatGatewayId" in dims:
        return _routed_to_nat(recording, dims["NatGatewayId"])
    raise LookupError(f"no subjects known for {json.dumps(metric)}")


def _routed_to_nat(recording: Recording, nat_id: str) -> Callable[[str], bool]:
    """The NAT gateway, and the subnets whose route tables send traffic to it (their
    verdicts price its bytes)."""
    subnets = {f":subnet/{a['SubnetId']}"
               for table in _bodies(recording, "ec2", "DescribeRouteTables", "RouteTables")
               if any(r.get("NatGatewayId") == nat_id for r in table.get("Routes", []))
               for a in table.get("Associations", []) if a.get("SubnetId")}
    return lambda arn: arn.endswith(f":natgateway/{nat_id}") or any(
        arn.endswith(subnet) for subnet in subnets)


def _behind_load_balancer(recording: Recording, region: str, dims: Mapping[str, str]
                          ) -> Callable[[str], bool]:
    """Services and functions behind the series' target group, or behind any target group of
    its load balancer."""
    groups = {g["TargetGroupArn"] for g in _bodies(recording, "elbv2", "DescribeTargetGroups",
                                                   "TargetGroups")
              if (g["TargetGroupArn"].endswith(dims["TargetGroup"]) if "TargetGroup" in dims
                  else any(lb.endswith(dims["LoadBalancer"])
                           for lb in g.get("LoadBalancerArns", [])))}
    behind = {s["serviceArn"] for s in _bodies(recording, "ecs", "DescribeServices", "services")
              if {lb.get("targetGroupArn") for lb in s.get("loadBalancers", [])} & groups}
    for call in recording.of(Operation("elbv2", "DescribeTargetHealth")):
        if call.params["TargetGroupArn"] in groups:
            behind |= {_function_arn(recording, region, str(d["Target"]["Id"]))
                       for d in call.body.get("TargetHealthDescriptions", [])}
    return lambda arn: arn in groups or any(_of_function(b)(arn) for b in behind)


# --------------------------------------------------------------------------- injecting


@dataclass
class _Injector:
    """Answers the case's failure in place of the recorded answer."""

    case: Case
    recording: Recording
    target: Call | None = None
    series: tuple[str, Mapping[str, Any]] | None = None
    failed_queries: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    fired: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def failure(self) -> Failure:
        op = self.case.operation
        if self.case.failure == "not-found":
            return NOT_FOUND[op]
        return denied(op) if self.case.failure == "denied" else throttled(op)

    def __call__(self, asked: Asked, body: Mapping[str, Any]) -> Answer | None:
        if asked.operation != self.case.operation:
            return None
        scope = self.case.scope
        if scope == "one series":
            return self._failed_series(asked, body)
        if scope == "first resource" and self.target is not None and asked.key != self.target.key:
            return None
        with self._lock:
            if scope == "first batch":
                if self.fired or asked.region != self.batch_region:
                    return None
                self.failed_queries = [(asked.region, q)
                                       for q in asked.params["MetricDataQueries"]]
            self.fired += 1
        return self.failure().answer()

    @property
    def batch_region(self) -> str:
        """The region with the most series: the one split into several batches."""
        calls = self.recording.of(GET_METRIC_DATA)
        return max(calls, key=lambda c: len(c.params["MetricDataQueries"])).region

    def _failed_series(self, asked: Asked, body: Mapping[str, Any]) -> Answer | None:
        assert self.series is not None
        region, query = self.series
        if asked.region != region:
            return None
        wanted = canonical(query["MetricStat"])
        ids = {q["Id"] for q in asked.params["MetricDataQueries"]
               if canonical(q["MetricStat"]) == wanted}
        if not ids:
            return None
        results = [
            {**r, "StatusCode": self.case.failure, "Timestamps": [], "Values": [],
             "Messages": [{"Code": self.case.failure,
                           "Value": f"{self.case.failure} for this metric"}]}
            if r["Id"] in ids else r
            for r in fresh(body["MetricDataResults"])]
        with self._lock:
            self.fired += 1
        return answer({**body, "MetricDataResults": results})


def _first_call(recording: Recording, operation: Operation) -> Call:
    """The first of the operation's calls, in an order that does not depend on threads: a
    per-resource call's parameters name its resource, so this is its first resource."""
    return min(recording.of(operation), key=lambda c: (c.region, canonical(c.params)))


def _read_series(recording: Recording, clean: Report) -> tuple[str, Mapping[str, Any]]:
    """A series whose subject has a failing verdict of a metric check in the clean run, so its
    loss has something to hide."""
    failing = {f.resource_arn for f in clean.findings
               if f.status == "fail" and f.check_id in METRIC_CHECKS}
    candidates = sorted(
        ((call.region, canonical(q["MetricStat"]), q)
         for call in recording.of(GET_METRIC_DATA) for q in call.params["MetricDataQueries"]),
        key=lambda c: (c[0], c[1]))
    for region, _, query in candidates:
        reads = _series_subjects(recording, region, query)
        if any(reads(arn) for arn in failing):
            return region, query
    raise LookupError("no series of the recording backs a failing metric verdict")


# --------------------------------------------------------------------------- comparing

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Change:
    check_id: str
    arn: str
    sub_key: str
    kind: str
    account: str
    region: str
    before: str | None
    after: str | None

    @property
    def what(self) -> str:
        if self.after is None:
            return "dropped"
        return f"{self.before or 'clean'}→{self.after}"


def _verdicts(report: Report) -> dict[Key, Finding]:
    return {(f.check_id, f.resource_arn, f.sub_key): f for f in report.findings}


@dataclass(frozen=True)
class _Priced:
    kind: str
    current: Any
    options: tuple[tuple[Any, ...], ...]


def _workloads(report: Report) -> dict[str, _Priced]:
    """Each workload's dollars: what it costs now, and each option's price and feasibility
    (the arithmetic's wording may change with them; the figures are what a user reads)."""
    return {w.arn: _Priced(
        _WORKLOAD_KINDS.get(w.platform, "workload"), w.current_monthly_usd,
        tuple((o.platform, o.monthly_usd, o.feasible) for o in w.options))
        for w in report.workloads}


@dataclass(frozen=True)
class Repriced:
    arn: str
    kind: str
    now: bool
    """What it costs now changed (or the workload appeared or went); else only the prices
    of its options did."""


def changes(clean: Report, report: Report) -> list[Change]:
    before, after = _verdicts(clean), _verdicts(report)
    found = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if (old and old.status) != (new and new.status):
            finding = new or old
            assert finding is not None
            found.append(Change(key[0], key[1], key[2], finding.resource_type, finding.account,
                                finding.region, old.status if old else None,
                                new.status if new else None))
    return found


def workload_changes(clean: Report, report: Report) -> list[Repriced]:
    """Every workload priced differently, added or gone."""
    before, after = _workloads(clean), _workloads(report)
    found = []
    for arn in sorted(before.keys() | after.keys()):
        old, new = before.get(arn), after.get(arn)
        if old != new:
            priced = old or new
            assert priced is not None
            now = old is None or new is None or old.current != new.current
            found.append(Repriced(arn, priced.kind, now))
    return found


# --------------------------------------------------------------------------- judging


@dataclass
class Outcome:
    case: Case
    skipped: str = ""
    stopped: str = ""
    """Why the scan stopped as designed (no account could be identified: exit 3)."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    """`errors` entries under the failed operation."""
    others: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    workloads: list[Repriced] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def affected(self) -> set[str]:
        return {c for e in self.entries for c in e.get("checks_affected", [])}

    def count(self, what: str) -> int:
        return sum(1 for c in self.changes if c.what == what)

    def explain(self) -> str:
        lines = [f"{self.case}: {len(self.violations)} oracle violations"]
        lines += [f"  - {v}" for v in self.violations]
        lines.append(f"  errors under {self.case.operation.name}: {_entries(self.entries)}")
        if self.others:
            lines.append("  other errors: " + ", ".join(
                sorted({f"{e['service']}:{e['operation']} {e['code']}" for e in self.others})))
        return "\n".join(lines)


def _summary(items: list[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return f"{shown} and {len(items) - limit} more" if len(items) > limit else shown


def scope_wide(arn: str, kind: str) -> bool:
    """The engine's stand-in for every `kind` of an account and region that could not be
    listed (`arn:aws:ecs:us-east-1:123456789012:ecs-service/*`). A stand-in for the children
    of one resource (`.../addon/platform/*`) is not scope-wide."""
    return arn.endswith(f":{kind}/*")


def names(unknown: str, arn: str) -> bool:
    """`unknown` names the resource `arn`: the same ARN, the ARN without the unique suffix
    only a Describe reveals (`addon/platform/vpc-cni` for `.../vpc-cni/1c2d...`), or a
    stand-in for what is under a prefix (`addon/platform/*`, `function:checkout-api:*`)."""
    if unknown.endswith("*"):
        return arn.startswith(unknown[:-1])
    return arn == unknown or arn.startswith((f"{unknown}/", f"{unknown}:"))


def _listed(arn: str, resources: set[str]) -> bool:
    return any(names(named, arn) for named in resources)


def _mentions(finding: Finding | None, arns: Callable[[str], bool]) -> bool:
    """The finding's evidence names one of these resources."""

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, Mapping):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from strings(item)

    return finding is not None and any(arns(text) for text in strings(finding.evidence))


def _covered(change: Change, report: Report) -> bool:
    """A `fail` that disappeared is still accounted for by an `unknown` of its check that
    names its resource (under any sub-key), or, when its resource could not be listed, by the
    check's scope-wide `unknown` (for account-wide resources, one in any of the account's
    regions)."""
    return any(
        f.check_id == change.check_id and f.status == "unknown" and (
            names(f.resource_arn, change.arn)
            or (scope_wide(f.resource_arn, change.kind) and f.account == change.account
                and change.region in (f.region, GLOBAL_REGION)))
        for f in report.findings)


def judge(outcome: Outcome, blast: Blast, report: Report, clean: Report) -> None:
    case = outcome.case
    before = _verdicts(clean)

    def gone(arn: str) -> bool:
        """A resource deleted since it was listed takes with it its verdicts and those it
        alone gave rise to (a role no running workload uses any more is no workload role)."""
        return case.failure == "not-found" and (blast.owns(arn) or blast.hangs(arn))

    def went_with(change: Change) -> bool:
        """A verdict that named a deleted resource in its evidence, gone with it."""
        old = before.get((change.check_id, change.arn, change.sub_key))
        return case.failure == "not-found" and _mentions(old, blast.owns)

    def account_wide(change: Change) -> bool:
        return (change.region == GLOBAL_REGION and change.after == "unknown"
                and change.check_id in outcome.affected)

    violations = outcome.violations
    if outcome.misses:
        violations.append(f"the replay could not answer {_summary(outcome.misses)}")
    changed = outcome.changes
    if not outcome.entries and case.failure != "not-found" and not (
            case.operation in FALLBACK_OPERATIONS and not changed):
        seen = sorted({f"{e['operation']} {e['code']}" for e in outcome.others})
        violations.append(f"no errors entry under {case.operation.name}"
                          + (f" (errors name: {', '.join(seen)})" if seen else ""))

    rest = [c for c in changed
            if not (c.after is None and (gone(c.arn) or went_with(c)))]
    rest = [c for c in rest if not account_wide(c)]
    # A deleted resource changes what other workloads could join (the share of an EKS
    # control plane an option would pay), not what they cost now.
    workloads = [(w.arn, w.kind) for w in outcome.workloads
                 if not gone(w.arn) and (w.now or case.failure != "not-found")]
    to_fail = [c for c in rest if c.after == "fail"]
    if to_fail:
        violations.append(f"{len(to_fail)} verdicts became fail: "
                          + _summary([f"{c.check_id} {c.arn}" for c in to_fail]))
    lost = [c for c in rest if c.after is None and not _covered(c, report)]
    if lost:
        violations.append(f"{len(lost)} fail verdicts disappeared: "
                          + _summary([f"{c.check_id} {c.arn}" for c in lost]))
    outside = sorted({c.check_id for c in rest} - outcome.affected)
    if outside:
        violations.append(f"verdicts of {len(outside)} checks changed that the errors entry does "
                          f"not list in checks_affected: {_summary(outside)}")
    if workloads and COST_CHECK not in outcome.affected:
        violations.append(f"{len(workloads)} workloads changed but {COST_CHECK} is not in "
                          f"checks_affected: {_summary([arn for arn, _ in workloads])}")
    if case.scope == "every call":
        return
    # What the failure left unknown or re-priced (a fail that disappeared is judged above).
    touched = [(c.arn, c.kind) for c in rest if c.after is not None] + workloads
    if blast.reads is None:
        named = {arn for entry in outcome.entries for arn in entry.get("resources", [])}
        _judge_one_resource(outcome, blast, [(arn, kind) for arn, kind in touched
                                             if not _listed(arn, named)])
    else:
        beyond = sorted({arn for arn, _ in touched if not blast.reads(arn)})
        if beyond:
            violations.append(f"{len(beyond)} resources changed that do not read the failed "
                              f"series: {_summary(beyond)}")
    listed = [e["resources"] for e in outcome.entries if "resources" in e]
    if case.scope == "first resource" and outcome.entries and not listed:
        violations.append("the errors entry lists no resources: the whole dataset")
    resources = {arn for entry in listed for arn in entry}
    beyond = sorted({arn for arn, _ in touched if not _listed(arn, resources)})
    if resources and beyond:
        violations.append(f"{len(beyond)} changed resources are not in the errors entry's "
                          f"resources: {_summary(beyond)}")


def _judge_one_resource(outcome: Outcome, blast: Blast, touched: list[tuple[str, str]]
                        ) -> None:
    wide = sorted({arn for arn, kind in touched if scope_wide(arn, kind)})
    if wide:
        outcome.violations.append(f"the whole dataset went unknown: {_summary(wide)}")
    siblings = sorted({arn for arn, kind in touched if kind in blast.kinds
                       and not scope_wide(arn, kind) and not blast.owns(arn)
                       and not blast.hangs(arn)})
    if siblings:
        outcome.violations.append(f"{len(siblings)} other resources of the same kinds "
                                  f"changed: {_summary(siblings)}")


# --------------------------------------------------------------------------- running


@contextmanager
def _batches(case: Case) -> Iterator[None]:
    if case.scope != "first batch":
        yield
        return
    with mock.patch.object(cloudwatch, "MAX_QUERIES_PER_CALL", BATCH):
        yield


def run(case: Case, recording: Recording, clean: Report) -> Outcome:
    outcome = Outcome(case)
    if case.operation not in recording.operations:
        outcome.skipped = "the demo scan never calls it"
        return outcome
    inject = _Injector(case, recording)
    blast = Blast()
    if case.scope == "first resource":
        inject.target = _first_call(recording, case.operation)
        blast = blast_of(recording, inject.target)
    elif case.scope == "one series":
        inject.series = _read_series(recording, clean)
        blast = Blast(reads=_series_subjects(recording, *inject.series))
    replay = Replay(recording, inject)
    try:
        with _batches(case):
            report = replay.scan()
    except NothingCollected as exc:
        if case.operation == IDENTITY:
            outcome.stopped = "no account to scan: NothingCollected (exit 3)"
        else:
            outcome.violations.append(f"the scan collected nothing: {exc}")
        return outcome
    except Exception as exc:
        outcome.violations.append(f"the scan crashed: {type(exc).__name__}: {exc}")
        return outcome
    if case.scope == "first batch":
        subjects = [_series_subjects(recording, region, q) for region, q in inject.failed_queries]
        blast = Blast(reads=_any(*subjects))
    errors = to_dict(report)["errors"]
    named = (case.operation.service, case.operation.name)
    outcome.entries = [e for e in errors if (e["service"], e["operation"]) == named]
    outcome.others = [e for e in errors if (e["service"], e["operation"]) != named]
    outcome.changes = changes(clean, report)
    outcome.workloads = workload_changes(clean, report)
    outcome.misses = replay.misses
    if not inject.fired:
        outcome.violations.append("the failure was never injected: the replay did not reach it")
    judge(outcome, blast, report, clean)
    return outcome


# --------------------------------------------------------------------------- the table


def _entries(entries: list[dict[str, Any]]) -> str:
    """`AccessDenied x2 → 3 checks`: one per region is the same entry twice."""
    counted: dict[str, int] = {}
    for e in entries:
        text = f"{e['code']}{{}} → {len(e['checks_affected'])} checks"
        counted[text] = counted.get(text, 0) + 1
    return "; ".join(t.format(f" x{n}" if n > 1 else "") for t, n in counted.items()) or "none"


def table(outcomes: list[Outcome]) -> str:
    head = ("| operation | failure | errors entry | checks changed | fail→unknown "
            "| clean→unknown | dropped | workloads | oracle |")
    lines = [head, "|" + "---|" * 9]
    for o in outcomes:
        if o.skipped or o.stopped:
            lines.append(f"| {o.case.operation} | {o.case.failure} ({o.case.scope}) | "
                         f"{o.skipped or o.stopped} | | | | | | {'skip' if o.skipped else 'ok'} |")
            continue
        entry = _entries(o.entries)
        if not o.entries and o.others:
            entry += " (named: " + ", ".join(sorted({e["operation"] for e in o.others})) + ")"
        checks = sorted({c.check_id for c in o.changes})
        verdict = "ok" if not o.violations else "FAIL: " + "; ".join(o.violations)
        lines.append(
            f"| {o.case.operation} | {o.case.failure} ({o.case.scope}) | {entry} | "
            f"{len(checks)} | {o.count('fail→unknown')} | {o.count('clean→unknown')} | "
            f"{o.count('dropped')} | {len(o.workloads)} | {verdict.replace('|', '/')} |")
    return "\n".join(lines)


def main() -> None:
    from tests.fidelity.recording import record_demo
    from tests.shared_demo import SharedDemo, seeding_time

    recording = record_demo(SharedDemo.seed(seeding_time()))
    clean = Replay(recording).scan()
    outcomes = [run(case, recording, clean) for case in cases()]
    print(table(outcomes))
    failing = [o for o in outcomes if o.violations]
    print(f"\n{len(failing)} of {len(outcomes)} cases break the oracle.")


if __name__ == "__main__":
    main()
