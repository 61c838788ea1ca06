"""Lambda checks: provisioned concurrency, concurrency against databases and queues, runtime
behaviour from hourly CloudWatch metrics, cost, runtimes, secrets and logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, ClassVar

from auditor.check import Check, CheckContext, Param, listing, series_or_none
from auditor.cost.usage import daily_totals, function_usage, function_usage_queries
from auditor.cost.workloads import WorkloadEstimate
from auditor.data import RuntimeTable, lambda_runtimes, runtime_family, version_key
from auditor.databases import Database, databases, proxies_fronting, reaches_proxy
from auditor.findings import Category, Finding, Severity
from auditor.metrics import (
    MetricQuery,
    lambda_query,
    provisioned_query,
)
from auditor.model import (
    AsyncInvoker,
    Inventory,
    LambdaFunction,
    ProvisionedConcurrency,
    Resource,
)
from auditor.network import ingress_paths
from auditor.params import COUNT, HOURS_OF_DATA, PERCENT, SOME_PERCENT, Range
from auditor.secrets import find_secrets


class ProvisionedConcurrencyWaste(Check):
    id = "lambda.provisioned_concurrency_waste"
    title = "Provisioned concurrency mostly unused"
    severity = Severity.MEDIUM
    category = Category.COST
    rationale = (
        "Provisioned concurrency is billed for every second it is configured, busy or not. When "
        "even the busy hours use a small share of it, most of that charge buys nothing. The "
        "environments worth keeping (the `[cost] provisioned_percentile` of hourly peak "
        "utilisation) and the saving are the cost model's: what the function would cost with "
        "only those, invocations that no longer fit them billed on demand."
    )
    remediation = (
        "Lower the provisioned concurrency to what the busy hours use (or schedule it with "
        "Application Auto Scaling for the hours that need it), or remove it if cold starts "
        "are acceptable."
    )
    requires = frozenset({"lambda.functions", "lambda.provisioned_concurrency",
                          "cloudwatch.metrics"})
    subject_kinds = ("lambda-provisioned-concurrency",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_utilization": Param(0.3, "flag when the kept percentile of hourly peak "
                                      "utilisation is below this (0-1)",
                                 Range(0, 1, low_open=True)),
        "min_hours_of_data": Param(72, "hourly datapoints needed before judging", HOURS_OF_DATA),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        return (provisioned_query(c) for c in inventory.provisioned_concurrency)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for config in inventory.provisioned_concurrency:
            function = inventory.get(config.function_arn)
            estimate = ctx.costs.of(config.function_arn)
            if (not isinstance(function, LambdaFunction) or estimate is None
                    or config.allocated <= 0):
                continue
            finding = self._judge(config, function, estimate, ctx)
            if finding is not None:
                yield finding

    def _judge(self, config: ProvisionedConcurrency, function: LambdaFunction,
               estimate: WorkloadEstimate, ctx: CheckContext) -> Finding | None:
        series = series_or_none(ctx, provisioned_query(config))
        if series is None or len(series) < ctx.number("min_hours_of_data"):
            return None
        kept_by_config: Mapping[str, Mapping[str, Any]] = estimate.usage["provisioned_configs"]
        judged = kept_by_config[config.arn]
        busy, kept = judged["utilization"], judged["kept"]
        if busy is None or busy >= ctx.number("max_utilization") or (
                "provisioned_concurrency" not in estimate.savings):
            return None
        # The function's saving is split among its configurations by what each leaves idle.
        unused = config.allocated - kept
        unused_all = sum(c["allocated"] - c["kept"] for c in kept_by_config.values())
        saving = estimate.savings["provisioned_concurrency"] * unused / unused_all
        trimmed = estimate.step("provisioned_concurrency")
        assert trimmed is not None
        return self.finding(
            config,
            f"{function.name}:{config.qualifier} keeps {config.allocated} environments "
            f"provisioned, but the p{judged['utilization_percentile']:g} of hourly peak "
            f"utilisation over {ctx.lookback_days} days was {busy:.0%} (threshold "
            f"{ctx.number('max_utilization'):.0%}); {unused} of them sit idle, "
            f"${saving:,.2f}/month.",
            {
                "function": function.arn,
                "qualifier": config.qualifier,
                "allocated": config.allocated,
                "utilization_percentile": judged["utilization_percentile"],
                "utilization_at_percentile": busy,
                "recommended_provisioned": kept,
                "unused_environments": unused,
                "peak_utilization": round(series.maximum() or 0.0, 4),
                "hourly_datapoints": len(series),
                "memory_mb": function.memory_mb,
                "architecture": function.architecture,
                "monthly_usd": {"current": estimate.current.monthly_usd,
                                "trimmed": trimmed.monthly_usd},
                "arithmetic": {
                    "current": {line.name: line.formula for line in estimate.current.lines},
                    "trimmed": {line.name: line.formula for line in trimmed.lines},
                    "saving": (f"(${estimate.current.monthly_usd:,.2f} - "
                               f"${trimmed.monthly_usd:,.2f}) x {unused}/{unused_all} idle "
                               f"environments of the function's = ${saving:,.2f}"),
                },
            },
            monthly_savings_usd=saving,
            savings_kind="provisioned_concurrency",
        )


# --------------------------------------------------------------------------- databases


class DbConnectionStorm(Check):
    id = "lambda.db_connection_storm"
    title = "Lambda can open more database connections than the database takes"
    severity = Severity.HIGH
    category = Category.RELIABILITY
    rationale = (
        "Each concurrent Lambda execution holds its own database connection. A function that "
        "reaches an RDS or Aurora database directly, with no RDS Proxy pooling its connections "
        "and no reserved concurrency capping it below the database's max_connections, turns a "
        "traffic burst into a connection storm: the database refuses connections or runs out "
        "of memory, for every client at once."
    )
    remediation = (
        "Put an RDS Proxy between the function and the database, or set the function's "
        "reserved concurrency below the database's connection budget (and, for queue-fed "
        "functions, the event source mapping's MaximumConcurrency)."
    )
    requires = frozenset({"lambda.functions", "lambda.concurrency", "rds.databases",
                          "rds.proxies", "rds.parameters", "ec2.security_groups",
                          "ec2.network"})
    subject_kinds = ("lambda-function",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "connection_budget_percent": Param(
            100.0, "share of the database's max_connections one function may hold",
            SOME_PERCENT),
    }

    def requires_for_subject(self, subject: Resource) -> frozenset[str]:
        # A function outside any VPC has no security group a database could admit: its
        # verdict rests on the function listing alone, whatever happened to RDS or EC2.
        if isinstance(subject, LambdaFunction) and not subject.vpc_id:
            return frozenset({"lambda.functions"})
        return super().requires_for_subject(subject)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        reachable = databases(inventory)
        for function in inventory.lambda_functions:
            if not function.vpc_id or not function.reserved_concurrency_known or (
                    function.reserved_concurrency == 0):
                continue
            exposed = [
                self._exposure(inventory, function, database, ctx) for database in reachable
                if database.resource.scope == function.scope
            ]
            problems = [e for e in exposed if isinstance(e, dict)]
            unread = [e for e in exposed if isinstance(e, str)]
            if problems:
                yield self._finding(function, problems)
            elif unread:
                yield self.unknown(function, "; ".join(unread))

    def _exposure(self, inv: Inventory, function: LambdaFunction, database: Database,
                  ctx: CheckContext) -> dict[str, Any] | str | None:
        """The problem with one database the function reaches, None if there is none, or
        why that cannot be told (what it rests on failed to load)."""
        paths = ingress_paths(inv, function, database.security_group_ids, database.port)
        if not paths:
            return None
        unread = _unread_proxies(inv, function, database)
        if unread:
            return unread
        proxies = proxies_fronting(inv, database)
        # A proxy the function can reach is taken to be the way it connects.
        if any(reaches_proxy(inv, function, proxy) for proxy in proxies):
            return None
        unread = _unread_budget(inv, function, database)
        if unread:
            return unread
        budget = database.budget()
        share = ctx.number("connection_budget_percent") / 100
        limit = int(budget[0].max_connections * share) if budget else None
        reserved = function.reserved_concurrency
        if reserved is not None and (limit is None or reserved <= limit):
            return None
        return {
            "database": database.resource.arn,
            "identifier": database.identifier,
            "engine": database.engine,
            "port": database.port,
            "instance_class": budget[1].instance_class if budget else None,
            "reached_by": paths,
            "proxies_fronting_it_out_of_reach": [proxy.name for proxy in proxies],
            "max_connections": budget[0].max_connections if budget else None,
            "max_connections_source": budget[0].source if budget else None,
            "max_connections_basis": budget[0].basis if budget
            else "unknown for this engine or instance class",
            "connection_budget": limit,
            "connection_budget_percent": ctx.params["connection_budget_percent"],
        }

    def _finding(self, function: LambdaFunction, problems: list[dict[str, Any]]) -> Finding:
        reserved = function.reserved_concurrency
        first = problems[0]
        budget = "max_connections unknown"
        if first["max_connections"] is not None:
            budget = (f"max_connections {first['max_connections']} by its "
                      f"{first['max_connections_source']}")
            if first["connection_budget"] != first["max_connections"]:
                budget += (f", {first['connection_budget_percent']:g}% of it = connection "
                           f"budget {first['connection_budget']}")
        cap = ("no reserved concurrency caps it" if reserved is None
               else f"its reserved concurrency of {reserved} is above that budget")
        others = f" and {len(problems) - 1} more database(s)" if len(problems) > 1 else ""
        return self.finding(
            function,
            f"Lambda {function.name} reaches {first['engine']} database {first['identifier']} "
            f"({first['instance_class'] or 'instance class unknown'}, {budget}){others} "
            f"directly, with no RDS Proxy in the path, and {cap}.",
            {
                "reserved_concurrency": reserved,
                "security_groups": list(function.security_group_ids),
                "subnets": list(function.subnet_ids),
                "databases": problems,
            },
        )


def _unread_proxies(inv: Inventory, function: LambdaFunction, database: Database) -> str | None:
    """A proxy the function can reach whose targets were not read may be the one in front of
    the database it reaches: then its exposure cannot be told."""
    unread = [p.name for p in inv.rds_proxies if p.scope == function.scope
              and "rds.proxies" in inv.failed_for(p.arn) and reaches_proxy(inv, function, p)]
    if not unread:
        return None
    return (f"it reaches {database.identifier}, and RDS proxies it can reach "
            f"({', '.join(unread)}) could not be read for the databases they front")


def _unread_budget(inv: Inventory, function: LambdaFunction, database: Database) -> str | None:
    """With reserved concurrency set, the budget to weigh it against may be in a parameter
    group that was not read."""
    reserved = function.reserved_concurrency
    if reserved is not None and any("rds.parameters" in inv.failed_for(i.arn)
                                    for i in database.instances):
        return (f"it reaches {database.identifier}, whose parameter group (max_connections, "
                f"to weigh its reserved concurrency of {reserved} against) could not be read")
    return None


class UnboundedEventSourceScaling(Check):
    id = "lambda.unbounded_event_source_scaling"
    title = "SQS-fed Lambda with no concurrency bound"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "Lambda scales an SQS event source up with the queue's backlog. With no maximum "
        "concurrency on the mapping and no reserved concurrency on the function, a backlog "
        "takes as much of the account's concurrency as it can, throttling every other "
        "function in the region and flooding whatever the function writes to."
    )
    remediation = (
        "Set ScalingConfig.MaximumConcurrency on the event source mapping (2 to 1000) to what "
        "the downstream can take, or give the function reserved concurrency."
    )
    requires = frozenset({"lambda.functions", "lambda.event_source_mappings",
                          "lambda.concurrency"})
    subject_kinds = ("lambda-event-source-mapping",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for mapping in inventory.event_source_mappings:
            function = inventory.get(mapping.function_arn)
            if (mapping.source_service != "sqs" or mapping.maximum_concurrency is not None
                    or mapping.state.lower() in ("disabled", "disabling")
                    or not isinstance(function, LambdaFunction)):
                continue
            if "lambda.concurrency" in inventory.failed_for(function.arn):
                yield self.unknown(mapping, f"the reserved concurrency of {function.name} "
                                            "could not be read")
                continue
            if (not function.reserved_concurrency_known
                    or function.reserved_concurrency is not None):
                continue
            queue = mapping.event_source_arn.rsplit(":", 1)[-1]
            yield self.finding(
                mapping,
                f"The SQS event source mapping from queue {queue} to Lambda {function.name} "
                "sets no ScalingConfig.MaximumConcurrency and the function has no reserved "
                "concurrency: a backlog can scale it to the account's unreserved concurrency.",
                {
                    "function": function.arn,
                    "queue": mapping.event_source_arn,
                    "state": mapping.state,
                    "batch_size": mapping.batch_size,
                    "maximum_concurrency": None,
                    "reserved_concurrency": None,
                },
            )


# --------------------------------------------------------------------------- runtime metrics


class NearTimeout(Check):
    id = "lambda.near_timeout"
    title = "Lambda invocations close to the timeout"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "A function whose slowest invocations come close to its timeout is one slow "
        "dependency away from timing out: the work is lost or retried, and retries add load "
        "to whatever was slow."
    )
    remediation = (
        "Find what the slow invocations wait on (X-Ray, logs), bound it with a client timeout "
        "shorter than the function's, and raise the function timeout only if the work is "
        "legitimately that long."
    )
    requires = frozenset({"lambda.functions", "cloudwatch.metrics"})
    subject_kinds = ("lambda-function",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_percent_of_timeout": Param(80.0, "flag when the hourly Maximum Duration exceeds "
                                              "this share of the timeout", SOME_PERCENT),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        return (lambda_query(f, "Duration", "Maximum") for f in inventory.lambda_functions)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        percent = ctx.number("max_percent_of_timeout")
        for function in inventory.lambda_functions:
            series = series_or_none(ctx, lambda_query(function, "Duration", "Maximum"))
            if series is None:
                continue
            timeout_ms = function.timeout_s * 1000
            limit = timeout_ms * percent / 100
            slowest = series.maximum() or 0.0
            if slowest <= limit:
                continue
            hours = sum(1 for value in series.values if value > limit)
            timed_out = sum(1 for value in series.values if value >= timeout_ms)
            yield self.finding(
                function,
                f"Lambda {function.name}'s slowest invocation took {slowest / 1000:,.1f} s, "
                f"{slowest / timeout_ms:.0%} of its {function.timeout_s} s timeout (threshold "
                f"{percent:g}%); {hours} of {len(series)} hours over {ctx.lookback_days} days "
                "had an invocation above the threshold.",
                {
                    "timeout_s": function.timeout_s,
                    "max_duration_ms": round(slowest, 1),
                    "max_percent_of_timeout": round(slowest / timeout_ms * 100, 1),
                    "threshold_percent": percent,
                    "hours_over_threshold": hours,
                    "hours_at_timeout": timed_out,
                    "hourly_datapoints": len(series),
                    "metric": lambda_query(function, "Duration", "Maximum").describe(),
                },
            )


class HighErrorRate(Check):
    id = "lambda.high_error_rate"
    title = "Lambda error rate above threshold on some day"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "Errors are invocations that failed: lost requests, or retries that multiply load. A "
        "day on which more than one in ten invocations failed is an incident, even if the "
        "average over two weeks looks fine."
    )
    remediation = (
        "Look up that day's errors in the function's logs (or Lambda Insights), fix the cause, "
        "and alarm on the Errors/Invocations ratio so the next one pages someone."
    )
    requires = frozenset({"lambda.functions", "cloudwatch.metrics"})
    subject_kinds = ("lambda-function",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "max_error_percent": Param(10.0, "flag a day whose Errors/Invocations exceeds this",
                                   PERCENT),
        "min_daily_invocations": Param(10, "ignore days with fewer invocations than this",
                                       COUNT),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        for function in inventory.lambda_functions:
            yield lambda_query(function, "Errors", "Sum")
            yield lambda_query(function, "Invocations", "Sum")

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        limit = ctx.number("max_error_percent")
        min_invocations = ctx.number("min_daily_invocations")
        for function in inventory.lambda_functions:
            errors = daily_totals(series_or_none(ctx, lambda_query(function, "Errors", "Sum")))
            calls = daily_totals(
                series_or_none(ctx, lambda_query(function, "Invocations", "Sum")))
            bad = {
                day: (errors.get(day, 0.0), total) for day, total in sorted(calls.items())
                if total >= min_invocations and errors.get(day, 0.0) / total * 100 > limit
            }
            if not bad:
                continue
            worst, (worst_errors, worst_calls) = max(bad.items(),
                                                     key=lambda kv: kv[1][0] / kv[1][1])
            yield self.finding(
                function,
                f"Lambda {function.name} failed {worst_errors / worst_calls:.1%} of its "
                f"invocations on {worst} ({worst_errors:,.0f} errors in {worst_calls:,.0f}); the "
                f"rate was above {limit:g}% on {len(bad)} of {len(calls)} days.",
                {
                    "worst_day": worst.isoformat(),
                    "worst_day_error_percent": round(worst_errors / worst_calls * 100, 2),
                    "days_over_threshold": {
                        day.isoformat(): {"errors": round(e), "invocations": round(c),
                                          "error_percent": round(e / c * 100, 2)}
                        for day, (e, c) in bad.items()
                    },
                    "days_with_data": len(calls),
                    "threshold_percent": limit,
                    "min_daily_invocations": min_invocations,
                },
            )


class LongRunningCandidate(Check):
    id = "lambda.long_running_candidate"
    title = "Long, steady Lambda work that a container would run cheaper"
    severity = Severity.INFO
    category = Category.COST
    rationale = (
        "Lambda bills every millisecond of every execution. Work that runs long and all day "
        "keeps environments busy around the clock, which is what containers are priced for: "
        "past about one busy environment on average, ECS or EKS tasks usually cost less."
    )
    remediation = (
        "Compare the platforms with `auditor estimate` for this function's usage (in the "
        "evidence), and move the work to a container service if the saving holds."
    )
    requires = frozenset({"lambda.functions", "cloudwatch.metrics"})
    subject_kinds = ("lambda-function",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_avg_duration_ms": Param(1000.0, "flag when the average Duration is at least this",
                                       COUNT),
        "min_avg_concurrency": Param(1.0, "and at least this many environments are busy on "
                                          "average (execution seconds per second)", COUNT),
        "min_active_hours_percent": Param(95.0, "and this share of the lookback's hours had "
                                                "invocations (steady traffic)", PERCENT),
    }

    def metric_queries(self, inventory: Inventory, ctx: CheckContext) -> Iterable[MetricQuery]:
        for function in inventory.lambda_functions:
            yield from function_usage_queries(function)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        min_duration = ctx.number("min_avg_duration_ms")
        min_concurrency = ctx.number("min_avg_concurrency")
        min_active = ctx.number("min_active_hours_percent")
        for function in inventory.lambda_functions:
            used = function_usage(function, ctx.metrics, ctx.lookback_days)
            if used is None:
                continue
            active = used.active_percent
            if (used.avg_duration_ms < min_duration or used.avg_concurrency < min_concurrency
                    or active < min_active):
                continue
            estimate = ctx.costs.of(function.arn)
            if estimate is None:
                continue
            cost = estimate.current.monthly_usd
            yield self.finding(
                function,
                f"Lambda {function.name} averages {used.avg_duration_ms:,.0f} ms per invocation "
                f"(threshold {min_duration:g} ms) and keeps {used.avg_concurrency:.1f} "
                f"environments busy on average (threshold {min_concurrency:g}), with "
                f"invocations in {active:.0f}% of hours (threshold {min_active:g}%): "
                f"${cost:,.2f}/month on Lambda for steady work a container would run.",
                {
                    "usage": {**used.describe(),
                              "requests_per_month": estimate.usage["requests_per_month"]},
                    "memory_mb": function.memory_mb,
                    "architecture": function.architecture,
                    "active_hours_percent": round(active, 1),
                    "lambda_monthly_usd": cost,
                    "lambda_arithmetic": {line.name: line.formula
                                          for line in estimate.current.lines},
                    "cheapest_option": {"platform": estimate.recommended.platform,
                                        "monthly_usd": estimate.recommended.monthly_usd},
                    "thresholds": {k: ctx.params[k] for k in self.parameters},
                },
            )


class X86Arm64Candidate(Check):
    id = "lambda.x86_arm64_candidate"
    title = "x86_64 Lambda that could run on arm64 for less"
    severity = Severity.LOW
    category = Category.COST
    rationale = (
        "Lambda on arm64 (Graviton) costs 20% less per GB-second than on x86_64, and for most "
        "interpreted code runs as fast or faster. A function on a runtime that supports arm64 "
        "pays the x86 premium only out of habit."
    )
    remediation = (
        "Switch the function's architecture to arm64 after checking that its dependencies have "
        "arm64 builds (native wheels, layers, bundled binaries); test, then deploy."
    )
    requires = frozenset({"lambda.functions", "cloudwatch.metrics"})
    subject_kinds = ("lambda-function",)
    reads_costs = True
    parameters: ClassVar[Mapping[str, Param]] = {
        "min_monthly_savings_usd": Param(1.0, "flag when the monthly saving is at least this",
                                           COUNT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        threshold = ctx.number("min_monthly_savings_usd")
        table = lambda_runtimes()
        for function in inventory.lambda_functions:
            runtime = table.get(function.runtime)
            estimate = ctx.costs.of(function.arn)
            if (function.architecture != "x86_64" or runtime is None or not runtime.arm64
                    or estimate is None):
                continue
            saving = estimate.savings.get("arm64", 0.0)
            arm = estimate.step("arm64")
            if arm is None or saving < threshold:
                continue
            before = estimate.step("provisioned_concurrency") or estimate.current
            yield self.finding(
                function,
                f"Lambda {function.name} runs {runtime.name} on x86_64, which also runs on "
                f"arm64: it would cost ${saving:,.2f}/month less there (threshold "
                f"${threshold:g}).",
                {
                    "runtime": runtime.name,
                    "architecture": "x86_64",
                    "usage": dict(estimate.usage),
                    "memory_mb": function.memory_mb,
                    "monthly_usd": {"x86_64": before.monthly_usd, "arm64": arm.monthly_usd},
                    "arithmetic": {
                        "x86_64": {line.name: line.formula for line in before.lines},
                        "arm64": {line.name: line.formula for line in arm.lines},
                        "saving": f"${before.monthly_usd:,.2f} - ${arm.monthly_usd:,.2f} = "
                                  f"${saving:,.2f}",
                    },
                    "threshold_usd": threshold,
                    "runtimes_table": table.describe(),
                },
                monthly_savings_usd=saving,
                savings_kind="arm64",
            )


# --------------------------------------------------------------------------- configuration


class DeprecatedRuntime(Check):
    id = "lambda.deprecated_runtime"
    title = "Lambda runtime deprecated or about to be"
    severity = Severity.HIGH
    category = Category.SECURITY
    rationale = (
        "After a runtime's deprecation date AWS no longer patches it: the language and OS "
        "receive no security fixes, and later AWS blocks creating and then updating functions "
        "on it, so even an urgent fix cannot be deployed without a runtime upgrade."
    )
    remediation = (
        "Upgrade the function to a supported runtime of the same language, test it, and "
        "deploy; for the newest available, see the evidence."
    )
    requires = frozenset({"lambda.functions"})
    subject_kinds = ("lambda-function",)
    parameters: ClassVar[Mapping[str, Param]] = {
        "warn_days": Param(120, "flag (medium) runtimes deprecated within this many days",
                           COUNT),
    }

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        table = lambda_runtimes()
        warn_days = int(ctx.number("warn_days"))
        for function in inventory.lambda_functions:
            if function.runtime is None:
                continue  # a container image brings its own runtime
            runtime = table.get(function.runtime)
            if runtime is None:
                yield self._unlisted(function, function.runtime, table, ctx)
                continue
            if runtime.deprecation is None:
                continue
            days = (runtime.deprecation - ctx.now).days
            if ctx.now >= runtime.deprecation:
                severity = Severity.HIGH
                # Whole days passed: -(deprecation - now).days would round a part day up.
                ago = (ctx.now - runtime.deprecation).days
                when = (f"was deprecated on {runtime.deprecation.date()} ({ago} days ago): "
                        "it no longer gets security patches")
            elif days <= warn_days:
                severity = Severity.MEDIUM
                when = (f"is deprecated on {runtime.deprecation.date()}, in {days} days "
                        f"(threshold {warn_days} days)")
            else:
                continue
            upgrade = _successor(runtime.name, ctx, warn_days)
            yield self.finding(
                function,
                f"Lambda {function.name} runs {runtime.name}, which {when}"
                + (f"; upgrade to {upgrade}." if upgrade else "."),
                {
                    "runtime": runtime.name,
                    "deprecation_date": runtime.deprecation.date().isoformat(),
                    "days_until_deprecation": days,
                    "warn_days": warn_days,
                    "suggested_runtime": upgrade,
                    "runtimes_table": table.describe(),
                },
                severity=severity,
            )


    def _unlisted(self, function: LambdaFunction, name: str, table: RuntimeTable,
                  ctx: CheckContext) -> Finding:
        """A runtime the dated table does not know. Older than every listed runtime of its
        language, it was retired before the oldest of them: deprecated, safely. Otherwise
        (newer, or a language the table lacks) it cannot be judged: unknown, never a pass."""
        oldest = table.predecessor_of_all(name)
        if oldest is None or oldest.deprecation is None or oldest.deprecation > ctx.now:
            return self.unknown(function, (
                f"Lambda {function.name} runs {name}, which the runtime table "
                f"(as of {table.as_of}) does not list"), {"runtime": name,
                                                          "runtimes_table": table.describe()})
        return self.finding(
            function,
            f"Lambda {function.name} runs {name}, which the runtime table (as of "
            f"{table.as_of}) does not list because it is older than every "
            f"{runtime_family(name)} runtime it does: the oldest listed, {oldest.name}, was "
            f"deprecated on {oldest.deprecation.date()}, so {name} was too, and gets no "
            "security patches.",
            {
                "runtime": name,
                "deprecation_date": None,
                "deprecated_before": oldest.deprecation.date().isoformat(),
                "rule": f"older than every listed {runtime_family(name)} runtime "
                        f"(oldest listed: {oldest.name})",
                "runtimes_table": table.describe(),
            },
            severity=Severity.HIGH,
        )


def _successor(runtime: str, ctx: CheckContext, warn_days: int) -> str | None:
    """The newest runtime of the same language that is not deprecated soon."""
    family = runtime_family(runtime)
    horizon = ctx.now + timedelta(days=warn_days)
    supported = [
        r.name for r in lambda_runtimes().runtimes.values()
        if runtime_family(r.name) == family and (r.deprecation is None or r.deprecation > horizon)
    ]
    return max(supported, key=version_key, default=None)


class SecretsInEnvironment(Check):
    id = "lambda.secrets_in_environment"
    title = "Plaintext secret in a Lambda environment variable"
    severity = Severity.HIGH
    category = Category.SECURITY
    rationale = (
        "Environment variables are shown to anyone who can read the function's configuration "
        "(lambda:GetFunction, the console), copied into every version and often into "
        "infrastructure code and CI logs. A secret kept there is readable far beyond the code "
        "that needs it, and cannot be rotated without a deploy."
    )
    remediation = (
        "Move the value to Secrets Manager or SSM Parameter Store (SecureString), grant the "
        "execution role read access to it, read it at start-up (the Parameters and Secrets "
        "Lambda extension caches it), then rotate the exposed secret."
    )
    requires = frozenset({"lambda.functions"})
    subject_kinds = ("lambda-function",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for function in inventory.lambda_functions:
            hints = find_secrets(function.environment)
            if not hints:
                continue
            # Names, reasons and masked hints only: the value never leaves auditor.secrets.
            yield self.finding(
                function,
                f"Lambda {function.name} keeps {len(hints)} environment variable(s) that look "
                f"like plaintext secrets: "
                + "; ".join(f"{h.name} ({h.reason})" for h in hints) + ".",
                {"variables": [{"name": h.name, "reason": h.reason, "masked": h.masked}
                               for h in hints]},
            )


class NoFailureDestination(Check):
    id = "lambda.no_failure_destination"
    title = "Asynchronously invoked Lambda with nowhere for failed events to go"
    severity = Severity.MEDIUM
    category = Category.RELIABILITY
    rationale = (
        "SNS and EventBridge invoke Lambda asynchronously: Lambda queues the event, retries a "
        "failing invocation twice, then discards it. With no on-failure destination and no "
        "dead-letter queue, an event that still fails (a bug, a downstream outage, a timeout) "
        "is lost without a trace, and nobody can replay it. Seen: SNS subscriptions and "
        "targets of enabled rules on each region's default event bus. Not seen (they would "
        "cost a call per bucket, bus or caller): S3 event notifications, rules on custom "
        "event buses, and code calling Invoke with InvocationType Event."
    )
    remediation = (
        "Give the function an on-failure destination for asynchronous invocation (an SQS "
        "queue, SNS topic, EventBridge bus or S3 bucket: `aws lambda "
        "put-function-event-invoke-config --destination-config "
        "'{\"OnFailure\":{\"Destination\":\"<arn>\"}}'`) or a dead-letter queue, and alarm "
        "on its depth."
    )
    requires = frozenset({"lambda.functions", "sns.subscriptions", "events.rule_targets",
                          "lambda.event_invoke_configs"})
    subject_kinds = ("lambda-function",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for function in inventory.lambda_functions:
            if function.dead_letter_target:
                continue
            lost = [i for i in function.async_invokers
                    if function.on_failure_destination(i.qualifier) is None]
            if not lost:
                continue
            names = [_invoker_name(i) for i in lost]
            yield self.finding(
                function,
                f"Lambda {function.name} is invoked asynchronously by {listing(names)}, with "
                "no on-failure destination and no dead-letter queue: an event that fails its "
                "retries is dropped.",
                {
                    "async_invokers": [
                        {"source": i.source, "arn": i.source_arn,
                         "qualifier": i.qualifier or "$LATEST"} for i in lost],
                    "dead_letter_target": None,
                    "on_failure_destinations": dict(function.on_failure_destinations),
                    "not_seen": ["S3 event notifications", "rules on custom event buses",
                                 "Invoke calls with InvocationType Event"],
                },
            )


def _invoker_name(invoker: AsyncInvoker) -> str:
    kind = "SNS topic" if invoker.source == "sns" else "EventBridge rule"
    name = invoker.source_arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return f"{kind} {name}" + (f" (:{invoker.qualifier})" if invoker.qualifier else "")


class FunctionUrlPublic(Check):
    id = "lambda.function_url_public"
    title = "Lambda function URL open to anyone"
    severity = Severity.HIGH
    category = Category.SECURITY
    rationale = (
        "A function URL with AuthType NONE runs the function for any caller on the internet, "
        "unsigned: whoever finds the URL can invoke it as often as they like, and pays with "
        "your concurrency and bill. With CORS allowing `*`, any web page can also call it "
        "from its visitors' browsers. Lambda lists URL configurations one function at a time, "
        "so only the functions CloudWatch shows called through a URL (UrlRequestCount, any "
        "request in the last two weeks) are read: a URL nobody called is not seen."
    )
    remediation = (
        "Set the URL's AuthType to AWS_IAM and sign the callers' requests (SigV4, or "
        "CloudFront with origin access control in front), or put API Gateway with an "
        "authorizer in front and delete the URL; narrow CORS AllowOrigins to the sites that "
        "need it. If the endpoint is public on purpose, check the function authenticates "
        "the request itself and cap it with reserved concurrency."
    )
    requires = frozenset({"lambda.function_urls"})
    subject_kinds = ("lambda-function-url",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for url in inventory.function_urls:
            if url.auth_type.upper() != "NONE":
                continue
            name = url.function_arn.rsplit(":", 1)[-1]
            any_site = "*" in url.cors_allow_origins
            cors = ("its CORS configuration lets any web site call it (AllowOrigins `*`)"
                    if any_site else
                    f"CORS allows {listing(url.cors_allow_origins)}"
                    if url.cors_allow_origins else "it sets no CORS origins")
            yield self.finding(
                url,
                f"Lambda {name}'s function URL takes unauthenticated requests from anyone "
                f"(AuthType NONE); {cors}.",
                {
                    "function": url.function_arn,
                    "url": url.url,
                    "auth_type": url.auth_type,
                    "cors_allow_origins": list(url.cors_allow_origins),
                    "cors_allows_any_origin": any_site,
                    "expected_auth_type": "AWS_IAM",
                },
            )


class LogRetentionUnset(Check):
    id = "lambda.log_retention_unset"
    title = "Lambda log group never expires"
    severity = Severity.LOW
    category = Category.COST
    rationale = (
        "A log group without a retention period keeps every line forever and bills its "
        "storage every month; the logs also keep whatever personal data they hold longer than "
        "any policy allows."
    )
    remediation = (
        "Set a retention period on the log group (`aws logs put-retention-policy "
        "--log-group-name ... --retention-in-days 30`), or create it with one in the function's "
        "infrastructure code."
    )
    requires = frozenset({"lambda.functions", "logs.log_groups"})
    subject_kinds = ("lambda-function",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        groups = {(g.account, g.region, g.name): g for g in inventory.log_groups}
        for function in inventory.lambda_functions:
            group = groups.get((function.account, function.region, function.log_group_name))
            # No group yet: the function has not logged, so there is nothing kept forever.
            if group is None or group.retention_days is not None:
                continue
            yield self.finding(
                function,
                f"Lambda {function.name} logs to {group.name}, which never expires "
                f"({group.stored_bytes / 1024**2:,.1f} MiB stored so far).",
                {"log_group": group.name, "log_group_arn": group.arn,
                 "retention_days": None, "stored_bytes": group.stored_bytes},
            )
