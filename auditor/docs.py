"""The check catalogue, generated from the registry so that no copy of it can drift: as a
Markdown page (`auditor checks --format markdown`) and as the config's thresholds with their
defaults (`auditor checks --format toml`), ready to paste into a config file. A new check is
in both the moment it is registered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from auditor.cost.workloads import MODEL_PARAMETERS
from auditor.engine import CheckClass
from auditor.params import Param, ParamValue


def checks_markdown(checks: Sequence[CheckClass]) -> str:
    """Every check of the registry: an index table, then one section per check."""
    lines = [
        "# Checks",
        "",
        "Generated from the check registry by `auditor checks --format markdown`.",
        "Thresholds are set per check in the config file, under `[thresholds.\"<id>\"]`.",
        "",
        "| id | severity | category | title |",
        "|---|---|---|---|",
    ]
    lines += [f"| [`{c.id}`](#{_anchor(c.id)}) | {c.severity.value} | {c.category.value} | "
              f"{_cell(c.title)} |" for c in checks]
    lines += ["", "## The cost model", "",
              "Checks that report a saving read it from the cost model, which prices every "
              "workload once a scan and composes its savings by kind (idle, right-size, arm64, "
              "provisioned concurrency, extended support, migration) so that none is counted "
              "twice. Its assumptions are set in the config's `[cost]` table.", "",
              *_parameters(MODEL_PARAMETERS, "assumption")]
    for check in checks:
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


def thresholds_toml(checks: Sequence[CheckClass]) -> str:
    """Every configurable number as the config file takes it, each with its default and what
    it means: the cost model's `[cost]`, then each check's `[thresholds."<id>"]`."""
    def table(header: str, parameters: Mapping[str, Param]) -> list[str]:
        width = max(len(f"{name} = {_toml(p.default)}") for name, p in parameters.items())
        return [header, *(f"{f'{name} = {_toml(p.default)}':<{width}}  # {p.description}"
                          for name, p in parameters.items()), ""]

    lines = table("[cost]", MODEL_PARAMETERS)
    for check in checks:
        if check.parameters:
            lines += table(f'[thresholds."{check.id}"]', check.parameters)
    return "\n".join(lines)
