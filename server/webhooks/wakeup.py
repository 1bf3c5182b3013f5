"""A process-local nudge from a committing transaction to the worker's event loop.

Fan-out commits happen on request threads; the embedded worker waits on its own loop. Without a nudge it would find
new deliveries only at its next poll. Workers in other processes still rely on polling.
"""

import asyncio
import threading

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
