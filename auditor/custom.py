"""Declarative checks from the config: a JMESPath condition over one resource type.

JMESPath only evaluates expressions over data, so a custom check cannot run code. The
resource is shown to the expression as its inventory record (field names as in
`auditor.model`, e.g. `memory_mb`, `runtime`, `tags.team`). Findings never echo the values
the condition read, only the condition itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, cast

import jmespath
from jmespath.exceptions import JMESPathError

from auditor.check import Check, CheckContext
from auditor.config import CustomCheckSpec
from auditor.datasets import datasets_listing, tag_datasets
from auditor.errors import ConfigError
from auditor.findings import Category, Finding, Severity
from auditor.model import Inventory, Resource


def as_document(value: Any) -> Any:
    """A record as plain JSON-like data, for JMESPath."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        document = {f.name: as_document(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, Resource):
            document["kind"] = value.kind
        return document
    if isinstance(value, Mapping):
        return {str(k): as_document(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [as_document(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def build(spec: CustomCheckSpec) -> type[Check]:
    where = f"custom check {spec.id}"
    if "." not in spec.id:
        raise ConfigError(f"{where}: id must be namespaced like 'custom.{spec.id}'")
    listing = datasets_listing(spec.resource_type)
    if not listing:
        raise ConfigError(f"{where}: resource_type {spec.resource_type!r} is not a resource type "
                          "the auditor collects (e.g. lambda-function, ecs-service, eks-cluster)")
    try:
        expression = jmespath.compile(spec.condition)
    except JMESPathError as exc:
        raise ConfigError(f"{where}: condition is not valid JMESPath: {exc}") from None

    # A condition on `tags` rests on where the tags come from, when that is not the listing
    # (Lambda's): if they cannot be read, its verdicts are unknown, not judged on no tags.
    if _reads_field(expression.parsed, "tags"):
        listing |= tag_datasets((spec.resource_type,))

    def evaluate(self: Check, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for resource in inventory.of_kind(spec.resource_type):
            try:
                matched = expression.search(as_document(resource))
            except JMESPathError:
                matched = None
            # JMESPath's own truthiness: false, null and empty values fail; numbers pass.
            if matched is not None and matched is not False and matched not in ("", [], {}):
                yield self.finding(resource, f"{spec.message} ({resource.arn})",
                                   {"condition": spec.condition,
                                    "resource_type": spec.resource_type})

    attributes: dict[str, Any] = {
        "id": spec.id, "title": spec.title, "severity": Severity(spec.severity),
        "category": Category(spec.category), "rationale": spec.rationale,
        "remediation": spec.remediation, "requires": listing,
        "subject_kinds": (spec.resource_type,), "evaluate": evaluate, "source": "config",
        "__module__": __name__,
    }
    check = cast(type[Check], type(f"Custom_{spec.id.replace('.', '_')}", (Check,), attributes))
    check.validate_declaration()
    return check


def _reads_field(node: Any, name: str) -> bool:
    """The parsed JMESPath expression names the field `name` somewhere."""
    if not isinstance(node, Mapping):
        return False
    if node.get("type") == "field" and node.get("value") == name:
        return True
    return any(_reads_field(child, name) for child in node.get("children", ()))
