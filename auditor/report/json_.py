"""The JSON report: the contract other tools and scheduled jobs read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any, TextIO

from auditor.report.document import Report, sections, to_dict


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2, sort_keys=False) + "\n"


def stream(report: Report, handle: TextIO) -> None:
    """Write straight to `handle` the same text as `render`, one finding and one workload at
    a time: a large account's report is tens of MB, and neither the text nor the document
    is ever held whole."""
    encode = json.JSONEncoder(indent=2, sort_keys=False).encode
    handle.write("{")
    for index, (key, value) in enumerate(sections(report).items()):
        handle.write(f"{',' if index else ''}\n  {encode(key)}: ")
        if not isinstance(value, Iterator):
            handle.write(_nested(encode(value), 1))
            continue
        opened = False
        for entry in value:
            handle.write(f"{',' if opened else '['}\n    {_nested(encode(entry), 2)}")
            opened = True
        handle.write("\n  ]" if opened else "[]")
    handle.write("\n}\n")


def _nested(text: str, level: int) -> str:
    """Encoded JSON moved `level` indents in. JSON text has no raw newline inside a string
    (the encoder escapes them), so every newline starts a line of the structure."""
    return text.replace("\n", "\n" + "  " * level)


def schema() -> dict[str, Any]:
    """The JSON Schema the report follows, shipped inside the package."""
    text = resources.files("auditor.report").joinpath("report.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
