"""Parsed AWS responses generated from botocore's own service models.

`page_body(operation, rng)` builds one page of an operation's parsed response by walking its
output shape (`service-2.json`): structures keep their `required` members and drop each
optional one at random (identifiers, which AWS always sends, only rarely), lists are often
empty, strings take the model's enum values (and now and then one AWS added later), numbers
respect the model's min/max, timestamps are aware datetimes. Strings are realistic where the
member's name says what they hold (an ARN, a VPC ID, a name drawn from a small pool so that
resources refer to each other) and garbage otherwise or at random.

`accounts(operations)` is the hypothesis strategy for a whole account: for each operation one
to three answers, each one to three pages long when `paginators-1.json` paginates the
operation. `GeneratedAccount` serves it through a botocore `before-call` hook, with real page
tokens: a listing continues until its last page, whose answer carries no token, so no
paginator loops forever. Which answer a call gets depends only on its parameters, never on
the order threads call in, so an example replays identically. Two answers also follow what
was asked, as AWS's do: `GetMetricData` answers the query IDs it was sent, and
`DescribeRegions` lists the region it was called in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from random import Random
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape
from hypothesis import strategies as st

from tests.fidelity.hooks import Answer, answer, call_params, canonical
from tests.fidelity.operations import Operation, botocore_session, service_model

Body = dict[str, Any]

ACCOUNT = "123456789012"
REGIONS = ("us-east-1", "eu-west-1")
NAMES = ("prod", "api", "worker", "default")
"""A small pool, so that a service's subnet, a function's role or a node group's cluster is
often one another response lists."""
HEX = ("0a1b2c3d", "4e5f6a7b", "8c9d0e1f")
MAX_DEPTH = 6
"""Below this, lists and maps stay empty: the shapes nest deeply (a task definition's
containers' Linux parameters' devices ...) and the scan reads only the upper levels."""
OPTIONAL_KEPT = (0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
"""The chance an optional member is present, by depth: the top levels, which the scan reads,
are fuller."""
IDENTITY_KEPT = 0.97
"""The chance an optional identifier (`...Arn`, `...Id`, `...Name`, a role) is present: the
models mark nearly every output member optional, but AWS leaves out an ARN only by accident,
and an account whose every listing lacks one would never reach the calls behind it."""
_IDENTITY = re.compile(r"(Arn|ARN|Id|Name|Identifier|Role)$")
LIST_SIZES = (0, 1, 1, 2, 3)
"""Lengths of generated lists: mostly short, since every listed resource costs the scan calls."""
GARBAGE_RATE = 0.05
"""The share of free-text members (names, versions, sizes, enums) that are garbage."""
EPOCH_FROM = datetime(2015, 1, 1, tzinfo=UTC).timestamp()
EPOCH_TO = datetime(2030, 1, 1, tzinfo=UTC).timestamp()


_GARBAGE_ALPHABET = "aZ09 -_:/.*%{}[]\"'<>&\\\u00e9\u4e2d\U0001f600\x00\t\n"


def _garbage(rng: Random) -> str:
    """Text no AWS API would send in that member (AWS also ships values no model foresaw)."""
    return "".join(rng.choice(_GARBAGE_ALPHABET) for _ in range(rng.randint(0, 12)))


def _arn(rng: Random, service: str, kind: str) -> str:
    name = rng.choice(NAMES)
    if kind.endswith("role") or service == "iam":
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"
    region = rng.choice(REGIONS)
    if kind == "function" or (service == "lambda" and kind in ("", "resource")):
        qualifier = rng.choice(("", ":live", ":1"))
        return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}{qualifier}"
    suffix = rng.choice(("", *HEX))
    return (f"arn:aws:{service}:{region}:{ACCOUNT}:{kind or 'resource'}/{name}"
            + (f"/{suffix}" if suffix else ""))


def _arn_kind(member: str) -> str:
    """`executionRoleArn` -> `execution-role`."""
    stem = re.sub(r"(?i)arns?$", "", member)
    return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()


_ARN_MEMBERS: Mapping[str, tuple[str, str]] = {
    "taskdefinition": ("ecs", "task-definition"),
    "role": ("iam", "role"),
    "noderole": ("iam", "role"),
    # A Lambda target group's target is the function.
    "targetdescription.id": ("lambda", "function"),
    # The scan lists the tags of Lambda functions only (ResourceTypeFilters).
    "resourcetagmapping.resourcearn": ("lambda", "function"),
    # What leads to the on-failure destinations: topics and rules invoking functions.
    "subscription.endpoint": ("lambda", "function"),
    "target.arn": ("lambda", "function"),
}
"""Members that hold an ARN though their name does not say so: (service, resource kind)."""


_ID_PREFIXES = {
    "vpc": "vpc-", "subnet": "subnet-", "group": "sg-", "securitygroup": "sg-",
    "routetable": "rtb-", "natgateway": "nat-", "internetgateway": "igw-",
    "vpcendpoint": "vpce-", "instance": "i-", "transitgateway": "tgw-",
    "vpcpeeringconnection": "pcx-", "networkinterface": "eni-",
    "egressonlyinternetgateway": "eigw-", "prefixlist": "pl-",
}


def _resource_id(rng: Random, member: str) -> str:
    stem = re.sub(r"(?i)ids?$", "", member).lower()
    if stem == "account" or stem.endswith("owner"):
        return rng.choice((ACCOUNT, "210987654321"))
    if stem == "gateway":
        # A route's GatewayId holds internet gateways, virtual private gateways, gateway
        # endpoints and "local".
        return rng.choice(("local", *(f"{p}{rng.choice(HEX)}" for p in ("igw-", "vgw-", "vpce-"))))
    return _ID_PREFIXES.get(stem.removeprefix("default"), "") + rng.choice(HEX)


_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "iam:PassRole"], "Resource": "*"}]})
_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com",
                                                  "ecs-tasks.amazonaws.com"]},
     "Action": "sts:AssumeRole"}]})

_POLICY_ARNS = ("arn:aws:iam::aws:policy/AdministratorAccess",
                "arn:aws:iam::aws:policy/AmazonS3FullAccess", f"arn:aws:iam::{ACCOUNT}:policy/app")

_BY_MEMBER: Mapping[str, tuple[str, ...]] = {
    # ECS task sizes: units, or the "1 vCPU" / "0.5 GB" forms AWS also accepts.
    "cpu": ("256", "512", "1024", "4096", "1 vCPU", "0.5 vcpu", ""),
    "memory": ("512", "2048", "30720", "2 GB", "0.5 GB"),
    "version": ("1.23", "1.29", "1.31", "1.35", "1.99"),
    "kubernetesversion": ("1.29", "1.35"),
    "clusterversion": ("1.29", "1.35"),
    "addonversion": ("v1.11.1-eksbuild.1", "v1.18.0-eksbuild.2"),
    "policydocument": (_POLICY, "%7B%7D"),
    "policyarn": _POLICY_ARNS,
    "managedpolicydetail.arn": _POLICY_ARNS,
    "document": (_POLICY, "{}"),
    "assumerolepolicydocument": (_TRUST, "%7B%22Statement%22%3A%5B%5D%7D"),
    "destinationcidrblock": ("0.0.0.0/0", "10.0.0.0/16"),
    "cidrip": ("0.0.0.0/0", "10.0.0.0/8"),
    "cidrblock": ("10.0.0.0/16", "10.0.1.0/24"),
    "regionname": REGIONS,
    "availabilityzone": ("us-east-1a", "us-east-1b", "eu-west-1a"),
    "servicename": ("com.amazonaws.us-east-1.ecr.dkr", "com.amazonaws.us-east-1.s3", *NAMES),
    "namespace": ("AWS/Lambda", "AWS/ECS", "kube-system", "default"),
    "metricname": ("ProvisionedConcurrencyUtilization", "CPUUtilization"),
    "name": ("max_connections", *NAMES),
    # The dimensions Lambda publishes provisioned-concurrency utilisation under.
    "dimension.name": ("FunctionName", "Resource"),
    "value": ("enabled", "100", *NAMES),
    "parametervalue": ("100", "{DBInstanceClassMemory/9531392}", "x"),
    "parametername": ("max_connections", "work_mem"),
    "dbparametergroupname": ("custom-params", "default.postgres16"),
    "image": ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", "nginx:1.27",
              "public.ecr.aws/x/y@sha256:00"),
    "lastmodified": ("2024-05-01T10:00:00.000+0000", "2024-05-01", ""),
    "instancetype": ("m5.large", "t3.medium", "x9.huge"),
    "dbinstanceclass": ("db.t3.micro", "db.r6g.large", "db.x.unknown"),
    "logdriver": ("awslogs", "splunk"),
    # A plan applies in one region or (no member) in all; only one in a scanned region is read
    # further (its rates, the coverage).
    "savingsplan.region": REGIONS,
    "savingsplan.commitment": ("0.5", "12.25"),
    # What leads to the recommendations calls: an enrolled account with Fargate services.
    "getenrollmentstatusresponse.status": ("Active", "Active", "Active", "Inactive", "Pending"),
    "launchtype": ("FARGATE", "FARGATE", "EC2", "EXTERNAL"),
    "subscription.protocol": ("lambda", "lambda", "sqs", "email"),
    # What leads to the Spot price history: node groups on Spot.
    "nodegroup.capacitytype": ("SPOT", "SPOT", "SPOT", "ON_DEMAND", "CAPACITY_BLOCK"),
    "instance.instancelifecycle": ("spot", "spot", "scheduled"),
}
"""Realistic values for members whose name says what they hold: lower-cased `shape.member`
or, for any shape, `member`."""

_NAMED = ("name", "names", "family", "identifier", "clusters")


def _string(rng: Random, shape: StringShape, member: str, parent: str, service: str) -> str:
    """ARNs and account IDs are always well formed (AWS's are; a report built on others
    could not follow its own schema); any other text is garbage now and then."""
    key = member.lower()
    qualified = f"{parent}.{member}".lower()
    if qualified in _ARN_MEMBERS or key in _ARN_MEMBERS:
        return _arn(rng, *_ARN_MEMBERS.get(qualified, _ARN_MEMBERS.get(key, ("", ""))))
    pool = _BY_MEMBER.get(qualified) or _BY_MEMBER.get(key)
    if key.endswith(("arn", "arns")):
        return rng.choice(pool) if pool else _arn(rng, service, _arn_kind(member))
    if key in ("account", "accountid", "ownerid"):
        return ACCOUNT
    if rng.random() < GARBAGE_RATE:
        return _garbage(rng)
    if shape.enum:
        # AWS adds enum values after a client ships; the scan must take one it never saw.
        return "NEW_IN_2027" if rng.random() < GARBAGE_RATE else rng.choice(pool or shape.enum)
    if pool:
        return rng.choice(pool)
    if key.endswith(("id", "ids")):
        return _resource_id(rng, member)
    if key.endswith(_NAMED):
        return rng.choice(NAMES)
    return _garbage(rng)


@dataclass(frozen=True)
class _Walk:
    """One response body, from the output shape, with `rng` making every choice."""

    service: str
    rng: Random

    def value(self, shape: Shape, member: str, parent: str, depth: int) -> Any:
        """`member` is the name the value is under in its `parent` structure (a list's items
        and a map's values share their list's or map's)."""
        rng = self.rng
        kind = shape.type_name
        if isinstance(shape, StructureShape):
            return self.structure(shape, depth)
        if isinstance(shape, ListShape):
            size = 0 if depth >= MAX_DEPTH else rng.choice(LIST_SIZES)
            return [self.value(shape.member, member, parent, depth + 1) for _ in range(size)]
        if isinstance(shape, MapShape):
            size = 0 if depth >= MAX_DEPTH else rng.choice(LIST_SIZES)
            return {self.value(shape.key, "key", parent, depth + 1):
                    self.value(shape.value, member, parent, depth + 1) for _ in range(size)}
        if isinstance(shape, StringShape):
            return _string(rng, shape, member, parent, self.service)
        if kind in ("integer", "long"):
            low, high = shape.metadata.get("min"), shape.metadata.get("max")
            return rng.randint(-1 if low is None else int(low),
                               10**6 if high is None else int(high))
        if kind in ("float", "double"):
            return rng.choice((0.0, rng.uniform(0, 100), rng.uniform(0, 1e7)))
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "timestamp":
            return datetime.fromtimestamp(rng.uniform(EPOCH_FROM, EPOCH_TO), UTC)
        if kind == "blob":
            return rng.randbytes(rng.randint(0, 8))
        raise NotImplementedError(f"{self.service}: shape {shape.name} of type {kind}")

    def structure(self, shape: StructureShape, depth: int, drop: frozenset[str] = frozenset()
                  ) -> dict[str, Any]:
        if shape.metadata.get("document"):
            return {_garbage(self.rng): _garbage(self.rng)}
        required = set(shape.required_members)
        keep = OPTIONAL_KEPT[min(depth, len(OPTIONAL_KEPT) - 1)]
        return {name: self.value(member, name, shape.name, depth + 1)
                for name, member in shape.members.items()
                if name not in drop and (
                    name in required
                    or self.rng.random() < (IDENTITY_KEPT if _IDENTITY.search(name) else keep))}


@dataclass(frozen=True)
class Paging:
    """One operation's entry in `paginators-1.json`."""

    input_tokens: tuple[str, ...]
    output_tokens: tuple[str, ...]
    more_results: str | None


def _names(value: str | list[str]) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        # Every paginator the scan uses names plain top-level members; a JMESPath token
        # (`NextMarker || Marker`) would need reading here.
        if not re.fullmatch(r"\w+", name):
            raise NotImplementedError(f"token expression {name!r}")
    return names


@cache
def paging(operation: Operation) -> Paging | None:
    model = botocore_session().get_paginator_model(operation.service)
    try:
        config = model.get_paginator(operation.name)
    except ValueError:
        return _token_pages(operation)
    return Paging(_names(config["input_token"]), _names(config["output_token"]),
                  config.get("more_results"))


def _token_pages(operation: Operation) -> Paging | None:
    """Pages botocore ships no paginator for (Savings Plans, Compute Optimizer's ECS calls),
    which the scan follows itself: a `nextToken` in and out."""
    model = service_model(operation.service).operation_model(operation.name)
    if "nextToken" in model.output_shape.members and model.input_shape is not None \
            and "nextToken" in model.input_shape.members:
        return Paging(("nextToken",), ("nextToken",), None)
    return None


def page_body(operation: Operation, rng: Random) -> Body:
    """One page of the operation's parsed response, without its page token."""
    shape = service_model(operation.service).operation_model(operation.name).output_shape
    pages = paging(operation)
    drop = frozenset((*pages.output_tokens, *filter(None, [pages.more_results]))
                     if pages else ())
    return _Walk(operation.service, rng).structure(shape, 0, drop)


Answers = tuple[tuple[int, ...], ...]
"""An operation's answers, each a sequence of pages, each page the seed of its body."""


def answers(operation: Operation) -> st.SearchStrategy[Answers]:
    """One to three answers, each of one to three pages when the operation is paginated.

    Hypothesis draws the counts and one seed per page; the seed drives the shape walk when the
    scan asks for that page. (Drawing every member through hypothesis would take far more than
    the entropy it allows one example: a whole account is tens of thousands of choices, most
    of them for pages the scan never reaches.)"""
    pages = st.lists(st.integers(0, 2**64 - 1), min_size=1,
                     max_size=3 if paging(operation) else 1).map(tuple)
    return st.lists(pages, min_size=1, max_size=3).map(tuple)


def accounts(operations: tuple[Operation, ...]) -> st.SearchStrategy[GeneratedAccount]:
    return st.fixed_dictionaries({op: answers(op) for op in operations}).map(
        GeneratedAccount)


def _token(answer_index: int, page: int) -> str:
    # Opaque to the client, as AWS's are; it carries where the listing is.
    return base64.urlsafe_b64encode(json.dumps([answer_index, page]).encode()).decode()


def _untoken(token: str) -> tuple[int, int]:
    answer_index, page = json.loads(base64.urlsafe_b64decode(token.encode()))
    return int(answer_index), int(page)


def _stable_index(params: Mapping[str, Any], count: int) -> int:
    digest = hashlib.sha256(canonical(params).encode()).digest()
    return int.from_bytes(digest[:4], "big") % count


Fault = Callable[[Operation, Body], Answer | None]
"""Given a call and the body generated for it, what to answer instead, or None."""


@dataclass
class GeneratedAccount:
    """A generated answer for every call, through `hook` (register on `before-call.*.*`)."""

    answers: Mapping[Operation, Answers]
    fault: Fault | None = None
    called: set[Operation] = field(default_factory=set)
    faulted: set[Operation] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hook(self, model: Any, context: Mapping[str, Any], **_: Any) -> Answer:
        operation = Operation(model.service_model.service_name, model.name)
        params = call_params(context)
        body = self.body(operation, params)
        if operation == Operation("ec2", "DescribeRegions"):
            body = _listing_own_region(body, context.get("client_region", ""))
        injected = self.fault(operation, body) if self.fault else None
        with self._lock:
            self.called.add(operation)
            if injected is not None:
                self.faulted.add(operation)
        return injected or answer(body)

    def body(self, operation: Operation, params: Mapping[str, Any]) -> Body:
        answers = self.answers[operation]
        pages = paging(operation)
        token = next((params[name] for name in pages.input_tokens if params.get(name)),
                     None) if pages else None
        index, page = (_untoken(token) if token
                       else (_stable_index(params, len(answers)), 0))
        body = page_body(operation, Random(answers[index][page]))
        if pages:
            last = page + 1 == len(answers[index])
            if not last:
                for name in pages.output_tokens:
                    body[name] = _token(index, page + 1)
            if pages.more_results:
                body[pages.more_results] = not last
        if operation == Operation("cloudwatch", "GetMetricData"):
            body = _answering_queries(body, params)
        return body


def _listing_own_region(body: Body, region: str) -> Body:
    """A region that answers DescribeRegions is enabled; the rest of the list is as
    generated."""
    regions = body.get("Regions", [])
    if region not in [r.get("RegionName") for r in regions]:
        body["Regions"] = [*regions, {"RegionName": region, "OptInStatus": "opt-in-not-required"}]
    return body


def _answering_queries(body: Body, params: Mapping[str, Any]) -> Body:
    """CloudWatch answers only the query IDs asked, each once; the rest of the result is as
    generated."""
    asked = [q.get("Id") for q in params.get("MetricDataQueries", [])]
    results = body.get("MetricDataResults", [])
    body["MetricDataResults"] = [{**result, "Id": query_id}
                                 for result, query_id in zip(results, asked, strict=False)]
    return body


MALFORMED_TEXT = "<html><body>503 Service Unavailable</body></html>"


def malformed(operation: Operation, body: Body) -> Body:
    """`body` with every member of the operation's output (page tokens aside) of the wrong
    type: what botocore's lenient parsers hand on from a body that parses but is not the API's
    (a proxy's page, a truncated or reshaped document): text where a list or an object
    belongs, objects where text does."""
    shape = service_model(operation.service).operation_model(operation.name).output_shape
    pages = paging(operation)
    tokens = {*pages.output_tokens, pages.more_results} if pages else set()
    return {**body, **{name: _wrong(member) for name, member in shape.members.items()
                       if name not in tokens}}


def _wrong(shape: Shape) -> Any:
    if isinstance(shape, ListShape):
        scalar_items = not isinstance(shape.member, StructureShape | ListShape | MapShape)
        return [{"unexpected": MALFORMED_TEXT}] if scalar_items else [MALFORMED_TEXT]
    if isinstance(shape, StringShape):
        return {"unexpected": MALFORMED_TEXT}
    # Text where an object, a map, a number, a flag or a time belongs.
    return MALFORMED_TEXT
