"""The demo account seeded once per test run, for every test that only reads it, and restored
from a snapshot wherever another copy is needed.

Seeding takes about 10 s of CPU, and a scan is read-only. So the first test process of a run
(xdist worker) that needs the account seeds it and saves a snapshot, and every other process
restores that snapshot (about 1 s): `run_once` below, the `shared_demo` fixture in
tests/conftest.py. A test that changes the account (tests/test_nightly.py) takes a private
`copy()`; a test that runs `auditor scan --demo` in a process of its own hands it the snapshot
file (`SCAN_DEMO_FROM_SNAPSHOT`, tests/test_interrupts.py).

moto keeps its state in process-global `BackendDict`s, which `mock_aws` empties on entry and on
exit, and which the `aws` fixture, other tests' `demo_environment` and the in-process moto
servers of bench/moto_server.py use too. So between uses the seeded backends are taken out of
moto, out of reach of any reset, and `SharedDemo.active()` puts the very same objects back
inside a fresh `emulated_aws()` (fake credentials, the mock, the emulator patches).

The snapshot is a pickle of those backends and the `Demo` (its planted problems, the answers
moto lacks). Plain pickle stops at three things in moto 5.2's state, which `_Pickler` handles:
locks (an SQS queue's; restored unlocked), `WeakValueDictionary`s (Lambda's functions by ARN;
their values are held elsewhere in the same pickle) and `defaultdict` factories that are local
lambdas without a closure (rebuilt from their code). The `BackendDict`s themselves are not
copied: a snapshot names each by the module attribute that holds it, and restoring fills the
live one. tests/demo/test_snapshot.py proves a restored account reports what the seeded one
does.
"""

from __future__ import annotations

import importlib
import io
import marshal
import pickle
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from moto.core.base_backend import BackendDict, BaseBackend, backend_lock

from auditor.demo import Demo, DemoAccount, demo_environment, emulated_aws

try:
    import fcntl
except ImportError:  # not POSIX: each test process seeds its own
    fcntl = None  # type: ignore[assignment]

# moto's backends by service, each {account ID: that account's backends by region}.
_State = dict[BackendDict[Any], dict[str, Any]]
T = TypeVar("T")

SCAN_DEMO_FROM_SNAPSHOT = (
    "import sys\n"
    "import auditor.demo\n"
    "from tests.shared_demo import SharedDemo\n"
    "auditor.demo.demo_environment = SharedDemo.load(sys.argv.pop(1)).environment\n"
    "from auditor.cli import main\n"
    "main()\n")
"""`python -c SCAN_DEMO_FROM_SNAPSHOT SNAPSHOT ARGS...` is `auditor ARGS...` in a process of its
own, whose `--demo` restores the snapshot instead of seeding (run it from the repository's
root, where `tests` imports)."""


def take_out() -> _State:
    """Everything moto holds now, removed from moto so that no reset reaches it."""
    with backend_lock:
        state = {backends: dict(backends) for backends in BackendDict._instances}
        for backends in state:
            backends.clear()
        BackendDict._instances.clear()
    return state


def drop_rebuilt_backends() -> None:
    """Empty moto of the backends whose reset only builds them anew (`BaseBackend.reset`),
    before `mock_aws`'s exit resets them: it would rebuild each (an EC2 region's hundreds of
    default images) only to drop it. Backends with a reset of their own (S3 gives back its
    bucket names) are left to it."""
    with backend_lock:
        for backends in list(BackendDict._instances):
            if backends.backend.reset is BaseBackend.reset:
                backends.clear()
                BackendDict._instances.remove(backends)


def _put_back(state: _State) -> None:
    with backend_lock:
        for backends, accounts in state.items():
            backends.update(accounts)
            if backends not in BackendDict._instances:
                BackendDict._instances.append(backends)


def seeding_time() -> datetime:
    """The top of the current hour: a 14-day window then holds exactly the 336 seeded hours."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


# --------------------------------------------------------------------------- snapshots

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


def _holder(backends: BackendDict[Any]) -> tuple[str, str]:
    """The module attribute that holds this `BackendDict` (`moto.ec2.models`, `ec2_backends`)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.") and module is not None:
            for attribute, value in list(vars(module).items()):
                if value is backends:
                    return name, attribute
    raise pickle.PicklingError(f"no moto module holds the {backends.service_name} backends")


def _live_backends(module: str, attribute: str) -> BackendDict[Any]:
    backends: BackendDict[Any] = getattr(importlib.import_module(module), attribute)
    return backends


def _local_function(code: bytes, module: str, name: str,
                    defaults: tuple[Any, ...] | None) -> types.FunctionType:
    return types.FunctionType(marshal.loads(code), vars(importlib.import_module(module)), name,
                              defaults)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BackendDict):
            return _live_backends, _holder(obj)
        if isinstance(obj, _LOCK):
            return threading.Lock, ()
        if isinstance(obj, _RLOCK):
            return threading.RLock, ()
        if isinstance(obj, weakref.WeakValueDictionary):
            return weakref.WeakValueDictionary, (dict(obj),)
        if isinstance(obj, types.FunctionType) and "<locals>" in obj.__qualname__:
            if obj.__closure__ or obj.__kwdefaults__:
                raise pickle.PicklingError(
                    f"{obj.__module__}.{obj.__qualname__}: a snapshot cannot hold a closure")
            return _local_function, (marshal.dumps(obj.__code__), obj.__module__,
                                     obj.__name__, obj.__defaults__)
        return NotImplemented


def dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the account


class SharedDemo:
    """One seeded demo account, lent to one reader at a time."""

    def __init__(self, demo: Demo, state: _State, snapshot: bytes) -> None:
        self.demo = demo
        self._state = state
        self.snapshot = snapshot
        """The account as seeded, for `restore`."""

    @classmethod
    def seed(cls, now: datetime) -> SharedDemo:
        with demo_environment(now) as demo:
            state = take_out()
        return cls(demo, state, dumps((state, demo)))

    @classmethod
    def restore(cls, snapshot: bytes) -> SharedDemo:
        state, demo = pickle.loads(snapshot)
        return cls(demo, state, snapshot)

    @classmethod
    def load(cls, path: str | Path) -> SharedDemo:
        return cls.restore(Path(path).read_bytes())

    def copy(self) -> SharedDemo:
        """Another account as this one was seeded, for a test that changes it."""
        return self.restore(self.snapshot)

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
                self._state = take_out()

    def environment(self, now: datetime | None = None) -> AbstractContextManager[Demo]:
        """Stands in for `auditor.demo.demo_environment` (`auditor scan --demo` passes the
        time of the run); the account keeps the time it was seeded at."""
        return self.active()


# --------------------------------------------------------------------------- once per run


def run_once(directory: Path, name: str, make: Callable[[], T], dump: Callable[[T], bytes],
             load: Callable[[bytes], T]) -> T:
    """`make()` in the first test process of the run that asks, which saves it as `name` in
    `directory` (one for the whole run, shared by the xdist workers); every other process
    waits for that and loads it. Without `fcntl` each process makes its own."""
    if fcntl is None:
        return make()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with open(directory / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            return load(path.read_bytes())
        value = make()
        partial = directory / f"{name}.partial"
        partial.write_bytes(dump(value))
        partial.replace(path)
        return value
