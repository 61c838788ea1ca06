"""The check catalogue as Markdown, generated from the registry so that it cannot drift.

`python -m auditor.docs > docs/checks.md` regenerates the committed page; a test fails when
the committed page differs from what the registry says.
"""

from __future__ import annotations

from auditor.check import ParamValue
from auditor.engine import CheckClass, Registry

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
    for check in registry.checks:
        lines += ["", *_section(check)]
    return "\n".join(lines) + "\n"


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
        lines += ["| threshold | default | meaning |", "|---|---|---|"]
        lines += [f"| `{name}` | `{_toml(param.default)}` | {_cell(param.description)} |"
                  for name, param in check.parameters.items()]
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
