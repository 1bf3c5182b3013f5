"""The delivery worker: claims due deliveries, sends them concurrently, records the results; forever.

Embedded in `og-server serve` (a lifespan task, `embedded()`), or a process of its own (`og-server worker`) when
scaled out on PostgreSQL. Every database call runs on a thread; the event loop only waits on HTTP.
"""

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from server.config import Settings
from server.db.engine import session_scope
from server.mail import dispatch as mail_dispatch
from server.services import invitations
from server.webhooks import queue, sender, wakeup
from server.webhooks.clock import Clock, SystemClock
from server.webhooks.egress import GuardedTransport

log = logging.getLogger("og.webhooks")

DEFAULT_BATCH = 64
DEFAULT_LEASE = timedelta(seconds=60)  # > the 15 s request timeout: a live worker always finishes inside it
DEFAULT_POLL_SECONDS = 0.25
PER_ORIGIN = 16  # requests in flight to one scheme://host:port at a time
PURGE_EVERY_SECONDS = 3600


class Worker:
    def __init__(
        self,
        *,
        server_key: str,
        allow_loopback: bool,
        clock: Clock | None = None,
        batch: int = DEFAULT_BATCH,
        lease: timedelta = DEFAULT_LEASE,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        timeout: float = sender.TIMEOUT_SECONDS,
        rng: random.Random | None = None,
        mail: mail_dispatch.Providers | None = None,
        listen_url: str | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self._server_key = server_key
        self._batch = batch
        self._lease = lease
        self._poll_seconds = poll_seconds
        self._timeout = timeout
        self._rng = rng
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(allow_loopback=allow_loopback, max_connections=batch), trust_env=False
        )
        self._last_purge = 0.0
        # The outbox rides on the same loop: messages are due after commit just like deliveries.
        self._mail = mail
        # PostgreSQL: woken by the database's notification when another process commits work (server.webhooks.wakeup).
        self._listen_url = listen_url

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> "Worker":
        options.setdefault("mail", mail_dispatch.Providers.from_settings(settings))
        options.setdefault("listen_url", wakeup.listen_url(settings.database_url))
        return cls(server_key=settings.secret_key, allow_loopback=settings.webhooks_allow_loopback, **options)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def run_once(self) -> int:
        """Claim one batch of due deliveries, send them, record the outcomes. Returns how many were attempted."""
        jobs = await asyncio.to_thread(self._claim)
        if not jobs:
            return 0
        per_origin: dict[str, asyncio.Semaphore] = {}
        outcomes = await asyncio.gather(*(self._send_limited(job, per_origin) for job in jobs))
        await asyncio.to_thread(self._record, list(zip(jobs, outcomes, strict=True)))
        return len(jobs)

    async def run_until_idle(self) -> int:
        """Deliver everything due now (tests and simulations)."""
        total = 0
        while count := await self.run_once():
            total += count
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        nudge = asyncio.Event()
        wakeup.register(nudge)
        listener = asyncio.create_task(wakeup.listen(self._listen_url, nudge, stop)) if self._listen_url else None
        try:
            while not stop.is_set():
                try:
                    count = await self.run_once()
                    count += await self.send_mail()
                    await self._maybe_purge()
                except Exception:
                    log.exception("webhook worker iteration failed; retrying in 1 s")
                    count = 0
                    await _wait_any(stop, nudge, 1.0)
                if count == 0:
                    await _wait_any(stop, nudge, self._poll_seconds)
                nudge.clear()
        finally:
            wakeup.unregister(nudge)
            if listener is not None:
                listener.cancel()
                with suppress(asyncio.CancelledError):
                    await listener

    async def send_mail(self) -> int:
        """Send the outbox's due messages (email, WhatsApp); returns how many were attempted."""
        if self._mail is None or (self._mail.email is None and self._mail.whatsapp is None):
            return 0
        return await asyncio.to_thread(mail_dispatch.dispatch_due, self._mail, on_failure=mail_failure_handlers())

    async def _send_limited(self, job: queue.Job, per_origin: dict[str, asyncio.Semaphore]) -> sender.Outcome:
        """At most PER_ORIGIN requests of a batch in flight to one origin (as a receiver would wish), waiting here
        rather than in the connection pool: httpcore's pool walks every queued request against every connection
        on each hand-over, so 64 requests queued on one pool spent two thirds of the worker's CPU there."""
        parts = urlsplit(job.url)
        limit = per_origin.setdefault(f"{parts.scheme}://{parts.netloc}", asyncio.Semaphore(PER_ORIGIN))
        async with limit:
            return await self._send(job)

    async def _send(self, job: queue.Job) -> sender.Outcome:
        return await sender.send(
            self._client,
            url=job.url,
            message_id=job.event_id,
            body=job.body,
            secrets=job.secrets,
            clock=self.clock,
            timeout_seconds=self._timeout,
        )

    def _claim(self) -> list[queue.Job]:
        with session_scope() as session:
            return queue.claim(
                session, now=self.clock.now(), limit=self._batch, lease=self._lease, server_key=self._server_key
            )

    def _record(self, results: list[tuple[queue.Job, sender.Outcome]]) -> None:
        # One transaction (one commit) for the whole batch; should it fail, each result on its own, so one bad
        # row cannot lose the others.
        try:
            with session_scope() as session:
                queue.record_batch(session, results, now=self.clock.now(), rng=self._rng)
            return
        except Exception:
            log.exception("recording a batch of webhook attempts failed; recording them one by one")
        for job, outcome in results:
            try:
                with session_scope() as session:
                    queue.record(session, job, outcome, now=self.clock.now(), rng=self._rng)
            except Exception:
                log.exception("recording webhook attempt failed", extra={"delivery_id": job.delivery_id})

    async def _maybe_purge(self) -> None:
        if time.monotonic() - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = time.monotonic()

        def purge() -> None:
            with session_scope() as session:
                queue.purge_expired(session, now=self.clock.now())

        await asyncio.to_thread(purge)


def mail_failure_handlers() -> dict[str, mail_dispatch.FailureHandler]:
    """What a message's permanent failure changes, per kind: a failed invitation email fails the invitation."""
    return {"invitation": invitations.delivery_failed}


async def _wait_any(stop: asyncio.Event, nudge: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(nudge.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def run(worker: Worker, stop: asyncio.Event) -> None:
    try:
        await worker.run_forever(stop)
    finally:
        await worker.aclose()


def embedded(settings: Settings) -> Any:
    """The ASGI lifespan that runs a worker inside the API process (`og-server serve`)."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(Worker.from_settings(settings), stop))
        try:
            yield
        finally:
            stop.set()
            # Requests in flight get a moment to finish; any cut off keep their lease and are retried after it.
            with suppress(TimeoutError):
                await asyncio.wait_for(task, timeout=5)

    return lifespan
