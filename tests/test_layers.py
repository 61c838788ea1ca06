"""The layers import one way: collect -> model -> checks -> cost -> report, as the pipeline
reads, with the CLI on top. Each module of `auditor` (and the `checks` package) may import
only from its own layer or below; a module imported lazily inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS: tuple[frozenset[str], ...] = tuple(frozenset(layer.split()) for layer in (
    "errors params findings model datasets files ratelimit",
    "metrics data policy secrets session accounts suppress network databases",
    "collect pricing progress",
    "cost",
    "check config settings",
    "checks custom",
    "engine",
    "report",
    "scan baseline merge deliver nightly",
    "cli demo docs",
))
"""Bottom to top: a unit may import its own layer and those below it."""


def unit(path: Path) -> str:
    """`auditor/cost/model.py` -> `cost`; `auditor/scan.py` -> `scan`; `checks/...` -> checks."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "checks" if parts[0] == "checks" else parts[1]


def imported(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and
                 not node.level else
                 [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            if name.startswith("auditor."):
                found.add(name.split(".")[1])
            elif name == "checks" or name.startswith("checks."):
                found.add("checks")
    return found


def level(name: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if name in layer)


def test_every_unit_has_a_layer() -> None:
    units = {unit(p) for p in [*ROOT.glob("auditor/**/*.py"), *ROOT.glob("checks/*.py")]}
    units -= {"__init__", "__main__"}
    assert units == set().union(*LAYERS)


def test_every_import_goes_down_or_across() -> None:
    upward: list[str] = []
    for path in sorted([*ROOT.glob("auditor/**/*.py"), *ROOT.glob("checks/*.py")]):
        here = unit(path)
        if here in ("__init__", "__main__"):
            continue
        for target in sorted(imported(ast.parse(path.read_text())) - {here}):
            if level(target) > level(here):
                upward.append(f"{path.relative_to(ROOT)} ({here}) imports {target}")
    assert upward == []
