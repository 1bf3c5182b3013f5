"""Who is calling: the authenticated credential as handlers and services see it."""

from dataclasses import dataclass
from typing import Any

from connexion.context import context

from server.problems import ApiProblem


@dataclass(frozen=True)
class Principal:
    account_id: str
    environment: str  # sandbox | production
    scopes: frozenset[str]
    credential_id: str  # api key id or OAuth token family: the unit rate limits and idempotency keys belong to
    kind: str  # api_key | oauth
    # The account's plan as read while authenticating (None: unknown, the rate limiter reads it itself).
    plan: str | None = None
    # Sandbox only: how far the account's test clock runs ahead of real time (server.clock); 0 in production.
    clock_offset_seconds: int = 0


def current() -> Principal:
    """The caller of the current request (set by the security layer before the handler runs)."""
    token_info: dict[str, Any] | None = context.get("token_info")
    principal = (token_info or {}).get("principal")
    if not isinstance(principal, Principal):
        raise ApiProblem(401, "authentication_required", "This operation needs a credential.")
    return principal
