"""CloudWatch log groups: retention and size, for Lambda and ECS `awslogs` groups alike."""

from __future__ import annotations

from auditor.collect.base import ScopeCollector, paginate
from auditor.model import Inventory, LogGroup


def collect(ctx: ScopeCollector) -> Inventory:
    if not ctx.wants("logs.log_groups"):
        return Inventory()
    logs = ctx.client("logs")
    acct, region = ctx.scope.account, ctx.scope.region
    groups: list[LogGroup] = []
    with ctx.loading("logs.log_groups", "logs", "DescribeLogGroups"):
        for raw in paginate(logs, "describe_log_groups", "logGroups"):
            name = raw.get("logGroupName", "")
            # `arn` ends in ":*" (it names the streams); `logGroupArn` is the group itself.
            arn = (raw.get("logGroupArn") or str(raw.get("arn", "")).removesuffix(":*")
                   or f"arn:aws:logs:{region}:{acct}:log-group:{name}")
            groups.append(LogGroup(arn, acct, region, name, raw.get("retentionInDays"),
                                   int(raw.get("storedBytes", 0))))
    return Inventory(log_groups=tuple(groups))
