"""Placeholder until the collector lands."""

from auditor.collect.base import ScopeCollector
from auditor.model import Inventory


def collect(ctx: ScopeCollector) -> Inventory:
    return Inventory()
