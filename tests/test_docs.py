"""The catalogue is generated from the registry (`auditor checks --format markdown|toml`), so
a new check is documented the moment it is registered; nothing hand-kept can drift."""

from __future__ import annotations

import tomllib
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import main
from auditor.config import load
from auditor.cost.workloads import MODEL_PARAMETERS
from auditor.docs import checks_markdown, thresholds_toml
from auditor.engine import Registry
from auditor.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Registry.build(include_entry_points=False)


def test_every_check_has_its_section_with_thresholds_actions_and_remediation() -> None:
    page = checks_markdown(REGISTRY.checks)
    for check in REGISTRY.checks:
        section = page.split(f"\n## {check.id}\n", 1)[1].split("\n## ", 1)[0]
        assert check.title in section and check.rationale in section
        assert check.remediation in section
        for action in check().iam_actions:
            assert f"`{action}`" in section
        for name in check.parameters:
            assert f"| `{name}` |" in section


def test_defaults_are_written_as_in_the_toml_config() -> None:
    page = checks_markdown(REGISTRY.checks)
    assert "| `count_conditional` | `true` |" in page
    assert "| `min_azs` | `2` |" in page
    assert "| `cpu_max_percent` | `40.0` |" in page
    assert "| `idle_cpu_max_percent` | `5.0` |" in page


def test_the_thresholds_print_as_a_config_that_loads_and_holds_every_default(
        tmp_path: Path) -> None:
    printed = CliRunner().invoke(main, ["checks", "--format", "toml"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == thresholds_toml(REGISTRY.checks)
    config_file = tmp_path / "auditor.toml"
    config_file.write_text(printed.output)
    config = load(config_file)
    assert config.cost == {name: p.default for name, p in MODEL_PARAMETERS.items()}
    for check in REGISTRY.checks:
        assert config.thresholds.get(check.id, {}) == {
            name: p.default for name, p in check.parameters.items()}
    parsed = tomllib.loads(printed.output)
    assert set(parsed["thresholds"]) == {c.id for c in REGISTRY.checks if c.parameters}


def test_the_example_config_states_only_defaults() -> None:
    """Every setting of the table (`auditor.settings.SETTINGS`) is in the example: set to its
    default, or commented out when it has none; every threshold stated is at its default."""
    text = (ROOT / "config.example.toml").read_text()
    raw = tomllib.loads(text)
    example = load(ROOT / "config.example.toml")
    for setting in SETTINGS.values():
        table = raw.get(setting.section, {}) if setting.section else raw
        if setting.default is None:
            assert setting.config_key not in table, f"{setting.place} has no default to state"
            assert f"\n# {setting.config_key} = " in text, f"{setting.place} is not shown"
        else:
            assert setting.config_key in table, f"{setting.place} is not stated"
            assert getattr(example, setting.name) == setting.default, setting.place
    assert example.cost == {name: p.default for name, p in MODEL_PARAMETERS.items()}
    for check_id, given in example.thresholds.items():
        defaults = {n: p.default for n, p in REGISTRY.get(check_id).parameters.items()}
        assert given == {name: defaults[name] for name in given}, check_id


def test_the_markdown_page_prints_from_the_cli_for_the_checks_selected() -> None:
    printed = CliRunner().invoke(main, ["checks", "--format", "markdown", "--checks",
                                        "lambda.*"])
    assert printed.exit_code == 0, printed.output
    assert "\n## lambda.near_timeout\n" in printed.output
    assert "\n## ecs." not in printed.output
