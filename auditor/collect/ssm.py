"""The recommended EKS-optimized AMI release of each managed node group, from the SSM public
parameters EKS publishes (`/aws/service/eks/optimized-ami/...`).

One `GetParameter` per distinct (Kubernetes version, AMI type) in the region, however many node
groups share it. The parameter paths are those of the EKS user guide ("Retrieve recommended
Amazon Linux AMI IDs"); AMI types without one there (custom launch-template AMIs,
Bottlerocket, Windows) are not asked about.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.base import ScopeCollector
from auditor.model import EksNodegroup

DATASET = "eks.node_amis"

_AMI_PATHS = {
    "AL2_x86_64": "amazon-linux-2",
    "AL2_x86_64_GPU": "amazon-linux-2-gpu",
    "AL2_ARM_64": "amazon-linux-2-arm64",
    "AL2023_x86_64_STANDARD": "amazon-linux-2023/x86_64/standard",
    "AL2023_ARM_64_STANDARD": "amazon-linux-2023/arm64/standard",
    "AL2023_x86_64_NVIDIA": "amazon-linux-2023/x86_64/nvidia",
    "AL2023_ARM_64_NVIDIA": "amazon-linux-2023/arm64/nvidia",
    "AL2023_x86_64_NEURON": "amazon-linux-2023/x86_64/neuron",
}


def release_parameter(kubernetes: str | None, ami_type: str | None) -> str | None:
    """The SSM parameter holding the recommended release, or None when there is none."""
    path = _AMI_PATHS.get(ami_type or "")
    if not kubernetes or path is None:
        return None
    return f"/aws/service/eks/optimized-ami/{kubernetes}/{path}/recommended/release_version"


def with_recommended_releases(ctx: ScopeCollector, nodegroups: list[EksNodegroup]
                              ) -> list[EksNodegroup]:
    """Each node group with its parameter and the release it names. A failed read leaves the
    node groups sharing that parameter unknown; a parameter SSM does not publish (a version
    too old, say) is no failure: the release stays None."""
    named = [replace(g, release_parameter=release_parameter(g.version, g.ami_type))
             for g in nodegroups]
    releases: dict[str, str | None] = {}
    client: Any = None
    for parameter in sorted({g.release_parameter for g in named if g.release_parameter}):
        client = client or ctx.client("ssm")
        users = tuple(g.arn for g in named if g.release_parameter == parameter)
        with ctx.describing(DATASET, "ssm", "GetParameter", resources=users):
            releases[parameter] = _value(client, parameter)
    return [replace(g, recommended_release=releases.get(g.release_parameter or ""))
            for g in named]


def _value(client: Any, name: str) -> str | None:
    try:
        return str(client.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return None
        raise
