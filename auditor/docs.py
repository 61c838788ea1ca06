"""The check catalogue as Markdown, generated from the registry so that it cannot drift.

`python -m auditor.docs > docs/checks.md` regenerates the committed page; a test fails when
the committed page differs from what the registry says.
"""

from __future__ import annotations

from collections.abc import Mapping

from auditor.cost.workloads import MODEL_PARAMETERS
from auditor.engine import CheckClass, Registry
from auditor.params import Param, ParamValue

REGENERATE = "python -m auditor.docs > docs/checks.md"


def checks_markdown(registry: Registry) -> str:
    """Every check of the registry: an index table, then one section per check."""
    lines = [
        "# Checks",
        "",
        f"Generated from the check registry by `{REGENERATE}`; do not edit by hand.",
        "Thresholds are set per check in the config file, under `[thresholds.\"<id>\"]`.",
        "",
        "| id | severity | category | title |",
        "|---|---|---|---|",
    ]
    lines += [f"| [`{c.id}`](#{_anchor(c.id)}) | {c.severity.value} | {c.category.value} | "
              f"{_cell(c.title)} |" for c in registry.checks]
    lines += ["", "## The cost model", "",
              "Checks that report a saving read it from the cost model, which prices every "
              "workload once a scan and composes its savings by kind (idle, right-size, arm64, "
              "provisioned concurrency, extended support, migration) so that none is counted "
              "twice. Its assumptions are set in the config's `[cost]` table.", "",
              *_parameters(MODEL_PARAMETERS, "assumption")]
    for check in registry.checks:
        lines += ["", *_section(check)]
    return "\n".join(lines) + "\n"


def _parameters(parameters: Mapping[str, Param], what: str = "threshold") -> list[str]:
    return [f"| {what} | default | meaning |", "|---|---|---|"] + [
        f"| `{name}` | `{_toml(param.default)}` | {_cell(param.description)} |"
        for name, param in parameters.items()]


def _section(check: CheckClass) -> list[str]:
    lines = [
        f"## {check.id}",
        "",
        f"**{check.title}** · severity {check.severity.value} · category "
        f"{check.category.value} · judges {', '.join(f'`{k}`' for k in check.subject_kinds)}",
        "",
        check.rationale,
        "",
    ]
    if check.parameters:
        lines += _parameters(check.parameters)
    else:
        lines.append("No thresholds.")
    actions = sorted(check().iam_actions)
    lines += [
        "",
        f"IAM actions: {', '.join(f'`{a}`' for a in actions)}",
        "",
        f"Remediation: {check.remediation}",
    ]
    return lines


def _anchor(check_id: str) -> str:
    """GitHub's heading anchor: lower case, dots and other punctuation dropped."""
    return "".join(ch for ch in check_id.lower() if ch.isalnum() or ch in "-_")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _toml(value: ParamValue) -> str:
    """The default as it is written in the TOML config."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


if __name__ == "__main__":
    print(checks_markdown(Registry.build(include_entry_points=False)), end="")
