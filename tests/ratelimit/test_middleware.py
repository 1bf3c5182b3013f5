"""The middleware's choice of budget, at the unit level: OAuth grants, plans, public operations, client IPs."""

import asyncio
from typing import Any

import httpx
import pytest

from server.principal import Principal
from server.problems import ApiProblem
from server.ratelimit.limiter import RateLimiter
from server.ratelimit.middleware import PublicOperations, RateLimitMiddleware
from server.ratelimit.stores import MemoryStore
from tests.ratelimit.clock import FakeClock

DOCUMENT: dict[str, Any] = {
    "security": [{"apiKey": []}],
    "paths": {
        "/api/v1/things": {"get": {"operationId": "listThings"}},
        "/api/v1/things/{slug}": {"get": {"operationId": "getPublicThing", "security": []}},
        "/api/v1/things/mine": {"get": {"operationId": "getMine"}},
    },
}

GRANTS = {
    "tok_business": Principal("acct_b", "production", frozenset(), "oag_b", "oauth", plan="business"),
    "tok_other": Principal("acct_b", "production", frozenset(), "oag_c", "oauth", plan="business"),
    "tok_unknown_plan": Principal("acct_u", "production", frozenset(), "oag_u", "oauth"),
    "tok_sandbox": Principal("acct_s", "sandbox", frozenset(), "oag_s", "oauth"),
}


async def resolve(scope: Any, token: str) -> Principal:
    if token not in GRANTS:
        raise ApiProblem(401, "invalid_token", "The access token is not valid.")
    return GRANTS[token]


async def echo(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _app(plans: dict[str, str]) -> RateLimitMiddleware:
    async def plan_of(account_id: str) -> str:
        return plans[account_id]

    limiter = RateLimiter(MemoryStore(FakeClock()))
    return RateLimitMiddleware(echo, limiter=limiter, document=DOCUMENT, resolve_credential=resolve, plan_of=plan_of)


def _get(app: Any, path: str, token: str | None = None, client_ip: str = "10.0.0.1") -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client_ip, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return await client.get(path, headers=headers)

    return asyncio.run(call())


def test_an_oauth_grant_gets_its_plan_and_its_own_budget() -> None:
    app = _app({})
    first = _get(app, "/api/v1/things", "tok_business")
    assert first.headers["X-RateLimit-Limit"] == "600"
    assert first.headers["RateLimit-Policy"] == '"business";q=600;w=60'
    assert _get(app, "/api/v1/things", "tok_business").headers["X-RateLimit-Remaining"] == "598"
    assert _get(app, "/api/v1/things", "tok_other").headers["X-RateLimit-Remaining"] == "599"


def test_the_plan_is_read_when_the_principal_does_not_carry_it() -> None:
    plans = {"acct_u": "free"}
    app = _app(plans)
    assert _get(app, "/api/v1/things", "tok_unknown_plan").headers["X-RateLimit-Limit"] == "120"
    plans["acct_u"] = "business"  # an upgrade applies to the very next request
    assert _get(app, "/api/v1/things", "tok_unknown_plan").headers["X-RateLimit-Limit"] == "600"


def test_sandbox_grants_are_bound_to_the_client_ip() -> None:
    app = _app({})
    for _ in range(60):
        assert _get(app, "/api/v1/things", "tok_sandbox").status_code == 200
    refused = _get(app, "/api/v1/things", "tok_sandbox")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    elsewhere = _get(app, "/api/v1/things", "tok_sandbox", client_ip="10.0.0.2")
    assert elsewhere.status_code == 200
    assert elsewhere.headers["X-RateLimit-Remaining"] == "59"


def test_public_operations_and_failed_credentials_are_limited_per_ip() -> None:
    app = _app({})
    public = _get(app, "/api/v1/things/some-slug", "tok_business")
    assert public.headers["RateLimit-Policy"].startswith('"public"')
    invalid = _get(app, "/api/v1/things", "tok_wrong")
    assert invalid.headers["RateLimit-Policy"].startswith('"public"')
    assert int(invalid.headers["X-RateLimit-Remaining"]) == int(public.headers["X-RateLimit-Remaining"]) - 1
    assert _get(app, "/api/v1/things/mine", "tok_business").headers["X-RateLimit-Limit"] == "600"


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("GET", "/api/v1/things/abc", True),
        ("HEAD", "/api/v1/things/abc", True),
        ("GET", "/api/v1/things/mine", False),
        ("GET", "/api/v1/things", False),
        ("POST", "/api/v1/things/abc", False),
        ("GET", "/nowhere", False),
    ],
)
def test_public_operations_come_from_the_document(method: str, path: str, public: bool) -> None:
    assert PublicOperations(DOCUMENT).is_public(method, path) is public
