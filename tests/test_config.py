"""The TOML config: every key documented in config.example.toml, strict validation."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.config import Config, load, parse
from auditor.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def test_example_config_loads_and_equals_the_defaults_it_documents() -> None:
    config = load(EXAMPLE)
    defaults = Config()
    assert config.lookback_days == defaults.lookback_days
    assert config.max_workers == defaults.max_workers
    assert config.formats == defaults.formats
    assert len(config.custom_checks) == 1


def test_example_documents_the_cost_model_with_its_defaults() -> None:
    from auditor.cost.workloads import MODEL_PARAMETERS

    assert load(EXAMPLE).cost == {name: p.default for name, p in MODEL_PARAMETERS.items()}


@pytest.mark.parametrize(("raw", "message"), [
    ({"lookbak_days": 3}, "unknown key 'lookbak_days'; did you mean 'lookback_days'?"),
    ({"lookback_days": "14"}, "lookback_days must be a whole number of days, got '14'"),
    ({"lookback_days": True}, "lookback_days must be a whole number"),
    ({"lookback_days": 0}, "lookback_days must be between 1 and 455"),
    ({"regions": "us-east-1"}, "regions must be a list of region names"),
    ({"regions": [1]}, "regions has 1, which is not a non-empty string"),
    ({"lookback_days": 14.5}, "lookback_days must be a whole number of days, got 14.5"),
    ({"read_timeout": 0}, "read_timeout must be above 0 and at most 600, got 0"),
    ({"max_workers": 65}, "max_workers must be between 1 and 64, got 65"),
    ({"billing": {"enabled": "yes"}}, "[billing] enabled must be true or false, got 'yes'"),
    ({"fail_on": "severe"}, "fail_on must be one of critical, high, medium, low, info"),
    ({"cost": {"peak_factr": 2}}, "[cost]: unknown key 'peak_factr'; did you mean 'peak_factor'?"),
    ({"cost": {"min_tasks": "two"}}, "[cost]: min_tasks must be a number, got 'two'"),
    ({"cost": {"rps_per_vcpu": 0}}, "[cost]: rps_per_vcpu must be above 0, got 0"),
    ({"cost": {"peak_factor": 0.5}}, "[cost]: peak_factor must be at least 1, got 0.5"),
    ({"cost": {"target_peak_percent": 170}},
     "[cost]: target_peak_percent must be above 0 and at most 100, got 170"),
    ({"format": ["pdf"]}, "format has 'pdf', which is not one of table, json,"),
    ({"format": "json"}, "format must be a list of formats (table, json,"),
    ({"thresholds": {"ecs.x": 3}}, 'thresholds."ecs.x"] must be a table'),
    ({"custom_checks": [{"id": "custom.a"}]}, "custom_checks[0] is missing 'title'"),
    ({"custom_checks": [{"id": "custom.a", "title": "t", "severity": "bad",
                         "resource_type": "lambda-function", "condition": "a"}]},
     "severity must be one of"),
    ({"custom_checks": [{"id": "custom.a", "titel": "t"}]}, "did you mean 'title'"),
])
def test_bad_values_name_the_key_in_one_line(raw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        parse(raw, "auditor.toml")
    text = str(caught.value)
    assert message in text
    assert text.startswith("auditor.toml")
    assert "\n" not in text


def test_unreadable_and_invalid_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("regions = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)


def test_thresholds_round_trip() -> None:
    raw = tomllib.loads('[thresholds."ecs.task_overprovisioned"]\ncpu_max_percent = 30\n')
    assert parse(raw).thresholds == {"ecs.task_overprovisioned": {"cpu_max_percent": 30}}


@pytest.mark.parametrize(("threshold", "message"), [
    ("cpu_max_percent = -50", "cpu_max_percent must be above 0 and at most 100, got -50"),
    ("min_hours_of_data = 0", "min_hours_of_data must be at least 1, got 0"),
    ('cpu_max_percent = "forty"', "cpu_max_percent must be a number, got 'forty'"),
])
def test_a_threshold_out_of_its_declared_range_is_refused_before_the_scan(
        tmp_path: Path, threshold: str, message: str) -> None:
    """`cpu_max_percent = -50` used to turn the check off without a word."""
    config = tmp_path / "auditor.toml"
    config.write_text(f'[thresholds."ecs.task_overprovisioned"]\n{threshold}\n')
    result = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f'auditor: error: [thresholds."ecs.task_overprovisioned"] {message}']


def test_a_bad_threshold_of_a_check_not_selected_is_refused_all_the_same(tmp_path: Path) -> None:
    """A typo in the thresholds of a check run only some nights must not wait for that night."""
    config = tmp_path / "auditor.toml"
    config.write_text('[thresholds."ecs.task_overprovisioned"]\ncpu_max_percent = -50\n')
    result = CliRunner().invoke(main, ["scan", "--config", str(config),
                                       "--checks", "iam.shared_role"])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        'auditor: error: [thresholds."ecs.task_overprovisioned"] cpu_max_percent must be above '
        '0 and at most 100, got -50']


def test_the_config_and_the_estimate_flag_refuse_the_same_values_in_the_same_words() -> None:
    """`rps_per_vcpu = 0` used to size "... / 0 req/s per 1-vCPU task ... = 2 task(s)"."""
    with pytest.raises(ConfigError) as caught:
        parse({"cost": {"rps_per_vcpu": 0}}, "auditor.toml")
    from_file = str(caught.value).split("rps_per_vcpu ", 1)[1]
    flag = CliRunner().invoke(main, ["estimate", "--requests-per-month", "10M",
                                     "--rps-per-vcpu", "0"])
    assert flag.exit_code == 2, flag.output
    assert flag.stderr.splitlines() == ["auditor: error: --rps-per-vcpu must be above 0, got 0.0"]
    assert from_file.split(", got")[0] == "must be above 0"
    assert CliRunner().invoke(main, ["estimate", "--requests-per-month", "10M",
                                     "--peak-factor", "0.5"]).stderr.splitlines() == [
        "auditor: error: --peak-factor must be at least 1, got 0.5"]
