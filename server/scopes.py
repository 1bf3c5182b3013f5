"""The documented scopes, and the rule that a `write` scope implies the matching `read` scope."""

from collections.abc import Iterable
from functools import lru_cache

SCOPES: tuple[str, ...] = (
    "releases:read",
    "releases:write",
    "tracks:read",
    "tracks:write",
    "splits:read",
    "splits:write",
    "persons:read",
    "persons:write",
    "earnings:read",
    "payouts:read",
    "payouts:write",
    "smartlinks:read",
    "smartlinks:write",
    "events:read",
    "webhooks:read",
    "webhooks:write",
    "keys:read",
    "keys:write",
)


def effective(granted: Iterable[str]) -> frozenset[str]:
    """The granted scopes plus the `read` scopes their `write` scopes imply."""
    return _effective(frozenset(granted))


# Every authenticated request computes this (twice: the credential's scopes, then the operation's check), for the few
# scope sets keys are issued with: computed once per set (bounded: a caller cannot grow it without end).
@lru_cache(maxsize=1024)
def _effective(granted: frozenset[str]) -> frozenset[str]:
    result = set(granted)
    for scope in list(result):
        resource, _, access = scope.partition(":")
        if access == "write":
            result.add(f"{resource}:read")
    return frozenset(result)


def missing(required: Iterable[str], granted: Iterable[str]) -> list[str]:
    have = effective(granted)
    return sorted(scope for scope in required if scope not in have)
