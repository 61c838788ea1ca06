"""docs/checks.md is generated from the registry and must match it."""

from __future__ import annotations

from pathlib import Path

from auditor.docs import REGENERATE, checks_markdown
from auditor.engine import Registry

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Registry.build(include_entry_points=False)


def test_committed_checks_page_is_current() -> None:
    committed = (ROOT / "docs" / "checks.md").read_text()
    assert committed == checks_markdown(REGISTRY), f"docs/checks.md is stale: run `{REGENERATE}`"


def test_every_check_has_its_section_with_thresholds_actions_and_remediation() -> None:
    page = checks_markdown(REGISTRY)
    for check in REGISTRY.checks:
        section = page.split(f"\n## {check.id}\n", 1)[1].split("\n## ", 1)[0]
        assert check.title in section and check.rationale in section
        assert check.remediation in section
        for action in check().iam_actions:
            assert f"`{action}`" in section
        for name in check.parameters:
            assert f"| `{name}` |" in section


def test_defaults_are_written_as_in_the_toml_config() -> None:
    page = checks_markdown(REGISTRY)
    assert "| `count_conditional` | `true` |" in page
    assert "| `min_azs` | `2` |" in page
    assert "| `cpu_max_percent` | `40.0` |" in page
    assert "| `idle_cpu_max_percent` | `5.0` |" in page
