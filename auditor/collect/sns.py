"""SNS subscriptions that invoke Lambda functions.

SNS invokes its Lambda subscribers asynchronously. `ListSubscriptions` names every
subscription of the region, 100 a page, so one paginated pass finds them all: no call per
topic and none per function.
"""

from __future__ import annotations

from auditor.collect.base import ScopeCollector, paginate

DATASET = "sns.subscriptions"


def lambda_subscriptions(ctx: ScopeCollector, datasets: tuple[str, ...]
                         ) -> list[tuple[str, str]]:
    """(topic ARN, function ARN as subscribed) for every Lambda subscription. A failed listing
    costs `datasets` for the region (any function may be a subscriber)."""
    found: list[tuple[str, str]] = []
    with ctx.loading(datasets, "sns", "ListSubscriptions"):
        found = [(str(raw.get("TopicArn", "")), str(raw.get("Endpoint", "")))
                 for raw in paginate(ctx.client("sns"), "list_subscriptions", "Subscriptions")
                 if str(raw.get("Protocol", "")).lower() == "lambda"]
    return found
