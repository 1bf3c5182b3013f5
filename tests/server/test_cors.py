"""The CORS policy (server/cors.py, docs/reliability.md): the bearer-token API answers any origin without
credentials; cookie-authenticated pages and server-to-server receivers get no CORS headers at all."""

import pytest
from starlette.testclient import TestClient

from tests.conftest import Tenant

SPA = "https://spa.example.com"


def preflight(client: TestClient, path: str, method: str = "POST") -> dict[str, str]:
    response = client.options(
        path,
        headers={
            "Origin": SPA,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    return {k.lower(): v for k, v in response.headers.items()} | {":status": str(response.status_code)}


@pytest.mark.parametrize(
    "path", ["/api/v1/persons", "/api/v1/payouts/request", "/oauth/token", "/oauth/revoke", "/openapi.json"]
)
def test_a_preflight_to_the_bearer_token_api_is_allowed_from_any_origin(client: TestClient, path: str) -> None:
    headers = preflight(client, path)
    assert headers[":status"] == "204"
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    allowed = headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}
    assert "access-control-allow-credentials" not in headers


def test_an_api_answer_to_another_origin_is_readable_without_credentials(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/persons", headers={**tenant.headers, "Origin": SPA})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after", "ratelimit", "location"} <= exposed

    refused = client.get("/api/v1/persons", headers={"Origin": SPA})  # the page can read why: 401 problem
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "*"


def test_a_same_origin_or_server_request_gets_no_cors_headers(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/persons", headers=tenant.headers)  # no Origin
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard",
        "/dashboard/api-keys",
        "/login",
        "/signup",
        "/oauth/authorize",
        "/oauth/introspect",
        "/webhooks/stripe",
        "/docs",
    ],
)
def test_cookie_authenticated_pages_and_receivers_are_never_cross_origin(client: TestClient, path: str) -> None:
    headers = preflight(client, path)
    assert "access-control-allow-origin" not in headers
    assert "access-control-allow-credentials" not in headers
    actual = client.get(path, headers={"Origin": SPA}, follow_redirects=False)
    assert "access-control-allow-origin" not in actual.headers
    assert "access-control-allow-credentials" not in actual.headers
