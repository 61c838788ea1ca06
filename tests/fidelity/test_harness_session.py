"""The harnesses' session lends one scan's clients to the next: each scan still gets only its
own hooks, and a client whose requests reached the retry handlers is never lent again."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from auditor.session import CallStats, ClientFactory
from tests.fidelity.hooks import answer
from tests.fidelity.recording import HarnessSession

IDENTITY = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a",
            "UserId": "A"}


def harness() -> HarnessSession:
    return HarnessSession(aws_access_key_id="fidelity", aws_secret_access_key="fidelity",
                          region_name="us-east-1")


class Answering:
    """A `before-call` hook answering who-am-I, counting what it answered."""

    def __init__(self) -> None:
        self.answered = 0

    def __call__(self, **_: Any) -> Any:
        self.answered += 1
        return answer(IDENTITY)


def who_am_i(session: HarnessSession, *hooks: tuple[str, Any]) -> tuple[Any, CallStats]:
    """One scan's worth: the client its factory gets, after one call, and its counter."""
    stats = CallStats()
    client = ClientFactory(session, stats, extra_hooks=hooks).client("sts", "us-east-1")
    assert client.get_caller_identity()["Account"] == IDENTITY["Account"]
    return client, stats


def test_the_next_scan_gets_the_same_client_with_only_its_own_hooks() -> None:
    session = harness()
    first, second, third = Answering(), Answering(), Answering()
    with session.lease():
        lent, first_stats = who_am_i(session, ("before-call.*.*", first))
    with session.lease():
        again, second_stats = who_am_i(session, ("before-call.*.*", second))
        # Two factories of one scan asking for the same client get one each.
        other, _ = who_am_i(session, ("before-call.*.*", third))

    assert again is lent and other is not lent
    assert (first.answered, first_stats.total) == (1, 1), "the first scan's hooks are gone"
    assert (second.answered, second_stats.total, third.answered) == (1, 1, 1)


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def sent_who_am_i(request: Any, **_: Any) -> AWSResponse:
    """`before-send`: what STS would answer on the wire (the request got past `before-call`,
    so botocore's retry handlers saw it)."""
    xml = (b"<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012"
           b"</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
    return AWSResponse(request.url, 200, HTTPHeaders(), Body(xml))


def test_a_client_that_sent_a_request_is_not_lent_again() -> None:
    session = harness()
    with session.lease():
        sent, _ = who_am_i(session, ("before-send", sent_who_am_i))
    with session.lease():
        fresh, _ = who_am_i(session, ("before-call.*.*", Answering()))
    with session.lease():
        again, _ = who_am_i(session, ("before-call.*.*", Answering()))
    assert fresh is not sent and again is fresh
