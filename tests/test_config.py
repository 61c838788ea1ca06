"""The TOML config: every key documented in config.example.toml, strict validation."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

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


def test_example_documents_every_top_level_key() -> None:
    from auditor.config import _TOP

    text = EXAMPLE.read_text()
    for key in _TOP:
        assert f"{key} =" in text or f"[{key}" in text or f"[[{key}" in text, key


@pytest.mark.parametrize(("raw", "message"), [
    ({"lookbak_days": 3}, "unknown key 'lookbak_days'; did you mean 'lookback_days'?"),
    ({"lookback_days": "14"}, "lookback_days must be a whole number of days, got '14'"),
    ({"lookback_days": True}, "lookback_days must be a whole number"),
    ({"lookback_days": 0}, "lookback_days must be between 1 and 455"),
    ({"regions": "us-east-1"}, "regions must be a list of region names"),
    ({"regions": [1]}, "every item of regions must be a non-empty string"),
    ({"fail_on": "severe"}, "fail_on must be one of critical, high, medium, low, info"),
    ({"cost": {"peak_factr": 2}}, "[cost]: unknown key 'peak_factr'; did you mean 'peak_factor'?"),
    ({"cost": {"min_tasks": "two"}}, "[cost]: min_tasks must be a int, got 'two'"),
    ({"format": ["pdf"]}, "format 'pdf' is not one of"),
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
