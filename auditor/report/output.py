"""Rendering by format name, and writing reports atomically with owner-only permissions."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from auditor.errors import ReportError
from auditor.report import json_, table
from auditor.report.document import Report

RENDERERS: dict[str, tuple[Callable[[Report], str], str]] = {
    "table": (table.render, "txt"),
    "json": (json_.render, "json"),
}


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt][0](report)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file in the same directory and rename, so readers never see half a
    report; mode 0600 because reports name resources and roles."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def write_all(report: Report, formats: Sequence[str], output: Path) -> list[Path]:
    """One format to a file; several formats to a directory, one `report.<ext>` each."""
    if len(formats) == 1 and not output.is_dir():
        write_atomic(output, render(report, formats[0]))
        return [output]
    if output.exists() and not output.is_dir():
        raise ReportError(f"--output {output} is a file, but {len(formats)} formats were asked "
                          "for; give a directory")
    written = []
    for fmt in formats:
        path = output / f"report.{RENDERERS[fmt][1]}"
        write_atomic(path, render(report, fmt))
        written.append(path)
    return written
