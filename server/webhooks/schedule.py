"""When to try again: the documented retry schedule with jitter, and how a response changes it."""

import random
from datetime import timedelta

# Delay before attempt n+1 after attempt n failed (attempt 1 is immediate): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 24 h — ten attempts over about three days.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1  # ±10 %, so endpoints that failed together do not all retry in the same second
MAX_RETRY_AFTER = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=5)  # an endpoint failing this long without one success is disabled


def next_delay(
    attempts_made: int, retry_after: timedelta | None = None, rng: random.Random | None = None
) -> timedelta | None:
    """The wait before the next attempt, or None when the schedule is exhausted.

    A `Retry-After` from the endpoint (429/503) is honoured: we never come back sooner than it asked, and never
    later than the larger of the schedule and 24 hours.
    """
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempts_made - 1]
    jittered = base * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        return max(jittered, min(retry_after, MAX_RETRY_AFTER))
    return jittered
