"""Settings and parameters are declared once, with their ranges, and every reader uses them."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.cli.scan import scan_command
from auditor.config import Config, parse, with_flags
from auditor.engine import Registry
from auditor.params import Param, Range, is_number
from auditor.settings import COST_PARAMETERS, SETTINGS, Notify

REGISTRY = Registry.build(include_entry_points=False)
DECLARED = [(f"[cost] {name}", param) for name, param in COST_PARAMETERS.items()] + [
    (f'[thresholds."{check.id}"] {name}', param)
    for check in REGISTRY.checks for name, param in check.parameters.items()]


@pytest.mark.parametrize(("key", "param"), DECLARED, ids=[key for key, _ in DECLARED])
def test_every_number_declares_a_range_that_holds_its_default(key: str, param: Param) -> None:
    if is_number(param.default):
        assert param.range is not None, f"{key} declares no range"
        assert param.problem(param.default) is None
    else:
        assert param.range is None


@pytest.mark.parametrize(("span", "words", "inside", "outside"), [
    (Range(0, 100), "between 0 and 100", (0, 100, 42.5), (-0.1, 100.5)),
    (Range(0, 100, low_open=True), "above 0 and at most 100", (0.01, 100), (0, -50)),
    (Range(low=1), "at least 1", (1, 10**9), (0, 0.99)),
    (Range(low=0, low_open=True), "above 0", (1e-9,), (0, -1)),
    (Range(high=600), "at most 600", (-5, 600), (600.1,)),
])
def test_a_range_says_what_it_holds(span: Range, words: str, inside: tuple[float, ...],
                                    outside: tuple[float, ...]) -> None:
    assert str(span) == words
    assert all(value in span for value in inside)
    assert not any(value in span for value in outside)


def test_a_parameter_names_the_type_then_the_range() -> None:
    percent = Param(40.0, "flag below this", Range(0, 100, low_open=True))
    assert percent.problem(30) is None
    assert percent.problem(True) == "must be a number, got True"
    assert percent.problem("40") == "must be a number, got '40'"
    assert percent.problem(-50) == "must be above 0 and at most 100, got -50"
    assert Param(True, "a switch").problem(1) == "must be true or false, got 1"


def test_the_config_takes_its_defaults_from_the_table() -> None:
    defaults = Config()
    for setting in SETTINGS.values():
        assert getattr(defaults, setting.name) == setting.default, setting.name
    structured = {"thresholds", "cost", "custom_checks", "suppressions", "discounts"}
    assert {f.name for f in fields(Config)} == set(SETTINGS) | structured


def test_every_flag_of_the_table_is_an_option_of_scan_with_its_default_in_the_help() -> None:
    by_name = {param.name: param for param in scan_command.params}
    for setting in SETTINGS.values():
        if setting.flag is None:
            assert setting.name not in by_name
            continue
        param = by_name[setting.name]
        assert isinstance(param, click.Option)
        assert setting.flag in param.opts, setting.name
        assert param.multiple == setting.repeatable
        if setting.negatable:
            assert f"--no-{setting.flag[2:]}" in param.secondary_opts
    shown = CliRunner().invoke(main, ["scan", "--help"], terminal_width=200).output
    assert "Days of CloudWatch history to judge by (default 14)." in shown
    assert "Parallel API workers (default 8)." in shown
    assert "Output format (repeatable; default table)." in shown


@pytest.mark.parametrize(("flag", "key", "value", "words"), [
    ("--lookback-days", "lookback_days", 0,
     "must be between 1 and 455 (CloudWatch keeps hourly data 455 days), got 0"),
    ("--max-workers", "max_workers", 65, "must be between 1 and 64, got 65"),
    ("--api-rate-share", "api_rate_share", 0,
     "must be above 0 and at most 1 (a share of AWS's rates), got 0"),
    ("--api-rate-share", "api_rate_share", 1.5,
     "must be above 0 and at most 1 (a share of AWS's rates), got 1.5"),
    ("--account-concurrency", "account_concurrency", 0, "must be between 1 and 64, got 0"),
])
def test_a_flag_and_the_config_refuse_a_value_out_of_range_in_the_same_words(
        flag: str, key: str, value: float, words: str, tmp_path: Path) -> None:
    config = tmp_path / "auditor.toml"
    config.write_text(f"{key} = {value}\n")
    from_file = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert from_file.exit_code == 2
    assert from_file.stderr.splitlines() == [f"auditor: error: {config}: {key} {words}"]
    from_flag = CliRunner().invoke(main, ["scan", flag, str(value)])
    assert from_flag.exit_code == 2
    assert f"Invalid value for '{flag}': {words}" in from_flag.stderr


def test_flags_win_over_the_config_and_only_when_given() -> None:
    config = parse({"regions": ["eu-west-1"], "checks_dirs": ["team"], "lookback_days": 30,
                    "billing": {"enabled": True}, "checks": ["ecs.*"]})
    unchanged = with_flags(config, {"regions": (), "lookback_days": None, "billing": None,
                                    "checks_dirs": (), "checks": ()})
    assert unchanged == config
    flagged = with_flags(config, {"regions": ("us-east-1",), "lookback_days": 7,
                                  "billing": False, "checks_dirs": (Path("more"),),
                                  "checks": ("iam.*, network.*", "lambda.x")})
    assert flagged.regions == ("us-east-1",)
    assert flagged.lookback_days == 7
    assert flagged.billing is False
    assert flagged.checks_dirs == (Path("team"), Path("more")), "a flag adds directories"
    assert flagged.checks == ("iam.*", "network.*", "lambda.x")


def test_notify_flags_add_to_the_configs_targets_and_never_show_a_webhook() -> None:
    topic = "sns:arn:aws:sns:us-east-1:123456789012:nightly"
    config = parse({"notify": [topic, {"target": "email:ops@example.com",
                                       "min_severity": "high", "only_new": True}]})
    hook = "slack+https://hooks.slack.com/services/T0/B0/SECRET"
    flagged = with_flags(config, {"notify": (hook,)})
    assert flagged.notify == (Notify(topic), Notify("email:ops@example.com", "high", True),
                              Notify(hook))
    assert "SECRET" not in repr(flagged)
    assert with_flags(config, {"notify": ()}) == config
