"""The demo account seeded once per test process, for every test that only reads it.

Seeding takes about 10 s, and a scan is read-only, so each test process (xdist worker) seeds
one account and lends it out (the `shared_demo` fixture). moto keeps its state in
process-global `BackendDict`s, which `mock_aws` empties on entry and on exit, and which the
`aws` fixture, other tests' `demo_environment` and the in-process moto servers of
bench/moto_server.py use too. So between uses the seeded backends are taken out of moto, out of
reach of any reset, and `SharedDemo.active()` puts the very same objects back inside a fresh
`emulated_aws()` (fake credentials, the mock, the emulator patches).

Tests that change the account seed their own with `demo_environment` (tests/test_nightly.py):
moto 5.2's state cannot be copied to restore afterwards (`copy.deepcopy` stops at an SQS
queue's lock, pickle at Lambda's `WeakValueDictionary`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from moto.core.base_backend import BackendDict, backend_lock

from auditor.demo import Demo, DemoAccount, demo_environment, emulated_aws

# moto's backends by service, each {account ID: that account's backends by region}.
_State = dict[BackendDict[Any], dict[str, Any]]


def _take_out() -> _State:
    """Everything moto holds now, removed from moto so that no reset reaches it."""
    with backend_lock:
        state = {backends: dict(backends) for backends in BackendDict._instances}
        for backends in state:
            backends.clear()
        BackendDict._instances.clear()
    return state


def _put_back(state: _State) -> None:
    with backend_lock:
        for backends, accounts in state.items():
            backends.update(accounts)
            if backends not in BackendDict._instances:
                BackendDict._instances.append(backends)


def seeding_time() -> datetime:
    """The top of the current hour: a 14-day window then holds exactly the 336 seeded hours."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class SharedDemo:
    """One seeded demo account, lent to one reader at a time."""

    def __init__(self, now: datetime) -> None:
        with demo_environment(now) as demo:
            self.demo = demo
            self._state = _take_out()

    @property
    def account(self) -> DemoAccount:
        return self.demo.account

    @contextmanager
    def active(self) -> Iterator[Demo]:
        """The account in moto, as `demo_environment` would yield it, for the block."""
        with emulated_aws():
            _put_back(self._state)
            try:
                yield self.demo
            finally:
                # Whatever a read created (a region's backends on first use) is kept too.
                self._state = _take_out()

    def environment(self, now: datetime | None = None) -> AbstractContextManager[Demo]:
        """Stands in for `auditor.demo.demo_environment` (`auditor scan --demo` passes the
        time of the run); the account keeps the time it was seeded at."""
        return self.active()
