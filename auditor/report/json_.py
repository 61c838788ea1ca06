"""The JSON report: the contract other tools and scheduled jobs read."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, TextIO

from auditor.report.document import Report, to_dict


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, sort_keys=False) + "\n"


def stream(report: Report, handle: TextIO) -> None:
    """Write straight to `handle`: a large account's report is tens of MB, and building it as
    one indented string first costs over 100 MB of memory at the peak of the scan."""
    json.dump(to_dict(report), handle, indent=2, sort_keys=False)
    handle.write("\n")


def schema() -> dict[str, Any]:
    """The JSON Schema the report follows, shipped inside the package."""
    text = resources.files("auditor.report").joinpath("report.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
