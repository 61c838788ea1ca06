"""Fault injection for scans against the emulator: botocore hooks that deny or throttle.

They hook in ahead of moto (`ClientFactory` registers extra hooks first), so the auditor's
real retry, parsing and error-recording code runs on the injected failures.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError


class _Raw(BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.read()


def deny(service: str) -> tuple[str, Callable[..., Any]]:
    """Every call to `service` answers AccessDenied (a before-call hook: no request is sent)."""

    def hook(model: Any, **_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException",
                       "Message": f"User is not authorized to perform {service}:{model.name}"}},
            model.name,
        )

    return (f"before-call.{service}.*", hook)


class Throttle:
    """Answer the first `times` HTTP attempts of `operation` with a throttling error, so the
    client's retry mode is exercised (`times=None`: throttle forever)."""

    def __init__(self, service: str, operation: str, times: int | None = None) -> None:
        self.event = f"before-send.{service}.{operation}"
        self.times = times
        self.sent = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        self.sent += 1
        if self.times is not None and self.sent > self.times:
            return None
        # The query-compatible error header works for CloudWatch's JSON and CBOR protocols.
        headers = {"x-amzn-query-error": "Throttling;Sender", "Content-Length": "0"}
        return AWSResponse(request.url, 400, headers, _Raw(b""))

    @property
    def hook(self) -> tuple[str, Callable[..., Any]]:
        return (self.event, self)
