"""A small IAM policy evaluator: does a set of identity policies allow an action on a resource?

It follows IAM's order for one principal: an explicit Deny wins, then any Allow, else the
implicit deny. Actions and resources match with IAM's `*` and `?` wildcards (actions are
case-insensitive). Conditions cannot be evaluated offline: a conditional Allow counts as an
Allow (the role *can* be used that way), a conditional Deny is ignored (it may not apply), so
the answer errs towards "allowed", which is the cautious side for an auditor of broad access.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from functools import lru_cache

from auditor.model import PolicyDocument, PolicyStatement


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob), re.IGNORECASE if ignore_case else 0)


def _matches(patterns: Iterable[str], value: str, ignore_case: bool) -> bool:
    return any(_pattern(p, ignore_case).match(value) for p in patterns)


def statement_applies(statement: PolicyStatement, action: str, resource: str) -> bool:
    if statement.actions:
        action_ok = _matches(statement.actions, action, ignore_case=True)
    else:
        action_ok = bool(statement.not_actions) and not _matches(
            statement.not_actions, action, ignore_case=True
        )
    if not action_ok:
        return False
    if statement.resources:
        return _matches(statement.resources, resource, ignore_case=False)
    return bool(statement.not_resources) and not _matches(
        statement.not_resources, resource, ignore_case=False
    )


def allows(documents: Iterable[PolicyDocument], action: str, resource: str = "*") -> bool:
    statements = [s for doc in documents for s in doc.statements]
    if any(
        s.effect == "Deny" and not s.has_condition and statement_applies(s, action, resource)
        for s in statements
    ):
        return False
    return any(s.effect == "Allow" and statement_applies(s, action, resource) for s in statements)
