"""The real scan on accounts generated from botocore's own service models (SPEC section 9).

Each example is a whole account (`shapes.accounts`) answering every operation the scan calls,
pages and all, with one operation answering a failure instead: AccessDenied, a throttle that
outlasted the retries, an internal error, or a body of the wrong shape. The scan must finish
without an exception, its JSON report must validate against the shipped schema, and the
failure, when the scan reached that operation, must be in `errors` under it.

Hypothesis runs derandomized (the same accounts every run) without its example database.
Failing accounts are reported, not shrunk: an example is a few hundred seeded pages, and
shrinking one costs hundreds of scans. Every problem of every example is collected and
reported together, so one run shows all of them.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from auditor.config import Config
from auditor.errors import NothingCollected
from auditor.report.json_ import render, schema
from auditor.scan import Environment, scan
from tests.fidelity.hooks import FAILURES, PARAMS_HOOK, Answer, answer
from tests.fidelity.operations import (
    FALLBACK_OPERATIONS,
    SCAN_CONFIG,
    Operation,
    fuzz_examples,
    scan_operations,
)
from tests.fidelity.recording import harness_session
from tests.fidelity.shapes import Body, GeneratedAccount, accounts, malformed, paging

OPERATIONS = scan_operations()
KINDS = (*FAILURES, "malformed")
Fault = tuple[Operation, str]
SWEEP = tuple((operation, KINDS[(index + turn) % len(KINDS)])
              for turn in range(len(KINDS)) for index, operation in enumerate(OPERATIONS))
"""The failure each example injects, in turn: every operation once (kinds rotating), then
again with the next kind. Drawn by hypothesis instead, derandomized runs keep choosing the same
few; in turn, CI's budget fails each operation once and a nightly budget every pair."""
NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)
VALIDATOR = jsonschema.Draft202012Validator(schema())


def _injecting(target: Operation, kind: str) -> Callable[[Operation, Body], Answer | None]:
    def fault(operation: Operation, body: Body) -> Answer | None:
        if operation != target:
            return None
        if kind == "malformed":
            return answer(malformed(operation, body))
        return FAILURES[kind](operation).answer()

    return fault


@dataclasses.dataclass(frozen=True)
class Outcome:
    fault: Fault
    faulted: bool
    """The scan reached the failing operation."""
    called: frozenset[Operation]
    problems: tuple[str, ...]


def _run(account: GeneratedAccount, fault: Fault, explicit_regions: bool) -> Outcome:
    account.fault = _injecting(*fault)
    # Explicit regions make the scan ask which are enabled (ec2:DescribeRegions). One worker:
    # answers do not depend on call order, and here threads only add overhead (the
    # containment replays run the scan's default pool).
    config = dataclasses.replace(SCAN_CONFIG, max_workers=1,
                                 regions=("us-east-1",) if explicit_regions else ())
    session = harness_session()
    env = Environment(session=session, demo=True,
                      hooks=(PARAMS_HOOK, ("before-call.*.*", account.hook)))
    with session.lease():
        problems = tuple(_problems(config, env, account, fault))
    return Outcome(fault, bool(account.faulted), frozenset(account.called), problems)


def _problems(config: Config, env: Environment, account: GeneratedAccount, fault: Fault
              ) -> Iterator[str]:
    try:
        report = scan(config, env, NOW)
    except NothingCollected:
        return  # exit 3 by design: nothing could be read, so nothing can be judged
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        yield (f"{type(exc).__name__}: {exc} escaped the scan "
               f"(at {where.filename}:{where.lineno})")
        return
    try:
        document = json.loads(render(report))
    except (TypeError, ValueError) as exc:
        yield f"the report does not serialise: {exc}"
        return
    for error in VALIDATOR.iter_errors(document):
        path = list(error.absolute_path)
        # Which check or call wrote it is what a reader needs to find the cause.
        entry = document[path[0]][path[1]] if path[:1] in (["findings"], ["errors"]) else {}
        about = f" ({entry.get('check_id') or entry.get('operation')})" if entry else ""
        yield f"the report breaks the schema at {path}{about}: {error.message}"
    operation, kind = fault
    if not account.faulted or operation in FALLBACK_OPERATIONS:
        return
    if not any((e.service, e.operation) == (operation.service, operation.name)
               for e in report.errors):
        seen = sorted({f"{e.service}:{e.operation} {e.code}" for e in report.errors})
        yield f"the {kind} failure of {operation} is not in errors under it (errors: {seen})"


def _report(outcomes: list[Outcome]) -> str:
    """Each distinct problem once, with how many examples met it and their faults."""
    seen: dict[str, list[str]] = {}
    for outcome in outcomes:
        fault = f"{outcome.fault[0]} {outcome.fault[1]}"
        # One problem per finding or error would repeat it: their indices are dropped.
        for problem in dict.fromkeys(re.sub(r"(?<=\[)'(findings|errors|workloads)', \d+",
                                            r"'\1', N", p) for p in outcome.problems):
            seen.setdefault(problem, []).append(fault)
    wrong = sum(1 for o in outcomes if o.problems)
    lines = [f"{wrong} of {len(outcomes)} generated accounts went wrong:"]
    for problem, faults in sorted(seen.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {len(faults)}x {problem}  [{', '.join(sorted(set(faults))[:4])}]")
    return "\n".join(lines)


def test_generated_accounts(caplog: pytest.LogCaptureFixture) -> None:
    # Each example fails dozens of calls on purpose; their warnings would drown the report.
    caplog.set_level(logging.ERROR, logger="auditor")
    outcomes: list[Outcome] = []
    faults = itertools.cycle(SWEEP)

    @settings(max_examples=fuzz_examples(), derandomize=True, database=None, deadline=None,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow])
    @given(account=accounts(OPERATIONS), explicit_regions=st.booleans())
    def example(account: GeneratedAccount, explicit_regions: bool) -> None:
        outcomes.append(_run(account, next(faults), explicit_regions))

    example()
    wrong = [_report(outcomes)] if any(o.problems for o in outcomes) else []
    never = [str(op) for op in OPERATIONS if not any(op in o.called for o in outcomes)]
    if never:
        wrong.append(f"no generated account led the scan to call {never}")
    unreached = set(KINDS) - {o.fault[1] for o in outcomes if o.faulted}
    if unreached:
        wrong.append(f"these failures never reached their operation: {sorted(unreached)}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("operation", [op for op in OPERATIONS if paging(op)], ids=str)
def test_a_generated_listing_ends_on_its_last_page(operation: Operation) -> None:
    pages = paging(operation)
    assert pages is not None
    account = GeneratedAccount({operation: ((1, 2, 3),)})
    params: dict[str, object] = {}
    bodies = []
    for _ in range(3):
        bodies.append(account.body(operation, params))
        params = {name: bodies[-1].get(pages.output_tokens[0]) for name in pages.input_tokens}
    assert [bool(b.get(pages.output_tokens[0])) for b in bodies] == [True, True, False]
    if pages.more_results:
        assert [b[pages.more_results] for b in bodies] == [True, True, False]
