"""What a scan can call: the calls `auditor.datasets` declares (its IAM actions, or the
operations behind an action IAM names otherwise), as botocore operations.

The list is derived, never copied, so a dataset that gains an action is covered by both
harnesses the day it lands. `SCAN_CONFIG` makes the scan want every dataset: datasets no
built-in check reads (Lambda aliases and function URLs today) get a declarative check of the
kind a user could write, so their calls are made and judged too. `fuzz_examples()` is the
generated harness's budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session

from auditor.config import Config, CustomCheckSpec
from auditor.datasets import ACCOUNT_ACTIONS, DATASETS
from auditor.engine import Registry


@dataclass(frozen=True, order=True)
class Operation:
    service: str
    """botocore's service name (`elbv2`, not IAM's `elasticloadbalancing`)."""
    name: str

    def __str__(self) -> str:
        return f"{self.service}:{self.name}"


@cache
def botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(service: str) -> Any:
    return botocore_session().get_service_model(service)


def _operation(action: str, dataset_service: str = "") -> Operation:
    """IAM's action prefix is botocore's service name except where one prefix serves two
    APIs (`elasticloadbalancing` is both `elb` and `elbv2`): the dataset says which."""
    prefix, name = action.split(":")
    available = botocore_session().get_available_services()
    for candidate in (prefix, dataset_service):
        if candidate in available and name in service_model(candidate).operation_names:
            return Operation(candidate, name)
    raise LookupError(f"{action} is no botocore operation (dataset service "
                      f"{dataset_service or 'none'})")


@cache
def scan_operations() -> tuple[Operation, ...]:
    """Every operation the scan may call, sorted."""
    found = {_operation(action) for action in ACCOUNT_ACTIONS}
    found |= {_operation(action, dataset.service)
              for dataset in DATASETS.values() for action in dataset.calls}
    return tuple(sorted(found))


def _unread_datasets() -> list[str]:
    """Datasets of records no built-in check reads (a custom check makes the scan read them).
    Those with no records of their own are read under a flag the scan config sets."""
    read = {name for check in Registry.build(include_entry_points=False).checks
            for name in check.requires}
    return sorted(name for name in set(DATASETS) - read if DATASETS[name].resource_kinds)


def _reader(dataset: str) -> CustomCheckSpec:
    kind = DATASETS[dataset].resource_kinds[0]
    return CustomCheckSpec(
        id=f"fidelity.{kind.replace('-', '_')}", title=f"Every {kind}", severity="info",
        category="operations",
        resource_type=kind, condition="arn", message=f"a {kind} was read",
        remediation="None: the fidelity harness reads this dataset.",
        rationale="Makes the scan call what no built-in check reads.")


FALLBACK_OPERATIONS = frozenset({Operation("eks", "DescribeClusterVersions")})
"""Failures the scan covers from shipped data, recording them only when that data falls short
(`auditor/collect/eks.py`, `_with_version_support`): no entry in `errors` is needed when
nothing changed."""

SCAN_CONFIG = Config(custom_checks=tuple(_reader(name) for name in _unread_datasets()),
                     compute_optimizer=True, billing=True)
"""The scan both harnesses run: every check, every dataset wanted."""


FUZZ_ENV = "AUDITOR_FUZZ_EXAMPLES"
FUZZ_DEFAULT = 48
"""Generated accounts per run. Each is one full scan of ~100 calls, ~0.6 s on one core (a
third of it botocore building the scan's eleven clients, a fifth validating the report), so CI
runs this many, enough to fail each operation once, and a nightly job sets more."""


def fuzz_examples() -> int:
    return int(os.environ.get(FUZZ_ENV, FUZZ_DEFAULT))
