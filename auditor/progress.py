"""Progress on stderr while a scan runs, only when stderr is a terminal (and not `--quiet`).

One line, redrawn in place at most every `interval` seconds: the account, then per region the
API calls made to each service so far, the total and how many failed. It hooks every client
the scan builds (`after-call` events), so it needs nothing from the collectors; a scheduler's
log (not a terminal) never sees it, only the summary line at the end.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TextIO

from auditor.session import Hook


class Progress:
    def __init__(self, stream: TextIO, interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.calls: Counter[tuple[str, str]] = Counter()
        self.failed = 0
        self.account = ""
        self._drawn_at = float("-inf")
        self._lock = threading.Lock()

    @classmethod
    def for_stream(cls, stream: TextIO, quiet: bool = False) -> Progress | None:
        """A `Progress` when `stream` is a terminal and not quiet, else None."""
        isatty = getattr(stream, "isatty", None)
        if quiet or isatty is None or not isatty():
            return None
        return cls(stream)

    @property
    def hooks(self) -> tuple[tuple[str, Hook], ...]:
        """For `Environment(hooks=...)`: counted after every call, failed or not."""
        return (("after-call.*.*", self.after_call), ("after-call-error.*.*", self.after_error))

    def after_call(self, model: Any, parsed: Any = None, context: Any = None, **_: Any) -> None:
        failed = isinstance(parsed, dict) and "Error" in parsed
        account = parsed.get("Account") if isinstance(parsed, dict) and (
            model.name == "GetCallerIdentity") else None
        self._count(model, context, failed, account)

    def after_error(self, model: Any, context: Any = None, **_: Any) -> None:
        self._count(model, context, True, None)

    def _count(self, model: Any, context: Any, failed: bool, account: Any) -> None:
        region = (context or {}).get("client_region") or "-"
        with self._lock:
            self.calls[(str(region), model.service_model.service_name)] += 1
            self.failed += failed
            if isinstance(account, str):
                self.account = account
            now = self.clock()
            if now - self._drawn_at >= self.interval:
                self._drawn_at = now
                self._write("\r" + self.line() + "\x1b[K")

    def line(self) -> str:
        """`scanning 123456789012 · 34 API calls, 1 failed · eu-west-1: lambda 2 · us-east-1:
        ecs 12 lambda 20`, cut to the terminal's width."""
        regions: dict[str, list[str]] = {}
        for (region, service), count in sorted(self.calls.items()):
            regions.setdefault(region, []).append(f"{service} {count}")
        total = sum(self.calls.values())
        parts = [f"scanning {self.account}" if self.account else "scanning",
                 f"{total} API calls" + (f", {self.failed} failed" if self.failed else "")]
        parts += [f"{region}: {' '.join(services)}" for region, services in regions.items()]
        text = " · ".join(parts)
        width = shutil.get_terminal_size((100, 24)).columns - 1
        return text if len(text) <= width else text[:max(width - 1, 0)] + "…"

    def finish(self) -> None:
        """Clear the line, so the summary that follows starts clean."""
        with self._lock:
            if self.calls:
                self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
