"""The documented scopes, and the rule that a `write` scope implies the matching `read` scope."""

from collections.abc import Iterable

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
    result = set(granted)
    for scope in list(result):
        resource, _, access = scope.partition(":")
        if access == "write":
            result.add(f"{resource}:read")
    return frozenset(result)


def missing(required: Iterable[str], granted: Iterable[str]) -> list[str]:
    have = effective(granted)
    return sorted(scope for scope in required if scope not in have)
