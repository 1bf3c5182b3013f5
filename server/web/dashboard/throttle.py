"""Sign-in throttling, per account (the email tried) and per client IP, on the API's rate limiter (GCRA; Redis
when configured, so every server process shares the budget).

A budget absorbs a burst of attempts, then refills slowly: guessing passwords for one account, or many accounts
from one address, becomes impractical while a person who mistypes a few times never notices.
"""

import hashlib

from server import config
from server.ratelimit.limiter import RateLimiter, limiter_from_settings
from server.ratelimit.policies import Policy

PER_ACCOUNT = Policy("login-account", limit=2, burst=10)  # 10 at once, then 2 a minute
PER_IP = Policy("login-ip", limit=10, burst=30)

_limiter: list[RateLimiter] = []


def limiter() -> RateLimiter:
    if not _limiter:
        _limiter.append(limiter_from_settings(config.active()))
    return _limiter[0]


def use(replacement: RateLimiter | None) -> None:
    """Swap the limiter (tests give it one with the published budgets; None: back to the configured one)."""
    _limiter.clear()
    if replacement is not None:
        _limiter.append(replacement)


async def retry_after(email: str, client_ip: str, *, action: str = "login") -> int:
    """0 when this attempt (a sign-in, or asking for a password reset link) may go ahead, else the seconds until
    the next one is allowed."""
    # The email is hashed so the rate-limit store (Redis) holds no address.
    account_key = f"{action}:acct:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_account = await limiter().check(account_key, PER_ACCOUNT)
    by_ip = await limiter().check(f"{action}:ip:{client_ip}", PER_IP)
    waits = [decision.retry_after_seconds for decision in (by_account, by_ip) if not decision.allowed]
    return max(waits, default=0)
