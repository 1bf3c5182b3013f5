"""Idempotency keys on mutating POSTs: a retried request is answered with the first response, never run twice.

The key belongs to the credential (API key or OAuth grant), so integrations never collide. The first response to a
(credential, key) pair is stored for 24 hours and replayed with `Idempotent-Replayed: true`; the same key with a
different request is refused with 409 `idempotency_key_reused`; a key whose first request is still running with 409
`idempotency_key_in_use`. The insert of the `in_progress` row is the lock (a unique constraint), so two concurrent
requests cannot both run, on any number of server processes sharing the database.

Not stored, so a retry runs again: 5xx answers and 429s, but only when the request changed nothing.

Crash safety (issue 23): the claim, the handler's work and the stored response are separate transactions, so a
process killed after the handler committed but before the response was stored would leave the key `in_progress`,
and a retry after `ABANDONED_AFTER` would run the request again (a second payout). So the first transaction of the
request that writes anything also marks the key `committed`, in that same transaction (a session hook, below): a
key is then either untouched by committed work (`in_progress`, safe to take over once abandoned) or known to have
done its work. A retry of a `committed` key whose response was never stored is never run again: it answers 409
`idempotency_key_in_use` while the first request may still be running, then 409 `idempotency_response_lost`. The
response is stored before it is sent, so a client that got an answer always gets the same answer on a retry.

The body is hashed as it streams past, never buffered, so uploads keep their memory bound; only a replay has to read
a retried body to the end (to compare it) before answering.
"""

import hashlib
import logging
import os
import signal
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, delete, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.db.engine import session_scope
from server.db.models.idempotency import IdempotencyRecord
from server.db.types import utcnow
from server.principal import Principal
from server.problems import ApiProblem
from server.request_context import request_id_var

RETENTION = timedelta(hours=24)
# An in_progress row older than this belongs to a request that died (crash, kill): a retry may take it over.
ABANDONED_AFTER = timedelta(minutes=2)
MAX_STORED_BODY = 256 * 1024
_REPLAYED_HEADERS = ("content-type", "location")

log = logging.getLogger("og.idempotency")

# Test-only fault injection (tests/server/test_idempotency_crash.py, `nox -s reliability`): a process started with
# this variable kills itself with SIGKILL right after committing the work of a request whose Idempotency-Key starts
# with its value, before the response is stored or sent. Unset in production.
FAULT_ENV = "OG_FAULT_KILL_AFTER_COMMIT"


@dataclass
class _Pending:
    """The key of the idempotent request running in this context, until the request's work first commits."""

    record_id: int
    key: str
    active: bool = True
    committed: bool = False


_pending: ContextVar[_Pending | None] = ContextVar("og_idempotency_pending", default=None)
_WROTE = "og_idempotency_wrote"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: object) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _mark_committed(session: Session) -> None:
    """In the transaction of the request's first write: the key is `committed` when (and only when) the work is."""
    pending = _pending.get()
    if pending is None or not pending.active or pending.committed:
        return
    if not (session.info.get(_WROTE) or session.new or session.dirty or session.deleted):
        return  # a read-only unit of work (authentication, lookups) commits nothing of the request's
    session.execute(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.id) == pending.record_id, col(IdempotencyRecord.status) == "in_progress")
        .values(status="committed")
    )
    session.info["og_idempotency_marking"] = pending


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_WROTE, None)
    pending = session.info.pop("og_idempotency_marking", None)
    if isinstance(pending, _Pending):
        pending.committed = True
        prefix = os.environ.get(FAULT_ENV)
        if prefix and pending.key.startswith(prefix):
            os.kill(os.getpid(), signal.SIGKILL)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop("og_idempotency_marking", None)


def _principal(scope: Scope) -> Principal | None:
    context = scope.get("extensions", {}).get("connexion_context", {})
    principal = (context.get("token_info") or {}).get("principal")
    return principal if isinstance(principal, Principal) else None


@dataclass(frozen=True)
class Stored:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """The outcome of presenting a key: run the request (`record_id`), or answer from `stored`."""

    record_id: int | None = None
    stored: Stored | None = None
    stored_hash: str | None = None


def claim(session: Session, *, owner: str, key: str, method: str, path: str) -> Claim:
    """Take the key for a new request, or find what an earlier request with it left."""
    now = utcnow()
    existing = session.exec(
        select(IdempotencyRecord).where(col(IdempotencyRecord.scope) == owner, col(IdempotencyRecord.key) == key)
    ).first()
    if existing is not None:
        abandoned = existing.status in ("in_progress", "committed") and now - existing.created_at > ABANDONED_AFTER
        if existing.expires_at <= now or (abandoned and existing.status == "in_progress"):
            session.delete(existing)
            session.flush()
        elif existing.status == "committed" and abandoned:
            raise ApiProblem(
                409,
                "idempotency_response_lost",
                "The request with this Idempotency-Key was carried out, but the server stopped before its response "
                "was stored. It will not run again: look up its result (for example in the list of payouts) "
                "instead of retrying.",
            )
        elif existing.status in ("in_progress", "committed"):
            raise ApiProblem(
                409,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry after it finished.",
                headers={"Retry-After": "1"},
            )
        else:
            assert existing.response_status is not None
            stored = Stored(
                existing.response_status, dict(existing.response_headers or {}), existing.response_body or b""
            )
            return Claim(stored=stored, stored_hash=existing.request_hash)
    record = IdempotencyRecord(
        scope=owner,
        key=key,
        request_method=method,
        request_path=path,
        request_hash="",
        status="in_progress",
        created_at=now,
        expires_at=now + RETENTION,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request inserted the same key first
        raise ApiProblem(
            409,
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed.",
            headers={"Retry-After": "1"},
        ) from exc
    assert record.id is not None
    return Claim(record_id=record.id)


def complete(
    session: Session, record_id: int, *, request_hash: str, response: Stored | None, work_committed: bool = False
) -> None:
    """Store the response for replays, or (None) release the key so that a retry runs again — unless the request's
    work committed (a 5xx or a crash after it): then the key stays `committed` and the request never runs again."""
    record = session.get(IdempotencyRecord, record_id)
    if record is None:
        return
    if response is None:
        if work_committed or record.status == "committed":
            record.request_hash = request_hash
            session.add(record)
        else:
            session.delete(record)
        return
    record.request_hash = request_hash
    record.status = "completed"
    record.response_status = response.status
    record.response_headers = response.headers
    record.response_body = response.body
    record.completed_at = utcnow()
    session.add(record)


def purge_expired(session: Session) -> int:
    result = session.exec(delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def _in_session(work: Callable[[Session], Any]) -> Any:
    with session_scope() as session:
        return work(session)


class IdempotencyMiddleware:
    """Inside connexion after security (it needs the credential), before request validation (so a replay answers
    without validating or running anything again)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get("idempotency-key")
        principal = _principal(scope)
        if key is None or principal is None or not (0 < len(key) <= 255):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        digest = hashlib.sha256(f"{method} {path} {scope.get('query_string', b'').decode('latin-1')}\n".encode())
        outcome: Claim = await run_in_threadpool(
            _in_session, lambda s: claim(s, owner=principal.credential_id, key=key, method=method, path=path)
        )
        if outcome.stored is not None:
            await self._replay(receive, send, digest, outcome)
            return
        assert outcome.record_id is not None
        await self._run(scope, receive, send, digest, _Pending(outcome.record_id, key))

    async def _replay(self, receive: Receive, send: Send, digest: Any, outcome: Claim) -> None:
        more = True
        while more:  # read (and hash) the retried body to the end without keeping it
            message = await receive()
            if message["type"] != "http.request":
                break
            digest.update(message.get("body", b""))
            more = message.get("more_body", False)
        if digest.hexdigest() != outcome.stored_hash:
            raise ApiProblem(
                409,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request. Use a new key for a new request.",
            )
        stored = outcome.stored
        assert stored is not None
        headers = [(k.encode(), v.encode()) for k, v in stored.headers.items()]
        headers += [
            (b"idempotent-replayed", b"true"),
            (b"x-request-id", request_id_var.get().encode()),
            (b"content-length", str(len(stored.body)).encode()),
        ]
        await send({"type": "http.response.start", "status": stored.status, "headers": headers})
        await send({"type": "http.response.body", "body": stored.body})

    async def _run(self, scope: Scope, receive: Receive, send: Send, digest: Any, pending: _Pending) -> None:
        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
            return message

        recorder = _Recorder(pending, digest, send)
        token = _pending.set(pending)
        try:
            await self.app(scope, hashing_receive, recorder.send)
        finally:
            _pending.reset(token)
            pending.active = False
            if not recorder.recorded:
                await recorder.record(None)


class _Recorder:
    """Holds the response until it is complete, stores it, then sends it (a large one streams, unstored)."""

    def __init__(self, pending: _Pending, digest: Any, send: Send) -> None:
        self.pending, self.digest, self.downstream = pending, digest, send
        self.held: list[Message] = []
        self.size = 0
        self.passing_through = False
        self.recorded = False

    async def record(self, response: Stored | None) -> None:
        self.recorded = True
        self.pending.active = False
        committed, request_hash = self.pending.committed, self.digest.hexdigest()
        try:
            await run_in_threadpool(
                _in_session,
                lambda s: complete(
                    s, self.pending.record_id, request_hash=request_hash, response=response, work_committed=committed
                ),
            )
        except Exception:  # answer anyway; claim() handles the key that was left behind
            log.exception("could not record the outcome of an idempotent request")

    async def send(self, message: Message) -> None:
        if self.passing_through:
            await self.downstream(message)
            return
        self.held.append(message)
        if message["type"] != "http.response.body":
            return
        self.size += len(message.get("body", b""))
        if self.size > MAX_STORED_BODY:
            self.passing_through = True  # too big to keep: not stored, streamed as it comes
        elif message.get("more_body", False):
            return
        else:
            # Stored before it is sent: a client that saw this answer gets it again on a retry.
            await self.record(self._response())
        for item in self.held:
            await self.downstream(item)
        self.held.clear()

    def _response(self) -> Stored | None:
        start = self.held[0]
        status = int(start.get("status", 500))
        if status >= 500 or status == 429:
            return None
        headers = Headers(raw=start.get("headers", []))
        kept = {name: headers[name] for name in _REPLAYED_HEADERS if name in headers}
        return Stored(status, kept, b"".join(m.get("body", b"") for m in self.held[1:]))
