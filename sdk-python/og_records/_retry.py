"""When to retry a request and how long to wait first."""

import random
import time
from email.utils import parsedate_to_datetime

import httpx

# 408 request timeout, 409 (an idempotent request still in flight), 429, and every 5xx except 501: a 501 says the
# operation does not exist on this server, and asking again will not change that.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


def should_retry(response: httpx.Response) -> bool:
    status: int = response.status_code
    return status in RETRYABLE_STATUSES or (status >= 500 and status != 501)


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The wait the server asked for: `retry-after-ms`, else `Retry-After` in seconds or as an HTTP date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(float(raw_ms) / 1000, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def delay_before_retry(retries_done: int, headers: httpx.Headers | None) -> float:
    """Seconds to sleep before the next try: the server's `Retry-After` when sane, else capped exponential backoff
    with jitter (so many clients rejected at once do not come back at once)."""
    if headers is not None:
        asked = retry_after_seconds(headers)
        if asked is not None and asked <= MAX_RETRY_AFTER:
            return asked
    backoff = min(INITIAL_DELAY * 2.0**retries_done, MAX_DELAY)
    return backoff * (1 - 0.25 * random.random())
