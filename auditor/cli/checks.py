"""`auditor checks` and `auditor iam-policy`: what the selected checks do and need."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from auditor.cli.common import fails_cleanly, load_config, option, selection_options
from auditor.config import with_flags
from auditor.datasets import ACCOUNT_ACTIONS, actions_for
from auditor.deliver.clients import delivery_policy
from auditor.deliver.plan import targets
from auditor.docs import checks_markdown, thresholds_toml
from auditor.scan import (
    billing_datasets,
    commitment_datasets,
    optimizer_datasets,
    registry_for,
    select_checks,
)


@click.command("checks")
@selection_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown", "toml"]),
              default="table", show_default=True,
              help="markdown: the full catalogue as a page; toml: every threshold with its "
                   "default, as the config file takes it.")
@fails_cleanly
def checks_command(config_path: Path | None, fmt: str, **selection: Any) -> None:
    """List the checks: id, severity, category, title and the IAM actions each needs."""
    config = with_flags(load_config(config_path), selection)
    registry = registry_for(config)
    selected = registry.select(config.checks, config.skip_checks)
    if fmt in ("markdown", "toml"):
        render = checks_markdown if fmt == "markdown" else thresholds_toml
        click.echo(render(selected), nl=False)
        return
    rows = [
        {"id": c.id, "severity": c.severity.value, "category": c.category.value,
         "title": c.title, "source": registry.source(c.id),
         "iam_actions": sorted(c(None).iam_actions),
         "parameters": {name: p.default for name, p in c.parameters.items()},
         "rationale": c.rationale, "remediation": c.remediation}
        for c in selected
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(tabulate(
        [[r["id"], r["severity"], r["category"], r["title"], ", ".join(r["iam_actions"])]
         for r in rows],
        headers=["id", "severity", "category", "title", "IAM actions"],
        maxcolwidths=[None, None, None, 40, 60],
    ))


@click.command("iam-policy")
@selection_options
@option("compute_optimizer", help="Include what `scan --compute-optimizer` reads.")
@option("billing", help="Include what `scan --bill` reads (Cost Explorer, Savings Plans, "
                        "Reserved Instances).")
@click.option("--delivery", is_flag=True,
              help="Print instead the policy of the deliveries' writes (sns:Publish, "
                   "ses:SendEmail, securityhub:BatchImportFindings), for a role of their own "
                   "or beside the read-only one; sns:Publish only on the config's and "
                   "--notify's topics when any is named.")
@option("notify", help="With --delivery: an sns:TOPIC_ARN target to allow sns:Publish on.")
@fails_cleanly
def iam_policy_command(config_path: Path | None, delivery: bool, **flags: Any) -> None:
    """Print the least-privilege, read-only IAM policy the selected checks need (with
    --delivery, the policy of what the deliveries write)."""
    config = with_flags(load_config(config_path), flags)
    if delivery:
        topics = [t.address for t in targets(config) if t.kind == "sns"]
        click.echo(json.dumps(delivery_policy(topics), indent=2))
        return
    selected = select_checks(config)
    actions = set(ACCOUNT_ACTIONS) | actions_for(optimizer_datasets(config, selected)
                                                 | billing_datasets(config)
                                                 | commitment_datasets(config, selected))
    for check in selected:
        actions |= check.iam_actions
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ComputeAuditorReadOnly", "Effect": "Allow",
                       "Action": sorted(actions), "Resource": "*"}],
    }
    click.echo(json.dumps(policy, indent=2))
