"""One HTTP attempt: POST the signed event, classify what came back. No database access here."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from server.webhooks import signing
from server.webhooks.clock import Clock
from server.webhooks.egress import error_code

TIMEOUT_SECONDS = 15.0  # the whole attempt, from connecting to the last byte read
# Resolving and connecting: an endpoint that cannot accept a connection in 5 s is down, and the test action (which
# waits for its attempt) answers sooner.
CONNECT_TIMEOUT_SECONDS = 5.0
EXCERPT_CHARS = 1024
_EXCERPT_BYTES = EXCERPT_CHARS * 4  # enough bytes for 1024 characters of any UTF-8
USER_AGENT = "OG-Records-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    started_at: datetime
    duration_ms: int
    status: int | None
    excerpt: str | None
    error: str | None
    retry_after: timedelta | None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def send(
    client: httpx.AsyncClient,
    *,
    url: str,
    message_id: str,
    body: bytes,
    secrets: Sequence[str],
    clock: Clock,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> Outcome:
    started_at = clock.now()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        # Signed at send time, so every retry carries a fresh timestamp inside the receivers' tolerance.
        **signing.headers(secrets, message_id, started_at, body),
    }
    began = time.perf_counter()
    status: int | None = None
    excerpt: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None
    try:
        async with asyncio.timeout(timeout_seconds):
            request = client.build_request(
                "POST",
                url,
                content=body,
                headers=headers,
                timeout=httpx.Timeout(timeout_seconds, connect=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds)),
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                status = response.status_code
                retry_after = _retry_after(response, started_at) if status in (429, 503) else None
                excerpt = await _excerpt(response)
            finally:
                await response.aclose()
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        error = error_code(exc)
    duration_ms = max(0, round((time.perf_counter() - began) * 1000))
    return Outcome(started_at, duration_ms, status, excerpt, error, retry_after)


async def _excerpt(response: httpx.Response) -> str:
    collected = bytearray()
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) >= _EXCERPT_BYTES:
            break
    return bytes(collected[:_EXCERPT_BYTES]).decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _retry_after(response: httpx.Response, now: datetime) -> timedelta | None:
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdigit():
        return timedelta(seconds=int(raw))
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(timedelta(0), moment - now) if moment.tzinfo else None
