"""No function of `auditor` or `checks` is more complex than radon's grade C (cyclomatic
complexity 20): a longer chain of decisions is split into functions that say what each step
is. Methods, nested functions and classes (their methods' average) are held to it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_rank, cc_visit
from radon.visitors import Class, Function

ROOT = Path(__file__).resolve().parent.parent
WORST_GRADE = "C"


def _blocks(blocks: list[Function | Class], outer: str = "") -> Iterator[tuple[str, int]]:
    """Each block's dotted name and complexity, closures and inner classes included."""
    for block in blocks:
        name = f"{outer}{block.fullname}"
        yield name, block.complexity
        if isinstance(block, Function):
            yield from _blocks(block.closures, f"{name}.")
        else:
            yield from _blocks(block.inner_classes, f"{name}.")


def _too_complex() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for path in sorted((*ROOT.joinpath("auditor").rglob("*.py"),
                        *ROOT.joinpath("checks").rglob("*.py"))):
        source = path.read_text(encoding="utf-8")
        for name, complexity in _blocks(cc_visit(source)):
            if cc_rank(complexity) > WORST_GRADE:
                found[(path.relative_to(ROOT).as_posix(), name)] = complexity
    return found


def test_no_function_is_above_grade_c() -> None:
    too_complex = _too_complex()
    assert not too_complex, (
        "above radon grade C (complexity > 20); split them into functions that name their "
        "steps: " + ", ".join(f"{path} {name} ({complexity})"
                              for (path, name), complexity in sorted(too_complex.items())))

