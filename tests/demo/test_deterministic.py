"""The demo account is the same every run (issue 16): the IDs moto makes up, an event source
mapping's UUID among them, do not change, so neither do the fingerprints of the findings on
them, and the demo against its own baseline reports nothing new."""

from __future__ import annotations

from datetime import UTC, datetime

from moto.moto_api._internal import mock_random

from auditor.demo import demo_environment
from tests.shared_demo import SharedDemo

NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)


def _seeded() -> dict[str, str]:
    with demo_environment(NOW) as demo:
        return dict(demo.account.arns)


def test_two_runs_seed_the_same_account_whatever_else_drew_on_motos_ids(
        shared_demo: SharedDemo) -> None:
    # The first run: the suite's own seeding of the demo, in whichever test process came first
    # and at another time, after whatever that process had drawn.
    first = dict(shared_demo.account.arns)
    mock_random.uuid4()  # moto's generator is process-wide: something else used it
    second = _seeded()
    assert first == second
    # The planted finding whose ARN moto makes up: the mapping feeding orders-db-writer.
    mapping = first["lambda.esm.orders-db-writer"]
    assert mapping.startswith("arn:aws:lambda:us-east-1:123456789012:event-source-mapping:")
    assert any(arn.startswith(("arn:aws:ec2:", "sg-", "subnet-")) or ":instance/i-" in arn
               for arn in first.values())
