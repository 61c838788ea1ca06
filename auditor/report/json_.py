"""The JSON report: the contract other tools and scheduled jobs read."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from auditor.report.document import Report, to_dict


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, sort_keys=False) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema the report follows, shipped inside the package."""
    text = resources.files("auditor.report").joinpath("report.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
