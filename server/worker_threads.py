"""The short path's hop to a worker thread: asyncio's own executor, where Starlette's `run_in_threadpool` goes through
anyio (a capacity limiter, a cancel scope and its bookkeeping on every call).

Why (issue 22): the hop ran on every request the short path hands to a thread (every plain read on PostgreSQL, every
plain write on both databases), and through anyio it cost about 66 µs of CPU against about 33 here (16 concurrent
callers, a function that returns at once). The request's context goes with it (`contextvars.copy_context`), as with
anyio: the request id, the app's state and connexion's request context are the caller's in the thread.

One difference, on purpose: a caller cancelled while the function runs (the request deadline abandoning its
request) stops waiting at once instead of when the thread is done; the function still runs to its end, as a thread
cannot be interrupted either way, and its result is dropped.
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# As many threads as anyio's default limiter allows Starlette's hop (and as the SQLite engine's pool holds
# connections): the bound on how many of these requests wait on the database at once.
THREADS = 40

_executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="og-short-path")


async def run(function: Callable[..., T], /, **kwargs: Any) -> T:
    """`function(**kwargs)` in a worker thread, in the caller's context."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, function, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor, call)
