"""The database model: the memory of an RDS instance class, which the engine's default
max_connections formula reads."""

from __future__ import annotations

import pytest

from auditor.databases import instance_memory_gib


@pytest.mark.parametrize(("instance_class", "gib"), [
    ("db.t3.micro", 1), ("db.t4g.medium", 4), ("db.m6g.large", 8), ("db.m5.4xlarge", 64),
    ("db.r6i.xlarge", 32), ("db.x2g.large", 32), ("db.x2iedn.xlarge", 128),
    ("db.serverless", None), ("db.m3.medium", None), ("db.r6g.metal", None),
])
def test_instance_class_memory(instance_class: str, gib: float | None) -> None:
    assert instance_memory_gib(instance_class) == gib
