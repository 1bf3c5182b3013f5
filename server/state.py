"""The application's state: what one app holds, made current for that app's requests and background work.

`server.app.create_app(settings)` builds an `AppState` (its settings, database engine, file store, the spec's
error catalogue and route table, its in-process workers) and stores it on the app (`app.state`). The app sets it as
the current state for every request and for its lifespan, so the accessors the code calls everywhere —
`server.db.engine.engine()` and `settings()`, `server.config.active()`, `server.storage.store()`, the problem
catalogue, the `Allow` table — resolve to the app that is handling the request. Two apps in one process (tests)
therefore never share a database, a file store or a key.

Outside any app (CLI commands, seeds, scripts, `og-server worker`, a test's own queries) nothing is current and
the accessors read the process default, set by `server.db.engine.configure()`, `server.config.activate()`,
`server.storage.configure()` … as before; `create_app` sets those too, so the last app built is the default.

Asyncio tasks and `run_in_threadpool`/`asyncio.to_thread` copy the context, so they see the state of the task that
started them. A plain `threading.Thread` starts with an empty context: threads an app starts run their target
through `AppState.bound` (or `bound`), which makes the app's state current there and nothing else of the starting
context (not a request's sandbox clock).

Infrastructure: this module imports nothing of the server at run time, so every layer may use it.
"""

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import Context, ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from server.config import Settings
    from server.storage import FileStore


@dataclass(frozen=True)
class RouteTable:
    """Which methods each path of the document accepts (`server.openapi.routes`), for truthful `Allow` headers."""

    templated: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = ()
    static: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class AppState:
    settings: "Settings"
    engine: "Engine"
    store: "FileStore"
    # The spec's `x-error-codes` (code → status, title, description) and the statuses alone, for `DomainError`s.
    catalogue: Mapping[str, Mapping[str, Any]]
    statuses: Mapping[str, int]
    routes: RouteTable
    # The app's in-process workers and buffers by name (the QC and sandbox threads, the request log's writer):
    # registered by their modules (`server.qc.worker`, `server.sandbox_worker`, `server.services.request_log`).
    workers: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def bound(self, target: Callable[[], None]) -> Callable[[], None]:
        """`target`, run with this state current (and nothing else of the caller's context): a thread's target."""

        def run() -> None:
            context = Context()
            context.run(_current.set, self)
            context.run(target)

        return run


_current: ContextVar[AppState | None] = ContextVar("og_app_state", default=None)


def current() -> AppState | None:
    """The state of the app handling this request or running this work; None outside any app."""
    return _current.get()


def set_current(state: AppState | None) -> Token[AppState | None]:
    """Make `state` current until `reset_current(token)` (the app, around each request: cheaper than `use`)."""
    return _current.set(state)


def reset_current(token: Token[AppState | None]) -> None:
    _current.reset(token)


@contextmanager
def use(state: AppState | None) -> Iterator[None]:
    """Make `state` current for the block (the app does this for each request; tests to act as an app)."""
    token = _current.set(state)
    try:
        yield
    finally:
        _current.reset(token)


def bound(target: Callable[[], None]) -> Callable[[], None]:
    """`target`, to run in a new thread with the current app's state (none outside an app: the process default)."""
    state = _current.get()
    if state is None:
        return lambda: Context().run(target)
    return state.bound(target)
