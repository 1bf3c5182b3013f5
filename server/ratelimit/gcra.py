"""GCRA (generic cell rate algorithm): a token bucket kept as one number per key, the theoretical arrival time.

All times are integer microseconds, so the in-process store and the Redis script compute bit-identical results.
A request at `now` is admitted when `max(tat, now) + interval - now <= burst * interval`; admitting stores the new
`tat`. Everything a client sees (remaining, reset, retry-after) follows from `tat` and `now`.
"""

import math
from dataclasses import dataclass

from server.ratelimit.policies import WINDOW_SECONDS, Policy

MICROS = 1_000_000


@dataclass(frozen=True)
class Decision:
    policy: Policy
    allowed: bool
    remaining: int  # requests that would be admitted right now
    retry_after_us: int  # until the next request is admitted (0 when this one was)
    reset_after_us: int  # until the budget is full again
    now_us: int

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after_us / MICROS))

    @property
    def reset_after_seconds(self) -> int:
        return math.ceil(self.reset_after_us / MICROS)

    def headers(self) -> dict[str, str]:
        """The legacy `X-RateLimit-*` trio and the IETF draft's `RateLimit-Policy` / `RateLimit` fields."""
        name = self.policy.name
        headers = {
            "X-RateLimit-Limit": str(self.policy.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil((self.now_us + self.reset_after_us) / MICROS)),
            "RateLimit-Policy": f'"{name}";q={self.policy.limit};w={WINDOW_SECONDS}',
            "RateLimit": f'"{name}";r={self.remaining};t={self.reset_after_seconds}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def step(policy: Policy, tat: int | None, now: int) -> tuple[int | None, Decision]:
    """The decision for one request, and the `tat` to store (None: leave the stored value as it is)."""
    interval = policy.interval_us
    current = now if tat is None or tat < now else tat
    candidate = current + interval
    if candidate - now <= policy.burst * interval:
        return candidate, decision_from(policy, allowed=True, tat=candidate, now=now)
    return None, decision_from(policy, allowed=False, tat=current, now=now)


def decision_from(policy: Policy, *, allowed: bool, tat: int, now: int) -> Decision:
    """Rebuild the decision from the state after it (the Redis script returns exactly these three values)."""
    interval = policy.interval_us
    capacity = policy.burst * interval
    used = max(0, tat - now)
    if allowed:
        remaining = (capacity - used) // interval
        retry_after = 0
    else:
        remaining = 0
        retry_after = used + interval - capacity
    return Decision(policy, allowed, remaining, retry_after, used, now)
