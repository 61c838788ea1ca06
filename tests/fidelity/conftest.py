"""The fidelity harnesses' budget and reach, in the test run's header.

`pytest_report_header` runs on the xdist controller, which collects nothing, so what it prints
is computed here from static data: the operations derived from `auditor.datasets` and the
example budget.
"""

from __future__ import annotations

import pytest

from tests.fidelity.operations import FUZZ_ENV, fuzz_examples, scan_operations


def pytest_report_header(config: pytest.Config) -> list[str]:
    operations = scan_operations()
    return [
        f"fidelity: {fuzz_examples()} generated accounts, derandomized ({FUZZ_ENV} sets the "
        "budget); one demo recording replayed once per injected failure",
        f"fidelity: {len(operations)} operations: {', '.join(map(str, operations))}",
    ]
