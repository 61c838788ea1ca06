"""Lambda functions' tags: one Resource Groups Tagging API listing a region, asked only when
wanted and when there is a function; its failure is one entry and costs no function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from auditor.collect import lambda_
from tests.collect.conftest import ACCOUNT, REGION, Scan, deny, role
from tests.factories import lambda_zip

FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
TAGGED = 130
"""Over one page of GetResources (100 at most): the listing must follow its token."""


def _functions(tagged: int = TAGGED) -> None:
    client = boto3.client("lambda", region_name=REGION)
    common: dict[str, Any] = {"Role": role(), "Handler": "handler.handler",
                              "Runtime": "python3.12", "Code": {"ZipFile": lambda_zip()}}
    for index in range(tagged):
        client.create_function(FunctionName=f"fn-{index:03d}",
                               Tags={"team": f"t{index}", "auditor:ignore": "lambda.*"},
                               **common)
    client.create_function(FunctionName="untagged", **common)
    # A published version is no function of its own: its tags are the function's.
    client.publish_version(FunctionName="fn-000")


def test_every_functions_tags_in_one_listing_a_region(scan: Callable[..., Scan]) -> None:
    _functions()
    run = scan(wanted={"lambda.functions", "lambda.tags"})

    inventory = lambda_.collect(run.ctx)

    assert run.errors == []
    tags = {f.name: dict(f.tags) for f in inventory.lambda_functions}
    assert len(tags) == TAGGED + 1
    assert tags["fn-007"] == {"team": "t7", "auditor:ignore": "lambda.*"}
    assert tags["fn-129"] == {"team": "t129", "auditor:ignore": "lambda.*"}
    assert tags["untagged"] == {}
    # Paginated, not one call per function (ListTags would take 131).
    assert 2 <= run.calls("resourcegroupstaggingapi:GetResources") <= 3
    assert run.calls("lambda:ListTags") == 0


def test_tags_are_read_only_when_wanted_and_there_is_a_function(
        scan: Callable[..., Scan]) -> None:
    run = scan(wanted={"lambda.functions", "lambda.tags"})
    assert lambda_.collect(run.ctx).lambda_functions == ()
    assert run.calls("resourcegroupstaggingapi:GetResources") == 0

    _functions(tagged=1)
    untagged = scan(wanted={"lambda.functions"})
    assert all(f.tags == {} for f in lambda_.collect(untagged.ctx).lambda_functions)
    assert untagged.calls("resourcegroupstaggingapi:GetResources") == 0


def test_tags_alone_list_the_functions_they_belong_to(scan: Callable[..., Scan]) -> None:
    """A check judging a function's alias or mapping wants its tags (for `auditor:ignore`):
    the tags are kept on the function, so the functions are listed for them."""
    _functions(tagged=1)
    run = scan(wanted={"lambda.tags"})
    functions = {f.name: f.tags for f in lambda_.collect(run.ctx).lambda_functions}
    assert functions["fn-000"] == {"team": "t0", "auditor:ignore": "lambda.*"}


def test_a_failed_listing_is_one_entry_and_loses_no_function(scan: Callable[..., Scan]) -> None:
    _functions(tagged=2)
    run = scan(wanted={"lambda.functions", "lambda.tags"})
    deny(run.ctx.client("resourcegroupstaggingapi"), "GetResources")

    inventory = lambda_.collect(run.ctx)

    assert sorted(f.name for f in inventory.lambda_functions) == ["fn-000", "fn-001", "untagged"]
    assert all(f.tags == {} for f in inventory.lambda_functions)
    [error] = run.errors
    assert (error.service, error.operation, error.code) == (
        "resourcegroupstaggingapi", "GetResources", "AccessDeniedException")
    assert error.datasets == ("lambda.tags",)
    # Only the tags are lost, for the region: the functions' own dataset is whole.
    assert (error.resources, error.unread) == ((), ())
