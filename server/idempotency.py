"""Idempotency keys on mutating POSTs: a retried request is answered with the first response, never run twice.

The key belongs to the credential (API key or OAuth grant), so integrations never collide. The first response to a
(credential, key) pair is stored for 24 hours and replayed with `Idempotent-Replayed: true`; the same key with a
different request is refused with 409 `idempotency_key_reused`; a key whose first request is still running with 409
`idempotency_key_in_use`. The insert of the `in_progress` row is the lock (a unique constraint), so two concurrent
requests cannot both run, on any number of server processes sharing the database.

Not stored, so a retry runs again: 5xx answers (the request may not have happened) and 429s (it did not).

The body is hashed as it streams past, never buffered, so uploads keep their memory bound; only a replay has to read
a retried body to the end (to compare it) before answering.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
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
        abandoned = existing.status == "in_progress" and now - existing.created_at > ABANDONED_AFTER
        if existing.expires_at <= now or abandoned:
            session.delete(existing)
            session.flush()
        elif existing.status == "in_progress":
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


def complete(session: Session, record_id: int, *, request_hash: str, response: Stored | None) -> None:
    """Store the response for replays, or (None) release the key so that a retry runs again."""
    record = session.get(IdempotencyRecord, record_id)
    if record is None:
        return
    if response is None:
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
        await self._run(scope, receive, send, digest, outcome.record_id)

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

    async def _run(self, scope: Scope, receive: Receive, send: Send, digest: Any, record_id: int) -> None:
        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
            return message

        start: dict[str, Any] = {}
        body = bytearray()
        too_big = False

        async def capturing_send(message: Message) -> None:
            nonlocal too_big
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body" and not too_big:
                body.extend(message.get("body", b""))
                too_big = len(body) > MAX_STORED_BODY
            await send(message)

        response: Stored | None = None
        try:
            await self.app(scope, hashing_receive, capturing_send)
            status = int(start.get("status", 500))
            if status < 500 and status != 429 and not too_big:
                headers = Headers(raw=start.get("headers", []))
                kept = {name: headers[name] for name in _REPLAYED_HEADERS if name in headers}
                response = Stored(status, kept, bytes(body))
        finally:
            final = response
            try:
                await run_in_threadpool(
                    _in_session, lambda s: complete(s, record_id, request_hash=digest.hexdigest(), response=final)
                )
            except Exception:  # the response is already sent; a stale in_progress row is taken over later
                log.exception("could not record the outcome of an idempotent request")
