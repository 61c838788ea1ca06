"""ECS security checks on what task definitions let their containers do: privileged mode,
the root user, a writable root filesystem and the host's network."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.check import Check, CheckContext, listing
from auditor.findings import Category, Finding, Severity
from auditor.model import ContainerDefinition, Inventory

_ROOT = frozenset({"", "0", "root"})


class PrivilegedContainer(Check):
    id = "ecs.privileged_container"
    title = "ECS container running privileged"
    severity = Severity.HIGH
    category = Category.SECURITY
    rationale = (
        "A privileged container gets every Linux capability and the host's devices: root in "
        "it is root on the container instance, and with that every other task's files, "
        "network and credentials there. Fargate refuses privileged containers, so only task "
        "definitions run on EC2 instances can have one; every container is judged, essential "
        "or not."
    )
    remediation = (
        "Remove `privileged: true` and grant only what the process needs: the Linux "
        "capabilities in linuxParameters.capabilities.add (e.g. NET_ADMIN) and the devices in "
        "linuxParameters.devices. Register the revision and deploy it."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            privileged = [c.name for c in td.containers if c.privileged]
            if privileged:
                yield self.finding(
                    td,
                    f"Task definition {td.family}:{td.revision} runs container(s) "
                    f"{listing(privileged)} privileged: root in them is root on the host.",
                    {"privileged_containers": privileged,
                     "requires_compatibilities": list(td.requires_compatibilities),
                     "flag_when": "privileged is true"},
                )


def _root_reason(container: ContainerDefinition) -> str | None:
    """Why the container runs as root, or None when its `user` names someone else."""
    if container.user is None:
        return "no user set: the image's USER applies, root unless the image names another"
    name = container.user.split(":", 1)[0].strip().lower()
    return f"user {container.user!r} is root" if name in _ROOT else None


class RootUser(Check):
    id = "ecs.root_user"
    title = "Essential ECS container running as root"
    severity = Severity.MEDIUM
    category = Category.SECURITY
    rationale = (
        "A process running as root inside its container turns any code execution bug into "
        "root on the container's filesystem and mounts, and one container-runtime escape away "
        "from the host. An essential container that sets no `user` runs as the image's USER, "
        "which is root unless the image says otherwise; the auditor cannot see the image, so "
        "it flags the task definition that does not say. Windows containers, which have no "
        "`user` parameter, are not judged."
    )
    remediation = (
        "Set `user` in the container definition to an unprivileged UID:GID (e.g. 1000:1000) "
        "that owns what the process writes, or build the image with a non-root USER and "
        "repeat it in the task definition."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            if td.on_windows:
                continue
            found = [{"container": c.name, "user": c.user, "reason": reason}
                     for c in td.containers if c.essential
                     and (reason := _root_reason(c)) is not None]
            if found:
                names = listing([str(f["container"]) for f in found])
                yield self.finding(
                    td,
                    f"Task definition {td.family}:{td.revision} runs essential container(s) "
                    f"{names} as root ({found[0]['reason']}).",
                    {"containers": found, "flag_when": "user unset, 0 or root"},
                )


class WritableRootFilesystem(Check):
    id = "ecs.writable_root_filesystem"
    title = "ECS container with a writable root filesystem"
    severity = Severity.LOW
    category = Category.SECURITY
    rationale = (
        "A container whose root filesystem is writable lets whoever gets code execution in "
        "it replace binaries, drop tools and persist for the life of the task. Read-only, "
        "the image stays what was built, and what the process must write goes to volumes "
        "named in the task definition. Every container is judged, sidecars too; Windows "
        "containers, which cannot be made read-only, are not."
    )
    remediation = (
        "Set `readonlyRootFilesystem: true` on each container and mount a volume (a bind "
        "mount of the task's ephemeral storage) at the paths it writes, such as /tmp."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            writable = [c.name for c in td.containers if not c.readonly_root_filesystem]
            if writable and not td.on_windows:
                yield self.finding(
                    td,
                    f"Task definition {td.family}:{td.revision} leaves the root filesystem "
                    f"of container(s) {listing(writable)} writable.",
                    {"writable_containers": writable,
                     "flag_when": "readonlyRootFilesystem is not true"},
                )


class HostNetworkMode(Check):
    id = "ecs.host_network_mode"
    title = "ECS task definition on the host's network"
    severity = Severity.MEDIUM
    category = Category.SECURITY
    rationale = (
        "In `host` network mode a task's containers share the container instance's network "
        "stack: no security group of their own, every port they open is open on the "
        "instance, they see the other tasks' traffic on it, and they reach the instance "
        "metadata service and so the instance role's credentials unless it is blocked. "
        "Fargate allows only `awsvpc`, so only EC2-backed task definitions can use it."
    )
    remediation = (
        "Register the revision with networkMode `awsvpc` (its own ENI and security group) or "
        "`bridge`; where host mode is required (a node agent), block the metadata service "
        "from tasks (ECS_AWSVPC_BLOCK_IMDS, iptables) and run nothing else on those instances."
    )
    requires = frozenset({"ecs.services", "ecs.task_definitions"})
    subject_kinds = ("ecs-task-definition",)

    def evaluate(self, inventory: Inventory, ctx: CheckContext) -> Iterable[Finding]:
        for td in inventory.task_definitions:
            if (td.network_mode or "").lower() == "host":
                yield self.finding(
                    td,
                    f"Task definition {td.family}:{td.revision} uses the host network mode: "
                    "its containers share the instance's network, ports and metadata "
                    "service.",
                    {"network_mode": td.network_mode,
                     "containers": [c.name for c in td.containers],
                     "requires_compatibilities": list(td.requires_compatibilities),
                     "flag_when": "networkMode is host"},
                )
