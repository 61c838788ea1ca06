"""ECS task definition security: ecs.privileged_container, ecs.root_user,
ecs.writable_root_filesystem and ecs.host_network_mode."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.check import Check
from auditor.findings import Category, Finding
from auditor.model import ContainerDefinition, Inventory, TaskDefinition
from checks.ecs_security import (
    HostNetworkMode,
    PrivilegedContainer,
    RootUser,
    WritableRootFilesystem,
)
from tests import factories as f


def hardened(name: str = "app", **changes: object) -> ContainerDefinition:
    """A container that none of these checks flags, with `changes` on top."""
    base = replace(f.container(name=name), user="1000:1000", readonly_root_filesystem=True)
    return replace(base, **changes)  # type: ignore[arg-type]


def td(*containers: ContainerDefinition, family: str = "orders", **changes: object
       ) -> TaskDefinition:
    return replace(f.task_definition(family, containers=containers or (hardened(),)),
                   **changes)  # type: ignore[arg-type]


def judge(check: Check, *definitions: TaskDefinition) -> list[Finding]:
    return list(check.evaluate(Inventory(task_definitions=definitions), f.context(check)))


def test_the_four_checks_are_security_checks() -> None:
    for check in (PrivilegedContainer, RootUser, WritableRootFilesystem, HostNetworkMode):
        assert check.category is Category.SECURITY
        assert check.subject_kinds == ("ecs-task-definition",)


@pytest.mark.fires("ecs.privileged_container")
def test_a_privileged_sidecar_fails_the_task_definition() -> None:
    ec2 = td(hardened(), hardened("agent", privileged=True, essential=False),
             requires_compatibilities=("EC2",))
    [finding] = judge(PrivilegedContainer(), ec2)
    assert finding.evidence["privileged_containers"] == ["agent"]
    assert finding.evidence["requires_compatibilities"] == ["EC2"]
    assert finding.severity.value == "high" and "orders:1" in finding.message


@pytest.mark.quiet("ecs.privileged_container")
def test_unprivileged_containers_pass() -> None:
    assert judge(PrivilegedContainer(), td(hardened(), hardened("proxy"))) == []


@pytest.mark.fires("ecs.root_user")
def test_an_essential_container_with_no_user_or_root_fails() -> None:
    unset = td(hardened(user=None), family="unset")
    explicit = td(hardened(user="0:0"), hardened("proxy", user="root"), family="root")
    found = judge(RootUser(), unset, explicit)
    assert [x.resource_arn.rsplit("/", 1)[-1] for x in found] == ["unset:1", "root:1"]
    assert found[0].evidence["containers"][0]["user"] is None
    assert "image's USER" in found[0].message
    assert [c["container"] for c in found[1].evidence["containers"]] == ["app", "proxy"]


@pytest.mark.quiet("ecs.root_user")
def test_a_named_user_a_non_essential_root_container_or_windows_pass() -> None:
    named = td(hardened(user="app"), hardened("init", user=None, essential=False))
    windows = td(hardened(user=None), family="win", os_family="WINDOWS_SERVER_2022_CORE")
    assert judge(RootUser(), named, td(hardened(user="1000")), windows) == []


@pytest.mark.fires("ecs.writable_root_filesystem")
def test_a_writable_root_filesystem_fails_whether_essential_or_not() -> None:
    found = judge(WritableRootFilesystem(), td(
        hardened(), hardened("log-router", readonly_root_filesystem=False, essential=False)))
    assert [x.evidence["writable_containers"] for x in found] == [["log-router"]]


@pytest.mark.quiet("ecs.writable_root_filesystem")
def test_read_only_root_filesystems_and_windows_pass() -> None:
    windows = td(hardened(readonly_root_filesystem=False), os_family="WINDOWS_SERVER_2019_FULL")
    assert judge(WritableRootFilesystem(), td(), windows) == []


@pytest.mark.fires("ecs.host_network_mode")
def test_host_network_mode_fails() -> None:
    [finding] = judge(HostNetworkMode(), td(network_mode="host",
                                            requires_compatibilities=("EC2",)))
    assert finding.evidence["network_mode"] == "host"
    assert finding.evidence["containers"] == ["app"]


@pytest.mark.quiet("ecs.host_network_mode")
def test_awsvpc_bridge_or_unset_network_modes_pass() -> None:
    assert judge(HostNetworkMode(), td(), td(family="b", network_mode="bridge"),
                 td(family="c", network_mode=None)) == []
