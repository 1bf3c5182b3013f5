"""The limiter the middleware asks: a store, a key namespace and the configured multiplier."""

from server.config import Settings
from server.ratelimit.gcra import Decision
from server.ratelimit.policies import Policy
from server.ratelimit.stores import MemoryStore, RedisStore, Store


class RateLimiter:
    def __init__(self, store: Store, *, multiplier: float = 1.0, prefix: str = "og:rl") -> None:
        self.store = store
        self.multiplier = multiplier
        self.prefix = prefix

    async def check(self, key: str, policy: Policy) -> Decision:
        """Count one request against `key`'s budget under `policy` (scaled by the multiplier)."""
        return await self.store.decide(f"{self.prefix}:{key}", policy.scaled(self.multiplier))

    async def aclose(self) -> None:
        await self.store.aclose()


def limiter_from_settings(settings: Settings) -> RateLimiter:
    store: Store = RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()
    return RateLimiter(store, multiplier=settings.rate_limit_multiplier, prefix=settings.rate_limit_prefix)
