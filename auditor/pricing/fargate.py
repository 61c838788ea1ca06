"""The valid Fargate task sizes, and the cheapest one that fits a load."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class FargateSize:
    cpu_units: int
    memory_mib: int

    @property
    def vcpu(self) -> float:
        return self.cpu_units / 1024

    @property
    def memory_gb(self) -> float:
        return self.memory_mib / 1024

    def __str__(self) -> str:
        return f"{self.vcpu:g} vCPU / {self.memory_gb:g} GB"


def _gib(low: int, high: int, step: int = 1) -> range:
    return range(low * 1024, high * 1024 + 1, step * 1024)


# CPU units -> the memory sizes (MiB) Fargate accepts with it.
_VALID: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(_gib(1, 4)),
    1024: tuple(_gib(2, 8)),
    2048: tuple(_gib(4, 16)),
    4096: tuple(_gib(8, 30)),
    8192: tuple(_gib(16, 60, 4)),
    16384: tuple(_gib(32, 120, 8)),
}


def valid_sizes() -> Iterator[FargateSize]:
    for cpu, memories in _VALID.items():
        for memory in memories:
            yield FargateSize(cpu, memory)


def is_valid(cpu_units: int, memory_mib: int) -> bool:
    return memory_mib in _VALID.get(cpu_units, ())


def cheapest_fitting(
    cpu_units_needed: float, memory_mib_needed: float, monthly_cost: Callable[[FargateSize], float]
) -> FargateSize | None:
    """The cheapest valid size with at least the CPU and memory asked for (None if too big)."""
    fitting = [s for s in valid_sizes()
               if s.cpu_units >= cpu_units_needed and s.memory_mib >= memory_mib_needed]
    return min(fitting, key=lambda s: (monthly_cost(s), s)) if fitting else None
