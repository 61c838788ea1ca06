"""`auditor estimate`: the seed article's scenario to the cent, line by line, with the article's
prices and with the embedded ones; the crossover; and one clear line for every bad flag."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.cli.estimate import parse_count

SMALL = ["--requests-per-month", "10M", "--tasks", "2", "--vcpu", "1", "--memory-gb", "2"]
LARGE = ["--requests-per-month", "500M", "--tasks", "10", "--vcpu", "2", "--memory-gb", "4"]
LAMBDA = ["--avg-duration-ms", "100", "--memory-mb", "512", "--arch", "arm64",
          "--front-door", "apigw-http"]
ARTICLE = ["--price", "lambda_arm_gb_s=0.0000133"]


@pytest.fixture(autouse=True)
def no_price_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A developer's own `pricing refresh` must not change these figures."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    yield


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, ["estimate", *args])
    assert result.exit_code == 0, result.output
    return result


def as_json(*args: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run(*args, "--format", "json").output)
    return document


def option(document: dict[str, Any], platform: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in document["options"] if o["platform"] == platform)
    return found


def test_the_article_figures_to_the_cent_with_its_prices() -> None:
    small = run(*SMALL, *LAMBDA, *ARTICLE, "--alb-monthly-usd", "21.20").output
    large = run(*LARGE, *LAMBDA, *ARTICLE, "--alb-monthly-usd", "66.20").output
    for text, lambda_total, fargate_total in ((small, "$18.65", "$93.28"),
                                              (large, "$932.50", "$787.00")):
        assert "lambda-arm" in text and f"{lambda_total}/month" in text
        assert f"{fargate_total}/month" in text
    # Line by line, as the article writes them.
    assert "10,000,000 x $0.20/M" in small and "$2.00" in small
    assert "10,000,000 x 0.1 s x 0.5 GB x $0.0000133/GB-s" in small and "$6.65" in small
    assert "10,000,000 x $1.00/M (HTTP API)" in small and "$10.00" in small
    assert ("2 task(s) x 730 h x (1 vCPU x $0.04048/vCPU-h + 2 GB x $0.004445/GB-h)" in small
            and "$72.08" in small and "$21.20" in small)
    assert "$100.00" in large and "$332.50" in large and "$500.00" in large
    assert "$720.80" in large and "$66.20" in large

    document = as_json(*LARGE, *LAMBDA, *ARTICLE, "--alb-monthly-usd", "66.20")
    lam, fargate = option(document, "lambda-arm"), option(document, "ecs-fargate")
    assert lam["breakdown"] == {"requests": 100.0, "duration": 332.5, "api_gateway": 500.0}
    assert lam["monthly_usd"] == 932.5
    assert fargate["breakdown"] == {"compute": 720.8, "load_balancer": 66.2}
    assert fargate["monthly_usd"] == 787.0
    assert document["cheapest"] == "ecs-fargate-arm"
    assert document["inputs"]["prices"]["overrides"] == "lambda_arm_gb_s=0.0000133"


def test_the_embedded_prices_and_the_alb_lcu_model() -> None:
    for flags, duration, total, compute, volume in (
            (SMALL, 6.67, 18.67, 72.08, 10e6), (LARGE, 333.34, 933.34, 720.80, 500e6)):
        document = as_json(*flags, *LAMBDA)
        lam, fargate = option(document, "lambda-arm"), option(document, "ecs-fargate")
        assert lam["breakdown"]["duration"] == duration
        assert lam["monthly_usd"] == total
        assert fargate["breakdown"]["compute"] == compute
        # 730 h x $0.0225 + LCUs: 10 KB a request at the average rate is the largest
        # dimension (GB processed an hour), one LCU per GB.
        average_rps = volume / (730 * 3600)
        lcu = average_rps * 3600 * 10_000 / 1e9
        alb = 730 * 0.0225 + 730 * lcu * 0.008
        assert fargate["breakdown"]["load_balancer"] == round(alb + 1e-9, 2)
        assert "LCU" in fargate["arithmetic"]["load_balancer"]
    assert option(as_json(*SMALL, *LAMBDA), "ecs-fargate")["breakdown"]["load_balancer"] == 17.23


def test_json_shape_follows_the_spec() -> None:
    document = as_json(*SMALL, *LAMBDA)
    assert set(document) >= {"inputs", "options", "cheapest", "crossover_requests_per_month",
                             "assumptions"}
    assert {o["platform"] for o in document["options"]} == {
        "lambda", "lambda-arm", "ecs-fargate", "ecs-fargate-arm", "ecs-fargate-spot", "eks"}
    for entry in document["options"]:
        assert set(entry) >= {"platform", "monthly_usd", "feasible", "blockers", "breakdown"}
        assert set(entry["arithmetic"]) == set(entry["breakdown"])
    assert document["cheapest"] == "lambda-arm"
    assert not option(document, "ecs-fargate-spot")["feasible"]
    assert document["inputs"]["requests_per_month"] == 10_000_000
    assert any("Per-task capacity assumed 500 req/s" in a for a in document["assumptions"])


def test_crossover_is_where_the_two_lines_meet() -> None:
    flags = [*SMALL, *LAMBDA, *ARTICLE, "--alb-monthly-usd", "21.20"]
    crossover = as_json(*flags)["crossover_requests_per_month"]
    # Lambda costs $1.865 a million (0.20 + 0.1 s x 0.5 GB x 0.0000133 x 1M + 1.00); the two
    # tasks and the ALB $93.2802 whatever the volume.
    assert crossover == math.ceil((2 * 730 * (0.04048 + 2 * 0.004445) + 21.20) / 1.865e-6)
    assert f"Crossover: {crossover:,} requests/month" in run(*flags).output
    below = as_json(*flags, "--requests-per-month", str(crossover - 200_000))
    above = as_json(*flags, "--requests-per-month", str(crossover + 200_000))
    assert option(below, "lambda-arm")["monthly_usd"] < option(below, "ecs-fargate")["monthly_usd"]
    assert option(above, "lambda-arm")["monthly_usd"] > option(above, "ecs-fargate")["monthly_usd"]


def test_tasks_sized_from_the_peak_when_not_stated() -> None:
    document = as_json("--requests-per-month", "1.5B", "--peak-rps", "3000", *LAMBDA[:-4])
    fargate = option(document, "ecs-fargate")
    # 3,000 req/s at 500 req/s per 1-vCPU task: 6 tasks.
    assert fargate["shape"]["tasks"] == 6
    assert "peak 3,000.0 req/s (stated with --peak-rps) / 500 req/s" in fargate["shape"]["sizing"]
    assert document["inputs"]["peak_basis"] == "stated with --peak-rps"
    crossover = document["crossover_requests_per_month"]
    assert crossover is not None
    at = as_json("--requests-per-month", str(crossover), "--peak-rps",
                 str(3000 * crossover / 1.5e9), *LAMBDA[:-4])
    assert option(at, "lambda")["monthly_usd"] == pytest.approx(
        option(at, "ecs-fargate")["monthly_usd"], abs=0.05)


def test_lambda_blockers() -> None:
    document = as_json("--requests-per-month", "1M", "--avg-duration-ms", "1200000",
                       "--memory-mb", "12000")
    blockers = option(document, "lambda")["blockers"]
    assert any("15 minutes" in b for b in blockers)
    assert any("10,240 MB" in b for b in blockers)
    assert document["cheapest"].startswith(("ecs", "eks"))


def test_stated_tasks_too_few_for_the_peak_are_not_an_option() -> None:
    """Recorded as a new user would run it: the peak needs 457% of the stated tasks, and the
    estimate named an overloaded Fargate option the cheapest."""
    document = as_json("--requests-per-month", "500M", "--avg-duration-ms", "200",
                       "--memory-mb", "512", "--tasks", "2", "--vcpu", "0.25",
                       "--memory-gb", "0.5")
    for platform in ("ecs-fargate", "ecs-fargate-arm", "eks"):
        [blocker] = option(document, platform)["blockers"]
        assert blocker.startswith("overloaded: 2 task(s) serve up to 125 req/s")
        assert "457%" in blocker and "at least 10 task(s)" in blocker
    assert document["cheapest"].startswith("lambda")
    enough = as_json("--requests-per-month", "500M", "--avg-duration-ms", "200",
                     "--memory-mb", "512", "--tasks", "10", "--vcpu", "0.25",
                     "--memory-gb", "0.5")
    assert option(enough, "ecs-fargate")["feasible"]


@pytest.mark.parametrize(("text", "value"), [
    ("10M", 1e7), ("1.5B", 1.5e9), ("500k", 5e5), ("2500000", 2.5e6), ("10_000_000", 1e7),
    ("1e7", 1e7), ("3G", 3e9)])
def test_request_counts(text: str, value: float) -> None:
    assert parse_count("--requests-per-month", text) == value


@pytest.mark.parametrize(("args", "message"), [
    (["--requests-per-month", "10X"], "--requests-per-month: '10X' is not a count"),
    ([], "--requests-per-month is required"),
    (["--requests-per-month", "10M", "--arch", "arm"], "--arch must be one of x86_64, arm64"),
    (["--requests-per-month", "10M", "--front-door", "cloudfront"], "--front-door must be one"),
    (["--requests-per-month", "10M", "--tasks", "1.5"], "--tasks: '1.5' is not a whole number"),
    (["--requests-per-month", "10M", "--vcpu", "64"], "no Fargate task size has 64 vCPU"),
    (["--requests-per-month", "10M", "--price", "lambda_arm_gb=1"],
     "did you mean lambda_arm_gb_s"),
    (["--requests-per-month", "10M", "--price", "nonsense"], "--price: 'nonsense' is not KEY"),
    (["--requests-per-month", "10M", "--memory-mb", "-5"], "--memory-mb must be a number >= 1"),
    (["--requests-per-month", "10M", "--format", "yaml"], "--format must be one of table, json"),
    (["--requests-per-month", "10M", "--discount", "fargat=0.4"], "did you mean 'fargate'?"),
    (["--requests-per-month", "10M", "--discount", "fargate=46"], "(did you mean 0.46?)"),
    (["--requests-per-month", "10M", "--discount", "fargate"], "is not PLATFORM=FRACTION"),
    (["--requests-per-month", "10M", "--discount", "ec2=0.3"], "prices no EC2 option"),
])
def test_bad_flags_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["estimate", *args])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output


DISCOUNTED = ["--discount", "fargate=0.46", "--discount", "lambda=17%"]
"""A 3-year Compute Savings Plan's rates: 46% off Fargate, 17% off Lambda."""


def test_no_discount_prices_every_option_at_list() -> None:
    document = as_json(*LARGE, *LAMBDA, *ARTICLE, "--alb-monthly-usd", "66.20")
    assert {o["rates"] for o in document["options"]} == {"list"}
    assert "discounts" not in document["inputs"]["prices"]


def test_a_compute_savings_plan_makes_fargate_cheaper_where_list_prices_say_lambda() -> None:
    flags = ["--requests-per-month", "40M", "--tasks", "2", *LAMBDA]
    listed, effective = as_json(*flags), as_json(*flags, *DISCOUNTED)
    costs = {name: {o["platform"]: o["monthly_usd"] for o in document["options"]}
             for name, document in (("list", listed), ("effective", effective))}
    assert listed["cheapest"] == "lambda-arm"
    assert (costs["list"]["lambda-arm"], costs["list"]["ecs-fargate-arm"]) == (74.67, 77.30)
    assert effective["cheapest"] == "ecs-fargate-arm"
    assert (costs["effective"]["lambda-arm"], costs["effective"]["ecs-fargate-arm"]) == (
        70.13, 50.77)
    # A plan discounts compute: Lambda's duration, not its requests or API Gateway.
    lam, fargate = option(effective, "lambda-arm"), option(effective, "ecs-fargate-arm")
    assert lam["breakdown"]["requests"] == option(listed, "lambda-arm")["breakdown"]["requests"]
    assert lam["arithmetic"]["duration"] == (
        "40,000,000 x 0.1 s x 0.5 GB x $0.0000133334/GB-s x (1 - 17%: stated with --discount)")
    assert lam["rates"] == "effective: 17% off Lambda: stated with --discount"
    assert fargate["rates"] == "effective: 46% off Fargate: stated with --discount"
    assert fargate["breakdown"]["load_balancer"] == option(
        listed, "ecs-fargate-arm")["breakdown"]["load_balancer"]
    assert option(effective, "ecs-fargate-spot")["rates"] == "list"
    assert (listed["crossover_requests_per_month"],
            effective["crossover_requests_per_month"]) == (49_536_401, 33_076_624)
    assert ("Effective rates change the answer: at list prices lambda-arm would be the cheapest "
            "($74.67 a month); with the discounts, ecs-fargate-arm is ($50.77)."
            in effective["assumptions"])
    assert effective["inputs"]["prices"]["discounts"] == (
        "46% off Fargate: stated with --discount; 17% off Lambda: stated with --discount")
    assert ("Rates: effective, 46% off Fargate: stated with --discount; 17% off Lambda: "
            "stated with --discount") in run(*flags, *DISCOUNTED).output
