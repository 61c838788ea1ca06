"""The `auditor` command: thin click wrappers over the library, and the only place that exits.

One module per command (or family of commands); each is registered on `main` here.
"""

from __future__ import annotations

import click

from auditor import __version__
from auditor.cli.checks import checks_command, iam_policy_command
from auditor.cli.estimate import estimate_command, pricing_group
from auditor.cli.merge import merge_command
from auditor.cli.report import diff_command, report_command
from auditor.cli.scan import scan_command
from auditor.cli.trend import trend_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compute-auditor")
def main() -> None:
    """Read-only auditor for AWS ECS, EKS and Lambda: what is broken or wasteful, with
    evidence, and what each workload would cost elsewhere."""


main.add_command(scan_command)
main.add_command(checks_command)
main.add_command(iam_policy_command)
main.add_command(report_command)
main.add_command(diff_command)
main.add_command(estimate_command)
main.add_command(pricing_group)
main.add_command(merge_command)
main.add_command(trend_command)
