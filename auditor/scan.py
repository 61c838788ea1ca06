"""One scan, top to bottom: collect -> model -> checks -> cost -> report.

This is the library entry point the CLI calls; it never exits and never prints, and the report
it returns is the one the command puts out (suppressions and the baseline applied).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from auditor import custom
from auditor.accounts import (
    Shard,
    account_of,
    assumed_session,
    enabled_regions,
    organization_accounts,
    parse_shard,
)
from auditor.baseline import apply_baseline
from auditor.check import Check
from auditor.collect.base import Recorder
from auditor.collect.billing import collect_bills
from auditor.collect.cloudwatch import fetch_metrics
from auditor.collect.commitments import DATASETS as COMMITMENT_DATASETS
from auditor.collect.runner import Target, collect_inventory
from auditor.config import Config
from auditor.cost.bill import SOURCE, reconcile
from auditor.cost.priced import PricedWorkload
from auditor.cost.workloads import Costs, assumptions_from
from auditor.datasets import BILLING_DATASETS, OPTIMIZER_DATASETS
from auditor.engine import (
    MetricPlan,
    Registry,
    checks_affected,
    instantiate,
    needs_costs,
    plan_metrics,
    price_workloads,
    run_checks,
    validate_thresholds,
    wanted_datasets,
)
from auditor.errors import ConfigError, NothingCollected
from auditor.merge import merge
from auditor.metrics import MetricStore
from auditor.model import GLOBAL_REGION, CollectionError, Scope
from auditor.nightly import baseline_report
from auditor.pricing.book import PriceBook
from auditor.pricing.cache import load_price_book
from auditor.pricing.discounts import private
from auditor.ratelimit import RateLimits
from auditor.report.document import ErrorEntry, Report, Stats
from auditor.session import (
    UNREACHABLE,
    CallStats,
    ClientFactory,
    Hook,
    RetryPolicy,
    resume_calls,
    unreachable_message,
    worker_pool,
)
from auditor.suppress import Suppression, apply_suppressions, resource_tags

DEFAULT_REGION = "us-east-1"


def registry_for(config: Config) -> Registry:
    extra = [custom.build(spec) for spec in config.custom_checks]
    registry = Registry.build(config.checks_dirs, extra)
    for check_id in config.thresholds:
        if check_id not in registry.ids:
            raise ConfigError(f"[thresholds.\"{check_id}\"] names no known check; "
                              "run `auditor checks` to list them")
    validate_thresholds(registry.checks, config.thresholds)
    return registry


def select_checks(config: Config) -> list[Check]:
    registry = registry_for(config)
    return instantiate(registry.select(config.checks, config.skip_checks), config.thresholds)


def billing_datasets(config: Config) -> frozenset[str]:
    """The bill, with `--bill`, whatever checks run."""
    return BILLING_DATASETS if config.billing else frozenset()


def commitment_datasets(config: Config, checks: list[Check]) -> frozenset[str]:
    """Savings Plans, their coverage and Reserved Instances, with `--bill`, when the workloads
    they discount are priced."""
    return COMMITMENT_DATASETS if config.billing and needs_costs(checks) else frozenset()


def optimizer_datasets(config: Config, checks: list[Check]) -> frozenset[str]:
    """Compute Optimizer's recommendations, with `--compute-optimizer`, when the workloads
    they sit beside are priced."""
    return OPTIMIZER_DATASETS if config.compute_optimizer and needs_costs(checks) \
        else frozenset()


@dataclass(frozen=True)
class Environment:
    """Where the scan's AWS calls go: a boto3 session plus hooks (the demo's emulator)."""

    session: boto3.session.Session | None = None
    hooks: tuple[tuple[str, Hook], ...] = ()
    demo: bool = False
    limits: RateLimits | None = None
    """The request budgets every account's clients keep to; None: `api_rate_share` of AWS's
    documented rates, or none at all for the demo (its emulator is no one's AWS account)."""


def _limits(config: Config, env: Environment) -> RateLimits | None:
    if env.limits is not None or env.demo:
        return env.limits
    return RateLimits(config.api_rate_share)


def _session(config: Config, env: Environment) -> boto3.session.Session:
    if env.session is not None:
        return env.session
    try:
        return boto3.session.Session(profile_name=config.profile)
    except ProfileNotFound:
        raise ConfigError(f"AWS profile {config.profile!r} not found; check ~/.aws/config or "
                          "drop --profile") from None


def _account_id(factory: ClientFactory, region: str, first: bool = False) -> str:
    """The account the factory's credentials act in (botocore errors propagate). The scan's
    `first` call waits less for an endpoint that does not answer."""
    sts = factory.first_contact("sts", region) if first else factory.client("sts", region)
    account = sts.get_caller_identity().get("Account")
    if not isinstance(account, str) or not account:
        raise NothingCollected("sts:GetCallerIdentity answered without an account ID; check "
                               "the endpoint the credentials point at (AWS_ENDPOINT_URL)")
    return account


def _identify(factory: ClientFactory, region: str) -> str:
    try:
        return _account_id(factory, region, first=True)
    except UNREACHABLE as exc:
        # No endpoint answered: credentials are not the problem, the endpoint is.
        raise NothingCollected(
            unreachable_message(exc, factory.first_contact("sts", region))) from None
    except (ClientError, BotoCoreError) as exc:
        raise NothingCollected(
            f"cannot identify the AWS account ({type(exc).__name__}: {exc}); configure "
            "credentials (AWS_PROFILE, --profile or the environment) or try `auditor scan --demo`"
        ) from None


def _targets(config: Config, session: boto3.session.Session, stats: CallStats,
             recorder: Recorder, env: Environment, shard: Shard | None) -> list[Target]:
    """The accounts to scan, each with its own clients and regions, sliced to this shard.

    An account whose role cannot be assumed, or a requested region that is not enabled, is
    recorded in `errors` and skipped; the rest of the scan goes on.
    """
    retry = RetryPolicy(max_attempts=config.max_attempts, read_timeout=config.read_timeout)
    limits = _limits(config, env)
    home = ClientFactory(session, stats, retry, env.hooks)
    home_region = config.regions[0] if config.regions else (session.region_name or DEFAULT_REGION)
    home_account = _identify(home, home_region)
    if limits is not None:
        home = home.limited(limits, home_account)
    accounts: list[tuple[str, ClientFactory]] = [(home_account, home)]
    if config.org or config.account_roles:
        accounts = []
        for role_arn in _roles(config, home, home_region):
            account = account_of(role_arn)
            factory = ClientFactory(
                assumed_session(session, role_arn, config.external_id,
                                sts=lambda: home.client("sts", home_region)),
                stats, retry, env.hooks, limits, account)
            with recorder.loading(Scope(account, GLOBAL_REGION), (), "sts", "AssumeRole"):
                _account_id(factory, home_region)
                accounts.append((account, factory))
    targets = []
    for account, factory in accounts:
        regions = _regions(config, factory, Scope(account, home_region), recorder)
        if shard is not None:
            regions = [s.region for s in shard.select([Scope(account, r) for r in regions])]
        if regions:
            targets.append(Target(account, factory, tuple(regions)))
    return targets


def _roles(config: Config, home: ClientFactory, region: str) -> list[str]:
    if not config.org:
        for role_arn in config.account_roles:
            account_of(role_arn)
        return list(config.account_roles)
    if not config.role_name:
        raise ConfigError("--org needs --role-name: the role to assume in each account")
    try:
        accounts = organization_accounts(home.client("organizations", region))
    except (ClientError, BotoCoreError) as exc:
        raise NothingCollected(
            f"cannot list the organization's accounts ({exc}); run --org from the management "
            "account or a delegated administrator, with organizations:ListAccounts") from None
    if not accounts:
        raise NothingCollected(
            "the organization lists no ACTIVE account to scan; check that --org runs from its "
            "management account or a delegated administrator")
    return [f"arn:aws:iam::{account}:role/{config.role_name}" for account in accounts]


def _regions(config: Config, factory: ClientFactory, home: Scope, recorder: Recorder
             ) -> list[str]:
    """The regions to scan for one account. Asked regions that are not enabled for it are
    recorded as errors (they would fail every call) and left out."""
    wanted = list(config.regions) or [home.region]
    if not config.all_regions and wanted == [home.region] and not config.regions:
        return wanted
    enabled: list[str] | None = None
    with recorder.loading(Scope(home.account, home.region), (), "ec2", "DescribeRegions"):
        enabled = enabled_regions(factory.client("ec2", home.region))
    if enabled is None:
        return wanted
    if config.all_regions:
        return enabled
    for region in wanted:
        if region not in enabled:
            recorder.add(CollectionError(
                home.account, region, "ec2", "DescribeRegions", "RegionNotEnabled",
                f"region {region} is not enabled for account {home.account}; enable it in the "
                "account settings or drop it from --region", ()))
    return [region for region in wanted if region in enabled]


def scan(config: Config, env: Environment | None = None, now: datetime | None = None) -> Report:
    """Scan as `config` says, and judge the findings by its suppressions and its baseline:
    the report `auditor scan` puts out. The baseline (a report, or the latest of a directory
    or prefix) is read first, so that a bad file fails before any call."""
    baseline = baseline_report(config.baseline, config.profile)
    return judged(_scan(config, env, now), config.suppressions, baseline)


def judged(report: Report, suppressions: Sequence[Suppression], baseline: Report | None
           ) -> Report:
    """Suppressions first, then the baseline: a finding suppressed tonight is suppressed,
    not baselined (see `auditor.baseline.apply_baseline`)."""
    report = replace(report, findings=apply_suppressions(
        report.findings, suppressions, report.resource_tags, report.generated_at))
    return report if baseline is None else apply_baseline(report, baseline)


def _scan(config: Config, env: Environment | None, now: datetime | None) -> Report:
    env = env or Environment()
    resume_calls()  # an earlier scan in this process may have been interrupted
    started = time.monotonic()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    checks = select_checks(config)
    wanted = (wanted_datasets(checks) | optimizer_datasets(config, checks)
              | billing_datasets(config) | commitment_datasets(config, checks))
    prices = load_price_book(Path(config.pricing_cache).expanduser() if config.pricing_cache
                             else None,
                             use_cache=not env.demo, free_tier=config.free_tier
                             ).with_discounts(private(config.discounts,
                                                      "private pricing ([pricing.discounts])"))

    session = _session(config, env)
    stats = CallStats()
    recorder = Recorder()
    shard = parse_shard(config.shard)
    targets = _targets(config, session, stats, recorder, env, shard)
    run = _Run(config, env, now, tuple(checks), wanted, prices, shard, stats, started)
    if len(targets) < 2:
        return _scan_part(run, targets, recorder)[0]
    return _scan_accounts(run, targets, recorder)


@dataclass(frozen=True)
class _Run:
    """What every part of one scan shares: its settings, checks, prices and call counts."""

    config: Config
    env: Environment
    now: datetime
    checks: tuple[Check, ...]
    wanted: frozenset[str]
    prices: PriceBook
    shard: Shard | None
    stats: CallStats
    started: float


def _scan_accounts(run: _Run, targets: Sequence[Target], recorder: Recorder) -> Report:
    """An organization, account by account: each account is collected, judged and priced on
    its own, a few side by side (`max_workers // account_concurrency`), and its clients and
    inventory are let go once its part of the report is made; the parts are joined as shards
    are (`auditor.merge`). Memory grows with the accounts in flight, not the organization: a
    client alone is about 0.3 MB, and 100 accounts x 4 regions x 17 services would be 2 GB.
    Only when every account's calls all failed is the scan `NothingCollected`."""
    in_flight = max(1, run.config.max_workers // run.config.account_concurrency)

    def part(target: Target) -> tuple[Report, bool]:
        try:
            return _scan_part(run, [target], Recorder(), alone=False)
        finally:
            target.clients.release()

    with worker_pool(in_flight) as pool:
        parts = list(pool.map(part, targets))
    reports = [report for report, _ in parts]
    if all(failed for _, failed in parts):
        first = next(e for report in reports for e in report.errors)
        raise NothingCollected(_nothing_collected(first.service, first.operation, first.code,
                                                  first.message))
    joined = merge(reports)
    before = tuple(_error_entry(e, run.checks) for e in recorder.errors)
    return replace(joined, errors=(*before, *joined.errors), shard=_shard_name(run.shard),
                   stats=replace(joined.stats, api_calls=run.stats.total,
                                 api_calls_by_operation=run.stats.by_operation(),
                                 duration_s=time.monotonic() - run.started))


def _error_entry(error: CollectionError, checks: Sequence[Check],
                 plan: MetricPlan | None = None) -> ErrorEntry:
    """A failed call as the report lists it: with the checks it leaves unknown and the
    resources it left unread."""
    return ErrorEntry(error.account, error.region, error.service, error.operation, error.code,
                      error.message, tuple(checks_affected(error, checks, plan)),
                      (*error.unread, *error.resources))


def _shard_name(shard: Shard | None) -> str | None:
    return str(shard) if shard else None


def _nothing_collected(service: str, operation: str, code: str, message: str) -> str:
    return (f"every call failed, nothing was collected (first: {service}:{operation} {code}: "
            f"{message}); check the credentials' permissions against `auditor iam-policy`")


def _scan_part(run: _Run, targets: Sequence[Target], recorder: Recorder, alone: bool = True
               ) -> tuple[Report, bool]:
    """Collect, judge and price `targets`, and say whether every call failed: the whole scan
    (`alone`: then that is `NothingCollected`, before any further call), or one account of
    an organization's, which runs `account_concurrency` workers and does not count the
    scan's calls or time."""
    config, checks, now = run.config, list(run.checks), run.now
    workers = config.max_workers if alone else config.account_concurrency
    inventory = collect_inventory(targets, run.wanted, now, recorder, workers,
                                  config.lookback_days, config.account_concurrency)
    resources = sum(1 for _ in inventory.resources())
    failed = resources == 0 and bool(recorder.errors) and all(
        inventory.failed_datasets(scope) for scope in inventory.scopes)
    if alone and failed:
        first = recorder.errors[0]
        raise NothingCollected(_nothing_collected(first.service, first.operation, first.code,
                                                  first.message))

    # Whole UTC days of the window the metrics are read over: Cost Explorer bills by day.
    bill_start, bill_end = (moment.date() for moment in metric_window(now, config.lookback_days))
    bills = collect_bills(targets, run.wanted, bill_start, bill_end, recorder, now, workers)

    prices = run.prices
    clients = {target.account: target.clients for target in targets}
    plan = plan_metrics(checks, inventory, now, config.lookback_days, prices)
    metrics = _metrics(plan, config, now, clients, recorder, workers)
    # The metrics pass may have failed too; its errors make metric checks unknown.
    inventory = replace(inventory, errors=tuple(recorder.errors))
    costs = (price_workloads(inventory, metrics, plan, prices, assumptions_from(config.cost),
                             config.lookback_days, now)
             if needs_costs(checks) else Costs())
    verdicts = run_checks(checks, inventory, metrics, now, config.lookback_days, prices, plan,
                      costs)

    errors = tuple(_error_entry(e, checks, plan)
                   for e in (*inventory.errors, *verdicts.errors))
    workloads = tuple(PricedWorkload.of(w) for w in costs.estimates)
    return Report(
        generated_at=now,
        accounts=inventory.accounts,
        regions=inventory.regions,
        lookback_days=config.lookback_days,
        findings=verdicts.findings,
        errors=errors,
        stats=Stats(run.stats.total if alone else 0,
                    run.stats.by_operation() if alone else {},
                    time.monotonic() - run.started if alone else 0.0, resources,
                    len(metrics.series)),
        checks_run=tuple(c.id for c in checks),
        pricing=prices.describe(),
        workloads=workloads,
        demo=run.env.demo,
        resource_tags=resource_tags(inventory, verdicts.findings),
        shard=_shard_name(run.shard),
        billing=reconcile(bills, workloads, bill_start, bill_end,
                          SOURCE + (" (emulated)" if run.env.demo else ""))
        if config.billing else None,
    ), failed


def metric_window(now: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """Whole hours only, so every hourly bucket is complete."""
    end = now.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=lookback_days), end


def _metrics(plan: MetricPlan, config: Config, now: datetime, clients: dict[str, ClientFactory],
             recorder: Recorder, workers: int) -> MetricStore:
    queries = plan.queries()
    if not queries:
        return MetricStore()
    start, end = metric_window(now, config.lookback_days)
    return fetch_metrics(clients, queries, start, end, recorder, workers)
