"""The rate limit through the real app: headers on success, on 4xx and on 429; plans; public endpoints."""

import secrets
from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from server.app import build_app
from server.config import Settings
from server.db import engine as db
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.openapi.specification import raw_document
from server.ratelimit.limiter import RateLimiter
from server.ratelimit.stores import MemoryStore
from tests.conftest import TenantFactory
from tests.ratelimit.clock import START_US, FakeClock

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)
START_S = START_US // 1_000_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(app: object, settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """The real app with the published limits (multiplier 1) and a controllable clock."""
    db.configure(settings)
    limiter = RateLimiter(MemoryStore(clock), prefix=f"test:{secrets.token_hex(4)}")
    with TestClient(build_app(raw_document(), settings, rate_limiter=limiter), raise_server_exceptions=False) as c:
        yield c


def _assert_rate_limit_headers(response: object, limit: int, remaining: int, policy: str) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-RateLimit-Limit"] == str(limit)
    assert headers["X-RateLimit-Remaining"] == str(remaining)
    assert int(headers["X-RateLimit-Reset"]) > START_S
    assert headers["RateLimit-Policy"] == f'"{policy}";q={limit};w=60'
    assert headers["RateLimit"].startswith(f'"{policy}";r={remaining};t=')


def test_the_61st_sandbox_request_is_429_with_retry_after(
    limited: TestClient, make_tenant: TenantFactory, clock: FakeClock
) -> None:
    tenant = make_tenant()
    for expected_remaining in range(59, -1, -1):
        response = limited.get("/api/v1/persons", headers=tenant.headers)
        assert response.status_code == 200
        _assert_rate_limit_headers(response, 60, expected_remaining, "sandbox")
    assert response.headers["X-RateLimit-Reset"] == str(START_S + 60)

    refused = limited.get("/api/v1/persons", headers=tenant.headers)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-Request-Id"] == refused.json()["request_id"]
    _assert_rate_limit_headers(refused, 60, 0, "sandbox")
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["status"] == 429

    clock.advance(1)
    assert limited.get("/api/v1/persons", headers=tenant.headers).status_code == 200
    assert limited.get("/api/v1/persons", headers=tenant.headers).status_code == 429


def test_error_responses_carry_the_headers_and_count(limited: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant()
    not_found = limited.get("/api/v1/persons/per_00000000000000000000000000", headers=tenant.headers)
    assert not_found.status_code == 404
    _assert_rate_limit_headers(not_found, 60, 59, "sandbox")
    invalid = limited.get("/api/v1/persons", params={"limit": 0}, headers=tenant.headers)
    assert invalid.status_code == 422
    _assert_rate_limit_headers(invalid, 60, 58, "sandbox")
    no_route = limited.get("/api/v1/nowhere", headers=tenant.headers)
    assert no_route.status_code == 404
    _assert_rate_limit_headers(no_route, 60, 57, "sandbox")
    forbidden = limited.get("/api/v1/persons", headers=make_tenant(scopes=["releases:read"]).headers)
    assert forbidden.status_code == 403
    _assert_rate_limit_headers(forbidden, 60, 59, "sandbox")


def test_a_body_refused_by_its_content_length_carries_the_headers(
    limited: TestClient, make_tenant: TenantFactory
) -> None:
    tenant = make_tenant()
    too_large = limited.post("/api/v1/persons", content=b"{}", headers={**tenant.headers, "Content-Length": str(10**9)})
    assert too_large.status_code == 413
    assert too_large.headers["RateLimit-Policy"].startswith('"sandbox"')
    assert too_large.headers["X-RateLimit-Remaining"] == "59"


def test_failed_authentication_is_limited_per_ip(limited: TestClient) -> None:
    first = limited.get("/api/v1/persons", headers={"Authorization": "Bearer og_test_wrong"})
    assert first.status_code == 401
    _assert_rate_limit_headers(first, 300, 599, "public")
    missing = limited.get("/api/v1/persons")
    assert missing.status_code == 401
    _assert_rate_limit_headers(missing, 300, 598, "public")
    for _ in range(598):
        limited.get("/api/v1/persons")
    refused = limited.get("/api/v1/persons", headers={"Authorization": "Bearer og_test_wrong"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"


def test_public_endpoints_use_the_per_ip_limit(limited: TestClient, make_tenant: TenantFactory) -> None:
    health = limited.get("/healthz", headers=make_tenant().headers)
    assert health.status_code == 200
    _assert_rate_limit_headers(health, 300, 599, "public")


def test_a_plan_change_applies_to_the_next_request(limited: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(environment="production", production_access=True)
    first = limited.get("/api/v1/persons", headers=tenant.headers)
    _assert_rate_limit_headers(first, 120, 239, "free")
    with session_scope() as session:
        account = session.exec(select(Account).where(Account.id == tenant.account_id)).one()
        account.plan = "business"
        session.add(account)
    upgraded = limited.get("/api/v1/persons", headers=tenant.headers)
    # The budget is the credential's: the half second of free-plan budget one request used stays used, which at
    # business pace (one request per 0.1 s) is 5 requests, plus this one.
    _assert_rate_limit_headers(upgraded, 600, 594, "business")


def test_free_production_key_bursts_to_240(limited: TestClient, make_tenant: TenantFactory, clock: FakeClock) -> None:
    tenant = make_tenant(environment="production", production_access=True)
    statuses = [limited.get("/api/v1/persons", headers=tenant.headers).status_code for _ in range(241)]
    assert statuses == [200] * 240 + [429]
    clock.advance(0.5)
    assert limited.get("/api/v1/persons", headers=tenant.headers).status_code == 200


def test_the_shared_test_app_sends_the_headers_too(client: TestClient, tenant: object) -> None:
    response = client.get("/api/v1/persons", headers=tenant.headers)  # type: ignore[attr-defined]
    assert all(name in response.headers for name in RATE_LIMIT_HEADERS)


def test_smart_link_pages_and_clicks_share_the_per_ip_public_budget(
    limited: TestClient, make_tenant: TenantFactory
) -> None:
    from sqlmodel import col, func

    from server.db.models.smartlinks import SmartLinkHit

    tenant = make_tenant()
    release = limited.post("/api/v1/releases", json={"title": "T", "primary_artists": ["A"]}, headers=tenant.headers)
    link = {
        "release_id": release.json()["id"],
        "slug": f"limited-{secrets.token_hex(4)}",
        "destinations": [{"service": "spotify", "url": "https://open.spotify.com/album/1"}],
    }
    slug = limited.post("/api/v1/smartlinks", json=link, headers=tenant.headers).json()["slug"]
    # A credential sent along changes nothing: public operations are budgeted per client IP.
    view = limited.get(f"/api/v1/smartlinks/{slug}", headers=tenant.headers)
    assert view.status_code == 200
    _assert_rate_limit_headers(view, 300, 599, "public")
    click = limited.get(f"/api/v1/smartlinks/{slug}/go/spotify", follow_redirects=False)
    assert click.status_code == 302
    _assert_rate_limit_headers(click, 300, 598, "public")

    for _ in range(598):
        limited.get("/healthz")
    with session_scope() as session:
        before = session.exec(select(func.count()).where(col(SmartLinkHit.smartlink_id).is_not(None))).one()
    refused = limited.get(f"/api/v1/smartlinks/{slug}")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    with session_scope() as session:
        after = session.exec(select(func.count()).where(col(SmartLinkHit.smartlink_id).is_not(None))).one()
    assert after == before  # a refused request records no view
