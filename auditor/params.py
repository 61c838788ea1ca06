"""Configurable numbers: a check's thresholds and the cost model's assumptions are declared
the same way, with a default and what it means (shown in docs and config.example.toml), and
read from the config file."""

from __future__ import annotations

from dataclasses import dataclass

ParamValue = int | float | str | bool


@dataclass(frozen=True)
class Param:
    """A configurable value: its default and what it means."""

    default: ParamValue
    description: str
