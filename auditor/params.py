"""Configurable numbers: a check's thresholds and the cost model's assumptions are declared
the same way, with a default, what it means and the values it may take (shown in docs and
config.example.toml), and read from the config file or a flag. A value outside its range is
refused in one line naming the key, the value and the range, wherever it was given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

ParamValue = int | float | str | bool


@dataclass(frozen=True)
class Range:
    """The numbers a value may take: bounds inclusive unless `open` on that side."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None and not (self.low_open
                                                                   or self.high_open):
            return f"between {self.low:g} and {self.high:g}"
        parts = []
        if self.low is not None:
            parts.append(f"{'above' if self.low_open else 'at least'} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'below' if self.high_open else 'at most'} {self.high:g}")
        return " and ".join(parts) or "any number"


def at_least(low: float) -> Range:
    return Range(low=low)


def above(low: float) -> Range:
    return Range(low=low, low_open=True)


def between(low: float, high: float) -> Range:
    return Range(low=low, high=high)


PERCENT = between(0, 100)
"""A share in percent: 0 to 100."""
SOME_PERCENT = Range(low=0, high=100, low_open=True)
"""A share in percent that must be more than nothing (0 would turn the check off)."""
FRACTION = between(0, 1)
COUNT = at_least(0)
"""A count, a number of days or dollars: never negative."""
HOURS_OF_DATA = at_least(1)
"""Hourly datapoints needed before judging: at least one."""


def is_number(value: object) -> TypeGuard[int | float]:
    """int or float, and not a bool (TOML booleans are not numbers, whatever Python says)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """A configurable value: its default, what it means and, for a number, its range."""

    default: ParamValue
    description: str
    range: Range | None = None

    @property
    def kind(self) -> str:
        """What the value must be, in the config file's terms."""
        if isinstance(self.default, bool):
            return "true or false"
        if is_number(self.default):
            return "a number"
        return "a string"

    def problem(self, value: object) -> str | None:
        """What is wrong with `value` for this parameter (`must be ..., got ...`), or None."""
        if isinstance(self.default, bool) or isinstance(value, bool):
            fits = isinstance(self.default, bool) and isinstance(value, bool)
        elif is_number(self.default):
            fits = is_number(value)
        else:
            fits = isinstance(value, type(self.default))
        if not fits:
            return f"must be {self.kind}, got {value!r}"
        if self.range is not None and is_number(value) and value not in self.range:
            return f"must be {self.range}, got {value!r}"
        return None
