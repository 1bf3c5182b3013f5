"""Nudges from a committing transaction to the delivery workers' event loops.

Fan-out commits happen on request threads; the embedded worker waits on its own loop. Without a nudge it would find
new deliveries only at its next poll. In this process that is `notify()` after the commit. Workers in other
processes (`og-server worker`, scaled out on PostgreSQL) hear the database's own notification: the transaction
that queues work also runs `NOTIFY og_webhooks` (`notify_in_transaction`), which PostgreSQL delivers at commit and
never for a rolled-back transaction, and each worker LISTENs on a connection of its own (`listen`). Polling stays
as the fallback when the listening connection is down.
"""

import asyncio
import logging
import threading
from contextlib import suppress
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

log = logging.getLogger("og.webhooks")

CHANNEL = "og_webhooks"
_RECONNECT_SECONDS = 5.0

_lock = threading.Lock()
_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []


def register(event: asyncio.Event) -> None:
    with _lock:
        _waiters.append((asyncio.get_running_loop(), event))


def unregister(event: asyncio.Event) -> None:
    with _lock:
        _waiters[:] = [(loop, e) for loop, e in _waiters if e is not event]


def notify() -> None:
    with _lock:
        waiters = list(_waiters)
    for loop, event in waiters:
        if not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


def notify_in_transaction(session: Session) -> None:
    """On PostgreSQL, wake the workers of every process when this transaction commits (once per transaction)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    transaction = session.get_transaction()  # the outermost one: what commits
    if transaction is None or session.info.get(_NOTIFIED) is transaction:
        return
    session.info[_NOTIFIED] = transaction
    session.execute(text(f"NOTIFY {CHANNEL}"))


_NOTIFIED = "og_pg_notified"


def listen_url(database_url: str) -> str | None:
    """The libpq URL to LISTEN on for this database, or None where there are no notifications (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(conninfo: str, nudge: asyncio.Event, stop: asyncio.Event) -> None:
    """Set `nudge` on every notification on CHANNEL until `stop`; reconnects after a failure (meanwhile the
    worker polls)."""
    import psycopg  # noqa: PLC0415 - PostgreSQL only

    while not stop.is_set():
        connection: Any = None
        try:
            # Keepalives: a connection the network silently dropped (no RST) is noticed in about 25 s, not hours.
            connection = await psycopg.AsyncConnection.connect(
                conninfo,
                autocommit=True,
                connect_timeout=5,
                keepalives=1,
                keepalives_idle=10,
                keepalives_interval=5,
                keepalives_count=3,
            )
            await connection.execute(f"LISTEN {CHANNEL}")
            nudge.set()  # anything committed while no one listened is due now
            async for _notification in connection.notifies():
                nudge.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database restarted or is unreachable: poll until it is back
            log.warning("webhook worker: not listening for notifications (%s); polling", type(exc).__name__)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=_RECONNECT_SECONDS)
        finally:
            if connection is not None:
                with suppress(Exception):  # closing a broken connection: nothing to recover
                    await connection.close()
