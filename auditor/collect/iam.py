"""IAM roles and the managed policies they use, from one `GetAccountAuthorizationDetails` pass.

The pass streams AWS-managed policies the account does not use (over a thousand, with large
documents); only those attached to a role are kept, so memory follows the account's own roles.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from auditor.collect.base import ScopeCollector, tag_map
from auditor.model import (
    GLOBAL_REGION,
    IamRole,
    Inventory,
    ManagedPolicy,
    PolicyDocument,
    PolicyStatement,
)

AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


def collect(ctx: ScopeCollector) -> Inventory:
    if ctx.scope.region != GLOBAL_REGION or not ctx.wants("iam.authorization"):
        return Inventory()
    iam = ctx.client("iam")
    roles: list[IamRole] = []
    policies: list[ManagedPolicy] = []
    attached: set[str] = set()
    with ctx.loading("iam.authorization", "iam", "GetAccountAuthorizationDetails"):
        pages = iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["Role", "LocalManagedPolicy", "AWSManagedPolicy"],
            PaginationConfig={"PageSize": 1000},
        )
        for page in pages:
            for raw in page.get("RoleDetailList", []):
                role = _role(raw, ctx.scope.account)
                attached.update(role.attached_policy_arns)
                roles.append(role)
            for raw in page.get("Policies", []):
                arn = raw.get("Arn", "")
                # A policy can arrive before the role that attaches it; an attachment count
                # of zero says no role will.
                if (arn.startswith(AWS_MANAGED_PREFIX) and arn not in attached
                        and not raw.get("AttachmentCount", 1)):
                    continue
                policies.append(_policy(raw, ctx.scope.account))
    kept = [p for p in policies if not p.aws_managed or p.arn in attached]
    return Inventory(iam_roles=tuple(roles), managed_policies=tuple(kept))


def parse_policy_document(name: str, doc: Any) -> PolicyDocument:
    """Normalise a policy as IAM returns it: a dict, or JSON text (URL-encoded by the raw API,
    decoded by boto3), with `Statement`, `Action` and `Resource` each a string or a list."""
    return PolicyDocument(name, tuple(
        PolicyStatement(
            effect=str(s.get("Effect", "")),
            actions=_strings(s.get("Action")),
            not_actions=_strings(s.get("NotAction")),
            resources=_strings(s.get("Resource")),
            not_resources=_strings(s.get("NotResource")),
            has_condition=bool(s.get("Condition")),
        )
        for s in _statements(doc)
    ))


def _statements(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, str):
        text = doc.strip()
        if not text.startswith("{"):
            text = unquote(text)
        doc = json.loads(text) if text else {}
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements if isinstance(s, dict)]


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _trusted_services(doc: Any) -> tuple[str, ...]:
    """Service principals an Allow statement of the trust policy lets assume the role."""
    services: dict[str, None] = {}
    for statement in _statements(doc):
        principal = statement.get("Principal")
        if statement.get("Effect") == "Allow" and isinstance(principal, dict):
            services.update(dict.fromkeys(_strings(principal.get("Service"))))
    return tuple(services)


def _role(raw: dict[str, Any], account: str) -> IamRole:
    return IamRole(
        raw["Arn"], account, GLOBAL_REGION,
        name=raw.get("RoleName", ""),
        path=raw.get("Path", "/"),
        trusted_services=_trusted_services(raw.get("AssumeRolePolicyDocument")),
        attached_policy_arns=tuple(p["PolicyArn"] for p in raw.get("AttachedManagedPolicies", [])
                                   if "PolicyArn" in p),
        inline_policies=tuple(parse_policy_document(p.get("PolicyName", ""),
                                                    p.get("PolicyDocument"))
                              for p in raw.get("RolePolicyList", [])),
        tags=tag_map(raw.get("Tags")),
    )


def _policy(raw: dict[str, Any], account: str) -> ManagedPolicy:
    arn = raw["Arn"]
    default: dict[str, Any] = next(
        (v for v in raw.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), {})
    return ManagedPolicy(
        arn, account, GLOBAL_REGION,
        name=raw.get("PolicyName") or arn.rsplit("/", 1)[-1],
        aws_managed=arn.startswith(AWS_MANAGED_PREFIX),
        document=parse_policy_document(arn, default.get("Document")),
    )
