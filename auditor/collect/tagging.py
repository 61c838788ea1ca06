"""Tags a service's own listing does not carry, from the Resource Groups Tagging API.

Lambda's `ListFunctions` returns no tags, and its `ListTags` answers for one function a call.
`GetResources` filtered to `lambda:function` returns the tags of every tagged function of a
region, 100 a page: one paginated listing per region, asked only when a check or a
suppression can use them (the `lambda.tags` dataset). A function it does not name has no tags.

A failed listing is one `errors` entry under `resourcegroupstaggingapi:GetResources` (IAM's
`tag:GetResources`); the functions stay, with the tags already read, and only what rests on
their tags (a custom check on `tags`) is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from auditor.collect.base import ScopeCollector, paginate, tag_map
from auditor.model import LambdaFunction

LAMBDA_TAGS = "lambda.tags"
SERVICE = "resourcegroupstaggingapi"
OPERATION = "GetResources"
PAGE_SIZE = 100
"""The most `ResourcesPerPage` allows."""


def with_lambda_tags(ctx: ScopeCollector, functions: Sequence[LambdaFunction]
                     ) -> list[LambdaFunction]:
    """The functions with their tags, when the tags are wanted and there is a function."""
    if not functions or not ctx.wants(LAMBDA_TAGS):
        return list(functions)
    tags: dict[str, dict[str, str]] = {}

    def keep(raw: Any) -> None:
        arn = raw["ResourceARN"]
        if not isinstance(arn, str):
            raise TypeError(f"ResourceARN is {type(arn).__name__}, not a string")
        tags[arn] = tag_map(raw.get("Tags"))

    with ctx.loading(LAMBDA_TAGS, SERVICE, OPERATION):
        client = ctx.client(SERVICE)
        records = paginate(client, "get_resources", "ResourceTagMappingList",
                           ResourceTypeFilters=["lambda:function"],
                           ResourcesPerPage=PAGE_SIZE)
        # Each mapping is kept as it is read: if a later page fails, the tags read stay.
        ctx.parse_each(records, keep, (LAMBDA_TAGS,), SERVICE, OPERATION)
    return [replace(f, tags=tags[f.arn]) if f.arn in tags else f for f in functions]
