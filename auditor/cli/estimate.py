"""`auditor estimate` (what one workload costs on every platform) and `auditor pricing
refresh` (current prices from the AWS Price List API into the local cache).

Flag values are parsed here rather than by click types, so that a bad value is one line on
stderr and exit 2 like every other usage error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import click
from botocore.exceptions import ProfileNotFound

from auditor.cli.common import fails_cleanly
from auditor.config import discount_fractions
from auditor.cost.model import FRONT_DOORS, LAMBDA_PLATFORMS, Assumptions
from auditor.cost.scenario import Scenario, estimate
from auditor.cost.text import render_estimate
from auditor.errors import ConfigError
from auditor.pricing.book import PriceBook
from auditor.pricing.cache import default_cache_path, load_price_book, write_cache
from auditor.pricing.discounts import Discount, private
from auditor.pricing.refresh import PRICING_REGION, refresh
from auditor.session import CallStats, ClientFactory
from auditor.settings import COST_PARAMETERS

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
_COUNT = re.compile(r"^(?P<number>\d+(\.\d*)?|\.\d+)(e(?P<exp>\d+))?\s*(?P<suffix>[kKmMbBgGtT]?)$")


def parse_count(flag: str, text: str) -> float:
    """`10M` -> 1e7, `1.5B` -> 1.5e9, `500k`, `10_000_000`, `1e7`."""
    cleaned = text.strip().replace("_", "").replace(",", "")
    match = _COUNT.match(cleaned)
    if not match:
        raise ConfigError(f"{flag}: {text!r} is not a count like 10M, 1.5B or 2500000")
    value = float(match["number"]) * 10 ** int(match["exp"] or 0)
    return float(value * _SUFFIX[match["suffix"].upper()])


def parse_number(flag: str, text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"{flag}: {text!r} is not a number") from None
    return value


def parse_tasks(text: str | None) -> int | None:
    if text is None:
        return None
    value = parse_number("--tasks", text)
    if value is None or not value.is_integer() or value < 1:
        raise ConfigError(f"--tasks: {text!r} is not a whole number of tasks >= 1")
    return int(value)


def parse_prices(items: tuple[str, ...]) -> dict[str, float]:
    prices: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--price: {item!r} is not KEY=VALUE, e.g. "
                              "--price lambda_arm_gb_s=0.0000133")
        number = parse_number(f"--price {key.strip()}", value)
        assert number is not None
        prices[key.strip()] = number
    return prices


def parse_discounts(items: tuple[str, ...]) -> dict[str, Discount]:
    """`fargate=0.46` or `fargate=46%` (repeatable): a share off a platform's list prices."""
    fractions: dict[str, float] = {}
    for item in items:
        family, sep, value = item.partition("=")
        text = value.strip()
        if not sep or not family.strip():
            raise ConfigError(f"--discount: {item!r} is not PLATFORM=FRACTION, e.g. "
                              "--discount fargate=0.46 or --discount lambda=17%")
        number = parse_number(f"--discount {family.strip()}", text.removesuffix("%"))
        assert number is not None
        fractions[family.strip()] = number / 100 if text.endswith("%") else number
    stated = discount_fractions("--discount", fractions)
    if "ec2" in stated:
        raise ConfigError("--discount ec2: auditor estimate prices no EC2 option; discount "
                          "lambda or fargate")
    return private(stated, "stated with --discount")


def _choice(flag: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{flag} must be one of {', '.join(allowed)}, got {value!r}")
    return value


@click.command("estimate")
@click.option("--requests-per-month", "requests", metavar="N",
              help="Requests a month: 10M, 1.5B, 2500000 (required).")
@click.option("--avg-duration-ms", "duration", metavar="MS", default="100", show_default=True,
              help="Average request duration in milliseconds.")
@click.option("--memory-mb", "memory_mb", metavar="MB", default="512", show_default=True,
              help="Lambda memory.")
@click.option("--arch", default="x86_64", show_default=True, metavar="x86_64|arm64",
              help="Lambda architecture of the Lambda line.")
@click.option("--front-door", default="apigw-http", show_default=True,
              metavar="|".join(FRONT_DOORS), help="What invokes the function.")
@click.option("--peak-rps", metavar="RPS",
              help="Peak requests a second (default: the average x the stated peak factor).")
@click.option("--tasks", metavar="N", help="Fargate tasks (default: sized from the peak rate).")
@click.option("--vcpu", default="1", show_default=True, help="vCPU per Fargate task.")
@click.option("--memory-gb", "memory_gb", default="2", show_default=True,
              help="GB of memory per Fargate task.")
@click.option("--price", "prices", multiple=True, metavar="KEY=VALUE",
              help="Override a price (repeatable), e.g. lambda_arm_gb_s=0.0000133.")
@click.option("--discount", "discounts", multiple=True, metavar="PLATFORM=FRACTION",
              help="Price a platform at effective rates (repeatable): a Savings Plan's or "
                   "private discount off its compute, e.g. fargate=0.46, lambda=17%.")
@click.option("--alb-monthly-usd", "alb", metavar="USD",
              help="State the ALB's monthly cost instead of modelling its LCUs.")
@click.option("--rps-per-vcpu", metavar="RPS",
              help="Requests a second one task vCPU serves (default 500).")
@click.option("--peak-factor", metavar="X", help="Peak over average rate (default 3).")
@click.option("--interruptible", is_flag=True,
              help="The work tolerates Fargate Spot interruptions (Spot becomes feasible).")
@click.option("--free-tier", is_flag=True, help="Apply Lambda's monthly free tier.")
@click.option("--price-cache", type=click.Path(path_type=Path, dir_okay=False),
              help="Price cache to read (default: the one `auditor pricing refresh` wrote).")
@click.option("--embedded-prices", is_flag=True,
              help="Ignore any price cache; use the embedded prices.")
@click.option("--format", "fmt", default="table", show_default=True, metavar="table|json")
@fails_cleanly
def estimate_command(requests: str | None, duration: str, memory_mb: str, arch: str,
                     front_door: str, peak_rps: str | None, tasks: str | None, vcpu: str,
                     memory_gb: str, prices: tuple[str, ...], discounts: tuple[str, ...],
                     alb: str | None,
                     rps_per_vcpu: str | None, peak_factor: str | None, interruptible: bool,
                     free_tier: bool, price_cache: Path | None, embedded_prices: bool,
                     fmt: str) -> None:
    """What one workload would cost a month on Lambda, ECS on Fargate and EKS, line by line,
    and the request volume at which Lambda and Fargate cost the same."""
    if requests is None:
        raise ConfigError("--requests-per-month is required, e.g. --requests-per-month 10M")
    _choice("--format", fmt, ("table", "json"))
    defaults = Assumptions()
    assumptions = Assumptions(
        peak_factor=_assumption("--peak-factor", peak_factor, defaults.peak_factor),
        rps_per_vcpu=_assumption("--rps-per-vcpu", rps_per_vcpu, defaults.rps_per_vcpu),
        interruptible=interruptible,
    )
    book: PriceBook = load_price_book(price_cache, use_cache=not embedded_prices,
                                      free_tier=free_tier)
    scenario = Scenario(
        requests_per_month=parse_count("--requests-per-month", requests),
        avg_duration_ms=_required("--avg-duration-ms", duration),
        memory_mb=_required("--memory-mb", memory_mb),
        arch=_choice("--arch", arch, tuple(LAMBDA_PLATFORMS)),
        front_door=_choice("--front-door", front_door, tuple(FRONT_DOORS)),
        peak_rps=parse_number("--peak-rps", peak_rps),
        tasks=parse_tasks(tasks),
        vcpu=_required("--vcpu", vcpu),
        memory_gb=_required("--memory-gb", memory_gb),
        alb_monthly_usd=parse_number("--alb-monthly-usd", alb),
        prices=book.with_prices(parse_prices(prices)).with_discounts(
            parse_discounts(discounts)),
        assumptions=assumptions,
    )
    result = estimate(scenario)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(render_estimate(result), nl=False)


def _required(flag: str, text: str) -> float:
    value = parse_number(flag, text)
    assert value is not None
    return value


def _assumption(flag: str, text: str | None, default: float) -> float:
    """A cost model assumption stated by flag, within the range `[cost]` declares for it."""
    value = parse_number(flag, text)
    if value is None:
        return default
    problem = COST_PARAMETERS[flag.removeprefix("--").replace("-", "_")].problem(value)
    if problem:
        raise ConfigError(f"{flag} {problem}")
    return value


@click.group("pricing")
def pricing_group() -> None:
    """The price book: embedded list prices, optionally refreshed into a local cache."""


@pricing_group.command("refresh")
@click.option("--region", "regions", multiple=True,
              help="Region to fetch prices for (repeatable; default us-east-1).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Cache file to write (default: the one scans read).")
@click.option("--profile", help="AWS profile (needs pricing:GetProducts).")
@click.option("--no-instances", is_flag=True,
              help="Skip EC2 instance prices (one call per instance type).")
@fails_cleanly
def refresh_command(regions: tuple[str, ...], output: Path | None, profile: str | None,
                    no_instances: bool) -> None:
    """Fetch current list prices from the AWS Price List API into the local price cache,
    which later scans and estimates read. Scans never fetch prices themselves."""
    try:
        session = boto3.session.Session(profile_name=profile)
    except ProfileNotFound:
        raise ConfigError(f"AWS profile {profile!r} not found") from None
    client = ClientFactory(session, CallStats()).client("pricing", PRICING_REGION)
    document = refresh(client, regions or ("us-east-1",), instances=not no_instances)
    path = output or default_cache_path()
    write_cache(path, document)
    for region, table in document["regions"].items():
        missing = f"; not found: {', '.join(table['missing'])}" if table["missing"] else ""
        click.echo(f"{region}: {len(table['prices'])} prices, {len(table['instances'])} "
                   f"instance types, published {table['as_of'] or 'unknown'}{missing}", err=True)
    click.echo(f"wrote {path}", err=True)
