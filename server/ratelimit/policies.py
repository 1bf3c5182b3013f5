"""Which budget a caller gets: sandbox keys, the production plans, and anonymous callers of public endpoints."""

import math
from dataclasses import dataclass, replace

from server.principal import Principal

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Policy:
    """`limit` requests per minute sustained; a full budget absorbs `burst` requests at once."""

    name: str
    limit: int
    burst: int

    def scaled(self, multiplier: float) -> "Policy":
        if multiplier == 1:
            return self
        return replace(
            self, limit=max(1, math.floor(self.limit * multiplier)), burst=max(1, math.floor(self.burst * multiplier))
        )

    @property
    def interval_us(self) -> int:
        """Microseconds between two requests at the sustained rate (GCRA's emission interval)."""
        return max(1, WINDOW_SECONDS * 1_000_000 // self.limit)  # at least 1 µs, however large the multiplier


SANDBOX = Policy("sandbox", limit=60, burst=60)
PLANS = {
    # "burst to 240, soft-throttled": a full budget absorbs 240 requests, then it refills at 120/min (docs/adr/0002).
    "free": Policy("free", limit=120, burst=240),
    "business": Policy("business", limit=600, burst=600),
}
# Public operations (smart-link pages, OAuth, inbound webhooks, probes) and failed authentication, per client IP.
PUBLIC = Policy("public", limit=300, burst=600)


def for_credential(principal: Principal, plan: str) -> Policy:
    if principal.environment == "sandbox":
        return SANDBOX
    return PLANS.get(plan, PLANS["free"])


def credential_key(principal: Principal, client_ip: str) -> str:
    """The bucket of a credential. Sandbox keys are IP-bound: each client IP has its own sandbox budget per key."""
    if principal.environment == "sandbox":
        return f"cred:{principal.credential_id}:ip:{client_ip}"
    return f"cred:{principal.credential_id}"


def public_key(client_ip: str) -> str:
    return f"ip:{client_ip}"
