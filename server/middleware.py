"""The outermost ASGI middleware: request ids, access logs, the account's request log and request body limits.

It sits outside connexion's exception handling, so it renders its own refusals (oversized or unreadable
`Content-Length`) and never raises; a body that turns out larger than announced is refused from inside the stack
(the receive wrapper raises `ApiProblem`, which connexion's exception middleware renders).
"""

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import clock
from server.openapi import routes
from server.openapi.routes import template_regex
from server.principal import Principal
from server.problems import ApiProblem
from server.request_context import choose_request_id, request_id_var
from server.security import RESOLVED_CREDENTIALS
from server.services import request_log
from server.services.api_keys import RefusedKeyError

log = logging.getLogger("og.access")
_MAX_PROBLEM_BYTES = 16 * 1024  # a problem document is small; anything longer is not kept in the request log


class RequestGuardMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        upload_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.upload_paths = [template_regex(path) for path in upload_paths]

    def _is_upload(self, path: str) -> bool:
        return any(pattern.match(path) for pattern in self.upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = choose_request_id(headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        started_at = clock.now()
        status_holder: dict[str, int] = {}
        problem_body: bytearray | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal problem_body
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["X-Request-Id"] = request_id
                status_holder["status"] = message["status"]
                if message["status"] >= 400 and "problem+json" in response_headers.get("content-type", ""):
                    problem_body = bytearray()
            elif problem_body is not None and len(problem_body) <= _MAX_PROBLEM_BYTES:
                problem_body += message.get("body", b"")
            await send(message)

        try:
            upload = self._is_upload(scope["path"])
            limit = self.max_upload_bytes if upload else self.max_body_bytes
            refusal = _check_content_length(headers, limit)
            if (
                refusal is None
                and not upload  # uploads are parsed as a stream (server.openapi.multipart), never buffered
                and "content-length" not in headers
                and "chunked" in headers.get("transfer-encoding", "")
            ):
                # connexion reads a body only when Content-Length announces one. A chunked JSON body is small
                # (bounded by the limit), so it is collected here and replayed with its length.
                scope, receive, refusal = await _buffer_chunked(scope, receive, limit)
            allowed = routes.refused_method(scope["path"], scope["method"])
            if refusal is None and allowed is not None:
                refusal = ApiProblem(
                    405,
                    "method_not_allowed",
                    f"This route accepts {', '.join(allowed)}.",
                    headers={"Allow": ", ".join(allowed)},
                )
            if refusal is not None:
                await _send_problem(send_with_id, refusal, request_id, scope["path"])
                return
            await self.app(scope, _limited(receive, limit), send_with_id)
        finally:
            logged_path = _redacted(scope["path"])
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            log.info(
                "%s %s %s",
                scope["method"],
                logged_path,
                status_holder.get("status", 0),
                extra={
                    "method": scope["method"],
                    "path": logged_path,
                    "status": status_holder.get("status", 0),
                    "duration_ms": duration_ms,
                },
            )
            principal = _caller(scope)
            if principal is not None:
                request_log.record(
                    principal,
                    method=scope["method"],
                    path=logged_path,
                    status=status_holder.get("status", 0),
                    request_id=request_id,
                    duration_ms=duration_ms,
                    started_at=started_at,
                    problem=_problem(problem_body),
                )
            request_id_var.reset(token)


# Paths that carry a secret (an invitation, password reset or email verification link's token): the access log
# keeps only the route.
_SECRET_PATHS = ("/invitations/", "/reset-password/", "/verify-email/")


def _redacted(path: str) -> str:
    for prefix in _SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + "[redacted]"
    return path


def _caller(scope: Scope) -> Principal | None:
    """The credential this request authenticated with, or the known key it was refused for (the security layer
    memoises the outcome on the scope); None for anonymous calls and unknown credentials."""
    resolved = scope.get(RESOLVED_CREDENTIALS)
    if not resolved:
        return None
    for outcome in resolved.values():
        if isinstance(outcome, Principal):
            return outcome
        if isinstance(outcome, RefusedKeyError):  # a revoked or expired key: its owner sees the refused call
            return outcome.owner
    return None


def _problem(body: bytearray | None) -> dict[str, Any] | None:
    if not body or len(body) > _MAX_PROBLEM_BYTES:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _check_content_length(headers: Headers, limit: int) -> ApiProblem | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        return ApiProblem(400, "bad_request", "The Content-Length header is not a non-negative integer.")
    if int(raw) > limit:
        return ApiProblem(413, "payload_too_large", f"The request body exceeds {limit} bytes.")
    return None


async def _buffer_chunked(scope: Scope, receive: Receive, limit: int) -> tuple[Scope, Receive, ApiProblem | None]:
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            return (
                scope,
                receive,
                ApiProblem(413, "payload_too_large", f"The request body exceeds {limit} bytes."),
            )
    new_scope = dict(scope)
    new_scope["headers"] = [
        (name, value)
        for name, value in scope["headers"]
        if name.lower() not in (b"transfer-encoding", b"content-length")
    ] + [(b"content-length", str(len(body)).encode())]
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}
        return await receive()

    return new_scope, replay, None


def _limited(receive: Receive, limit: int) -> Receive:
    """Count body bytes as they arrive: a chunked or lying client cannot get past the limit."""
    seen = 0

    async def receive_limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise ApiProblem(413, "payload_too_large", f"The request body exceeds {limit} bytes.")
        return message

    return receive_limited


async def _send_problem(send: Send, problem: ApiProblem, request_id: str, path: str) -> None:
    body = json.dumps(problem.body(request_id=request_id, instance=path)).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    headers += [(name.lower().encode(), value.encode()) for name, value in (problem.headers or {}).items()]
    start: dict[str, Any] = {"type": "http.response.start", "status": problem.status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})


class RequestDeadlineMiddleware:
    """A safety net, not the bound itself: a request that has not begun its response within `seconds` gets
    `503 request_timeout` with Retry-After, so no client waits forever whatever hangs below (the database's
    timeouts, the rate limiter's store, a provider's client should each answer well before).

    Sync handlers run in worker threads, which cannot be interrupted: the request's task goes on in the background
    (its later output is discarded), so the work may still complete; that is why the problem says to retry with the
    same Idempotency-Key. Uploads (streamed bodies of any length) and responses already begun are not cut.
    """

    def __init__(self, app: ASGIApp, *, seconds: float, upload_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.seconds = seconds
        self.upload_paths = [template_regex(path) for path in upload_paths]
        self._abandoned: set[asyncio.Task[None]] = set()  # referenced until they end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.seconds <= 0
            or any(pattern.match(scope["path"]) for pattern in self.upload_paths)
        ):
            await self.app(scope, receive, send)
            return
        state = {"started": False, "abandoned": False}

        async def send_unless_abandoned(message: Message) -> None:
            if state["abandoned"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, send_unless_abandoned))
        done = await _ends_within(task, self.seconds)
        while not done and state["started"]:  # a response under way (a download) is never cut
            done = await _ends_within(task, self.seconds)
        if done:
            task.result()  # re-raise what the app raised, as without this middleware
            return
        state["abandoned"] = True
        self._abandoned.add(task)
        task.add_done_callback(self._forget)
        task.cancel()  # ends at the next await; a worker thread runs to its end first
        log.error("request unanswered after %.0f s: answered 503 request_timeout", self.seconds)
        problem = ApiProblem(
            503,
            "request_timeout",
            "The request did not complete in time. It may still complete: retry after Retry-After seconds, with the "
            "same Idempotency-Key for a POST.",
        )
        body = json.dumps(problem.body(request_id=request_id_var.get(), instance=scope["path"])).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(REQUEST_TIMEOUT_RETRY_AFTER).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _forget(self, task: "asyncio.Task[None]") -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("abandoned request failed: %s", type(task.exception()).__name__)


REQUEST_TIMEOUT_RETRY_AFTER = 5


async def _ends_within(task: "asyncio.Task[None]", seconds: float) -> bool:
    """Whether `task` ends within `seconds` (it goes on either way): `asyncio.wait` for one task, with one future and
    one timer instead of its sets and per-call bookkeeping (every request waits here; issue 22)."""
    if task.done():
        return True
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[None] = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(seconds, wake)
    task.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    return task.done()
