"""The request log of the dashboard: every authenticated API request of an account, kept for 7 days.

Recording must not slow the API, so the request path only appends a small dict to an in-process buffer
(`record`, a deque append); a daemon thread per process writes the buffer in batches (one multi-row INSERT every
`FLUSH_INTERVAL` or when `BATCH` rows wait) and deletes what is older than the retention once in a while. Each app
has its own buffer and writer, writing to its own database (server/state.py); code outside any app uses the
process's. If the
database cannot keep up the buffer is capped (`MAX_BUFFERED`): the oldest unwritten entries are dropped and
counted in an error log, never the request. A process that stops flushes what it still holds (`stop`).

Retention is read from `server.clock`: the pages never show an entry older than `RETENTION`, whether or not the
purge has run yet.
"""

import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete
from sqlmodel import Session, col, select

from server import state as app_state
from server.db import engine as db
from server.db.bulk import insert_rows
from server.db.models.api_keys import ApiKey
from server.db.models.dashboard import RequestLogEntry
from server.db.types import utcnow
from server.principal import Principal

log = logging.getLogger("og.request_log")

RETENTION = timedelta(days=7)
FLUSH_INTERVAL = 1.0  # seconds
BATCH = 500
MAX_BUFFERED = 50_000
_PURGE_EVERY = timedelta(hours=1)
_TABLE = cast(Table, RequestLogEntry.__table__)  # type: ignore[attr-defined]


class _Recorder:
    def __init__(self) -> None:
        self.buffer: deque[dict[str, Any]] = deque()
        self.dropped = 0
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # one flush at a time (the thread's, or a test's `flush()`)
        self.thread: threading.Thread | None = None
        self.last_purge: datetime | None = None
        self.database_down = False

    def ensure_started(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.thread is None or not self.thread.is_alive():
                    self.stopping.clear()
                    # The app's state (its database), not the context of the request that happens to start it.
                    self.thread = threading.Thread(
                        target=app_state.bound(self._run), name="og-request-log", daemon=True
                    )
                    self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.wait(FLUSH_INTERVAL)
            self.wake.clear()
            try:
                self.flush()
                self._purge_now_and_then()
            except Exception as exc:  # the log is best effort: a database hiccup must not kill the thread
                if not db.unavailable(exc):
                    # One line, not the traceback: the error's text would carry the whole multi-row statement and
                    # its parameters (the logged requests' paths and ids).
                    log.error("writing the request log failed; retrying: %s", db.describe(exc))
                elif not self.database_down:  # once per outage, not every flush
                    self.database_down = True
                    log.warning("request log: database unavailable (%s); entries kept and retried", db.describe(exc))
            else:
                if self.database_down:
                    self.database_down = False
                    log.info("request log: database reachable again")
        self.flush()

    def flush(self) -> int:
        written = 0
        with self.lock:
            while self.buffer:
                rows = [self.buffer.popleft() for _ in range(min(BATCH, len(self.buffer)))]
                try:
                    with db.engine().begin() as connection:
                        insert_rows(connection, _TABLE, rows)  # multi-row statements: see server/db/bulk.py
                except Exception:
                    self.buffer.extendleft(reversed(rows))  # keep them for the next try
                    raise
                written += len(rows)
            if self.dropped:
                log.error("the request log buffer overflowed; %d entries were dropped", self.dropped)
                self.dropped = 0
        return written

    def _purge_now_and_then(self) -> None:
        now = utcnow()
        if self.last_purge is None or now - self.last_purge >= _PURGE_EVERY:
            self.last_purge = now
            purge()


_recorder = _Recorder()  # the process's, outside any app
_recorder_lock = threading.Lock()


def _current_recorder() -> _Recorder:
    current = app_state.current()
    if current is None:
        return _recorder
    recorder: _Recorder | None = current.workers.get("request_log")
    if recorder is None:
        with _recorder_lock:
            recorder = current.workers.setdefault("request_log", _Recorder())
    return recorder


def record(
    principal: Principal,
    *,
    method: str,
    path: str,
    status: int,
    request_id: str,
    duration_ms: float,
    started_at: datetime,
    problem: dict[str, Any] | None,
) -> None:
    """Queue one request for the log (called on the request path: no I/O here)."""
    recorder = _current_recorder()
    if len(recorder.buffer) >= MAX_BUFFERED:
        recorder.buffer.popleft()
        recorder.dropped += 1
    code = problem.get("code") if problem else None
    recorder.buffer.append(
        {
            "account_id": principal.account_id,
            "environment": principal.environment,
            "credential_id": principal.credential_id,
            "credential_kind": principal.kind,
            "method": method,
            "path": path[:500],
            "status": status,
            "error_code": code[:80] if isinstance(code, str) else None,
            "request_id": request_id[:128],
            "duration_ms": duration_ms,
            "problem": problem,
            "created_at": started_at,
        }
    )
    if len(recorder.buffer) >= BATCH:
        recorder.wake.set()
    recorder.ensure_started()


def flush() -> int:
    """Write everything buffered now (tests, and shutdown); returns the number of entries written."""
    return _current_recorder().flush()


def stop() -> None:
    """Stop the writer thread after it has written what it holds."""
    recorder = _current_recorder()
    thread = recorder.thread
    if thread is not None and thread.is_alive():
        recorder.stopping.set()
        recorder.wake.set()
        thread.join(timeout=10)
    recorder.flush()


def purge() -> int:
    """Delete entries older than the retention."""
    with db.engine().begin() as connection:
        result = connection.execute(delete(_TABLE).where(_TABLE.c.created_at < utcnow() - RETENTION))
        return int(result.rowcount or 0)


@dataclass(frozen=True)
class Search:
    request_id: str = ""
    status: str = ""  # "404", "4xx", "5xx", "error" (≥ 400) or "" for all
    path: str = ""  # a substring of the path


def entries(session: Session, principal: Principal, search: Search, *, limit: int = 100) -> Sequence[RequestLogEntry]:
    """The newest entries of the principal's account and environment within the retention that match `search`."""
    statement = select(RequestLogEntry).where(
        col(RequestLogEntry.account_id) == principal.account_id,
        col(RequestLogEntry.environment) == principal.environment,
        col(RequestLogEntry.created_at) >= utcnow() - RETENTION,
    )
    if search.request_id.strip():
        statement = statement.where(col(RequestLogEntry.request_id) == search.request_id.strip())
    status = search.status.strip().lower()
    if status.isdigit():
        statement = statement.where(col(RequestLogEntry.status) == int(status))
    elif len(status) == 3 and status[0] in "12345" and status.endswith("xx"):
        floor = int(status[0]) * 100
        statement = statement.where(col(RequestLogEntry.status) >= floor, col(RequestLogEntry.status) < floor + 100)
    elif status == "error":
        statement = statement.where(col(RequestLogEntry.status) >= 400)
    if search.path.strip():
        escaped = search.path.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(col(RequestLogEntry.path).like(f"%{escaped}%", escape="\\"))
    ordered = statement.order_by(col(RequestLogEntry.created_at).desc(), col(RequestLogEntry.id).desc())
    return session.exec(ordered.limit(limit)).all()


def credential_names(session: Session, principal: Principal, entries: Sequence[RequestLogEntry]) -> dict[str, str]:
    """The names of the API keys the entries were made with (OAuth grants have none), for display."""
    key_ids = {item.credential_id for item in entries if item.credential_kind == "api_key"}
    if not key_ids:
        return {}
    rows = session.exec(
        select(ApiKey.id, ApiKey.name).where(
            col(ApiKey.id).in_(key_ids), col(ApiKey.account_id) == principal.account_id
        )
    ).all()
    return dict(rows)


def entry(session: Session, principal: Principal, entry_id: int) -> RequestLogEntry | None:
    found = session.get(RequestLogEntry, entry_id)
    if found is None or (found.account_id, found.environment) != (principal.account_id, principal.environment):
        return None
    if found.created_at < utcnow() - RETENTION:
        return None
    return found
