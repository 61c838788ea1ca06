"""EventBridge rules that invoke Lambda functions.

EventBridge invokes Lambda targets asynchronously. Rules do not name their targets, so each
enabled rule of the region's default event bus costs one `ListTargetsByRule`: a call per rule,
never per function. Rules on custom event buses are not read.
"""

from __future__ import annotations

from auditor.collect.base import ScopeCollector, paginate

DATASET = "events.rule_targets"


def lambda_targets(ctx: ScopeCollector, datasets: tuple[str, ...]) -> list[tuple[str, str]]:
    """(rule ARN, function ARN as targeted) for every Lambda target of an enabled rule. Any
    failed call costs `datasets` for the region (the function it would have named could be
    any); a rule deleted since it was listed is skipped."""
    events = ctx.client("events")
    rules: list[tuple[str, str]] = []
    with ctx.loading(datasets, "events", "ListRules"):
        rules = [(str(rule["Name"]), str(rule.get("Arn", "")))
                 for rule in paginate(events, "list_rules", "Rules")
                 if rule.get("State") != "DISABLED"]
    found: list[tuple[str, str]] = []
    for name, rule_arn in rules:
        with ctx.recorder.loading(ctx.scope, datasets, "events", "ListTargetsByRule",
                                  gone_ok=True):
            found += [(rule_arn, str(target.get("Arn", ""))) for target in
                      paginate(events, "list_targets_by_rule", "Targets", Rule=name)
                      if str(target.get("Arn", "")).split(":")[2:3] == ["lambda"]]
    return found
