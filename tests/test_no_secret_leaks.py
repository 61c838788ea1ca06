"""Secret values found in environment variables never leave the process: not in any report
format, not on stdout or stderr, not in a --verbose log line or an error message."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import main
from auditor.config import FORMATS

PLANTED_VALUES = ("hunter2-demo-secret", "demo-warehouse-pass")


@pytest.mark.usefixtures("demo_cli")
def test_no_output_of_the_demo_holds_a_planted_secret(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", "--demo", "--verbose", "--output", str(tmp_path),
                                       *[arg for fmt in FORMATS for arg in ("--format", fmt)]])
    assert result.exit_code == 0, result.output
    written = sorted(tmp_path.iterdir())
    assert len(written) == len(FORMATS)
    texts = [path.read_text(encoding="utf-8") for path in written]
    texts += [result.stdout, result.stderr]
    for value in PLANTED_VALUES:
        assert not any(value in text for text in texts), value
    assert "auditor: DEBUG call lambda:ListFunctions us-east-1" in result.stderr
    # The secrets were found, by name: the check did read them.
    report = next(t for p, t in zip(written, texts, strict=False) if p.suffix == ".json")
    assert "DB_PASSWORD" in report and "WAREHOUSE_PASSWORD" in report
