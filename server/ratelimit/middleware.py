"""Applies the rate limit to every HTTP request and puts the rate-limit headers on every response.

It sits inside `RequestGuardMiddleware` (so its 429s carry the request id and are logged) and outside connexion's
exception handling (so 401s, 404s and 422s rendered there pass through it and get the headers too). It decides
before anything else runs, which needs the caller: it resolves the bearer token through the same function the
security handlers use, and that function memoises the result on the request scope, so the credential is still
looked up only once per request.
"""

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import security
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.openapi.routes import by_slashes, template_regex
from server.principal import Principal
from server.problems import ApiProblem, DomainError
from server.ratelimit import policies
from server.ratelimit.gcra import Decision
from server.ratelimit.limiter import RateLimiter
from server.request_context import request_id_var

_DECIDED = "og.rate_limit"  # a dict shared by both middlewares: {"decision": Decision} once decided

CredentialResolver = Callable[[MutableMapping[str, Any], str], Awaitable[Principal]]
PlanLookup = Callable[[str], Awaitable[str]]


class PublicOperations:
    """Which (method, path) pairs the document declares with `security: []`."""

    def __init__(self, document: dict[str, Any]) -> None:
        default_security = document.get("security", [])
        routes: list[tuple[int, str, re.Pattern[str], set[str]]] = []
        for template, item in document.get("paths", {}).items():
            public = {
                method.upper()
                for method, operation in item.items()
                if isinstance(operation, dict) and operation.get("security", default_security) == []
            }
            # Literal segments win over templates: fewer parameters first.
            routes.append((template.count("{"), template, template_regex(template), public))
        routes.sort(key=lambda route: route[0])
        self._by_slashes = by_slashes((template, (pattern, public)) for _count, template, pattern, public in routes)

    def is_public(self, method: str, path: str) -> bool:
        for pattern, public in self._by_slashes.get(path.count("/"), ()):
            if pattern.match(path):
                return method.upper() in public or (method.upper() == "HEAD" and "GET" in public)
        return False


async def account_plan(account_id: str) -> str:
    """The account's plan, read per request so a plan change applies to the next request."""

    def read() -> str:
        with session_scope() as session:
            plan = session.exec(select(Account.plan).where(Account.id == account_id)).first()
            return plan or "free"

    return await run_in_threadpool(read)


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        document: dict[str, Any],
        resolve_credential: CredentialResolver = security.resolve_credential,
        plan_of: PlanLookup = account_plan,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.public = PublicOperations(document)
        self.resolve_credential = resolve_credential
        self.plan_of = plan_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        decision = await self.decide(scope)
        scope.setdefault(_DECIDED, {})["decision"] = decision
        headers = decision.headers()
        if not decision.allowed:
            await _send_rate_limited(send, decision, headers, scope["path"])
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def decide(self, scope: Scope) -> Decision:
        client_ip = _client_ip(scope)
        principal = await self._principal(scope)
        if principal is None:
            return await self.limiter.check(policies.public_key(client_ip), policies.PUBLIC)
        plan = "" if principal.environment == "sandbox" else principal.plan or await self.plan_of(principal.account_id)
        policy = policies.for_credential(principal, plan)
        return await self.limiter.check(policies.credential_key(principal, client_ip), policy)

    async def _principal(self, scope: Scope) -> Principal | None:
        """The authenticated caller, or None for public operations and failed or missing credentials."""
        if self.public.is_public(scope["method"], scope["path"]):
            return None
        scheme, _, token = (Headers(scope=scope).get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return await self.resolve_credential(scope, token.strip())
        except DomainError:
            return None
        except Exception:
            # E.g. the database is down: limit by IP; the security handler tries again and renders the error.
            return None


class DecisionHeaders:
    """Inside connexion, next to the handlers: puts the decision's headers on their responses before connexion's
    response validation checks them against the spec (which declares them required)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        decision = scope.get(_DECIDED, {}).get("decision") if scope["type"] == "http" else None
        if decision is None:
            await self.app(scope, receive, send)
            return
        headers = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class GuardRefusalHeaders(RateLimitMiddleware):
    """Outside the request guard: rate-limit headers on the guard's own early refusals (a `Content-Length` over the
    body limit), the only responses that never reach `RateLimitMiddleware`. Such a request counts like any other."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slot: dict[str, Decision] = {}
        scope[_DECIDED] = slot

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and "decision" not in slot:
                response_headers = MutableHeaders(scope=message)
                for name, value in (await self.decide(scope)).headers().items():
                    if name != "Retry-After":
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _client_ip(scope: Scope) -> str:
    # The connection's peer as the ASGI server reports it; behind a proxy, uvicorn's --forwarded-allow-ips makes
    # that the original client. X-Forwarded-For is never read here: any client could forge it.
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _send_rate_limited(send: Send, decision: Decision, headers: dict[str, str], path: str) -> None:
    problem = ApiProblem(
        429,
        "rate_limited",
        f"Rate limit of {decision.policy.limit} requests per minute exceeded; "
        f"retry in {decision.retry_after_seconds} seconds.",
    )
    body = json.dumps(problem.body(request_id=request_id_var.get(), instance=path)).encode()
    raw_headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": 429, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
