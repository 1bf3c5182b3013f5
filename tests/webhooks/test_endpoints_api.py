"""Webhook endpoints through the HTTP API: registration rules, secrets shown once, rotation, tenancy."""

import base64

import pytest
from starlette.testclient import TestClient

from server.config import Settings
from tests.conftest import Tenant, TenantFactory

URL = "https://hooks.example.com/og"


def _create(client: TestClient, tenant: Tenant, **fields: object) -> dict[str, object]:
    body = {"url": URL, "enabled_events": ["person.created"], **fields}
    response = client.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_secret_is_shown_at_creation_and_never_again(client: TestClient, tenant: Tenant) -> None:
    created = _create(client, tenant, description="CRM", metadata={"team": "crm"})
    secret = str(created.pop("secret"))
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created["status"] == "enabled"
    assert created["disabled_reason"] is None
    fetched = client.get(f"/api/v1/webhook-endpoints/{created['id']}", headers=tenant.headers).json()
    assert fetched == created
    listed = client.get("/api/v1/webhook-endpoints", headers=tenant.headers).json()["data"]
    assert listed == [created]
    assert secret not in client.get("/api/v1/webhook-endpoints", headers=tenant.headers).text


def test_the_secret_is_stored_encrypted(client: TestClient, tenant: Tenant) -> None:
    from server.db.engine import session_scope
    from server.db.models.webhooks import WebhookEndpoint

    created = _create(client, tenant)
    with session_scope() as session:
        row = session.get(WebhookEndpoint, created["id"])
        assert row is not None
        assert str(created["secret"]) not in row.secret_ciphertext
        assert str(created["secret"]).removeprefix("whsec_") not in row.secret_ciphertext


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/og", "https_required"),
        ("https://10.0.0.8/hook", "url_not_allowed"),
        ("https://169.254.169.254/latest/meta-data", "url_not_allowed"),
        ("https://[fd00::1]/hook", "url_not_allowed"),
        ("https://user:pw@hooks.example.com/", "invalid_url"),
        ("https:///nohost", "invalid_url"),
    ],
)
def test_urls_that_are_not_public_https_are_refused(client: TestClient, tenant: Tenant, url: str, code: str) -> None:
    response = client.post(
        "/api/v1/webhook-endpoints", json={"url": url, "enabled_events": ["*"]}, headers=tenant.headers
    )
    assert response.status_code == 422, response.text
    assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [(code, "/url")]


def test_loopback_is_accepted_only_when_the_server_allows_it(
    client: TestClient, tenant: Tenant, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.server.payouts_helpers import settings_with

    assert settings.webhooks_allow_loopback  # the test settings allow it, like OG_WEBHOOKS_ALLOW_LOOPBACK=1
    _create(client, tenant, url="http://127.0.0.1:9/hook")
    _create(client, tenant, url="http://localhost:9/hook")
    with settings_with(client, webhooks_allow_loopback=False):
        for url in ("http://127.0.0.1:9/hook", "https://localhost/hook", "https://[::1]/hook"):
            response = client.post(
                "/api/v1/webhook-endpoints", json={"url": url, "enabled_events": ["*"]}, headers=tenant.headers
            )
            assert response.status_code == 422, url
            assert response.json()["errors"][0]["code"] == "url_not_allowed"


def test_the_wildcard_subsumes_other_types(client: TestClient, tenant: Tenant) -> None:
    created = _create(client, tenant, enabled_events=["person.created", "*"])
    assert created["enabled_events"] == ["*"]
    bad_type = client.post(
        "/api/v1/webhook-endpoints", json={"url": URL, "enabled_events": ["webhook.test"]}, headers=tenant.headers
    )
    assert bad_type.status_code == 422


def test_update_disable_enable_and_delete(client: TestClient, tenant: Tenant) -> None:
    endpoint = _create(client, tenant)
    path = f"/api/v1/webhook-endpoints/{endpoint['id']}"
    updated = client.patch(
        path, json={"enabled_events": ["*"], "description": "all", "status": "disabled"}, headers=tenant.headers
    ).json()
    assert (updated["enabled_events"], updated["status"], updated["disabled_reason"]) == (["*"], "disabled", "manual")
    listed = client.get("/api/v1/webhook-endpoints", params={"status": "disabled"}, headers=tenant.headers).json()
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    enabled = client.patch(path, json={"status": "enabled"}, headers=tenant.headers).json()
    assert (enabled["status"], enabled["disabled_reason"]) == ("enabled", None)
    assert client.patch(path, json={"url": "http://example.com/x"}, headers=tenant.headers).status_code == 422
    assert client.delete(path, headers=tenant.headers).status_code == 204
    assert client.delete(path, headers=tenant.headers).status_code == 404
    assert client.get(path, headers=tenant.headers).status_code == 404


def test_rotation_keeps_the_previous_secret_for_the_overlap(client: TestClient, tenant: Tenant) -> None:
    endpoint = _create(client, tenant)
    path = f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"
    rotated = client.post(path, json={"overlap_seconds": 3600}, headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["secret"] != endpoint["secret"]
    assert body["previous_secret_expires_at"] is not None
    immediate = client.post(path, json={"overlap_seconds": 0}, headers=tenant.headers).json()
    assert immediate["previous_secret_expires_at"] is None
    default = client.post(path, headers=tenant.headers)
    assert default.status_code == 200
    assert default.json()["previous_secret_expires_at"] is not None
    too_long = client.post(path, json={"overlap_seconds": 604801}, headers=tenant.headers)
    assert too_long.status_code == 422


def test_another_tenants_endpoint_is_not_found(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    endpoint = _create(client, owner)
    for method, suffix in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/attempts"), ("POST", "/test")]:
        kwargs = {"json": {"description": "x"}} if method == "PATCH" else {}
        response = client.request(
            method, f"/api/v1/webhook-endpoints/{endpoint['id']}{suffix}", headers=stranger.headers, **kwargs
        )
        assert response.status_code == 404, (method, suffix)
    assert client.get("/api/v1/webhook-endpoints", headers=stranger.headers).json()["data"] == []


def test_scopes_are_enforced(client: TestClient, make_tenant: TenantFactory) -> None:
    reader = make_tenant(scopes=["webhooks:read"])
    response = client.post(
        "/api/v1/webhook-endpoints", json={"url": URL, "enabled_events": ["*"]}, headers=reader.headers
    )
    assert response.status_code == 403
    assert client.get("/api/v1/webhook-endpoints", headers=reader.headers).status_code == 200


def test_an_optional_body_may_be_absent_but_not_null(client: TestClient, tenant: Tenant) -> None:
    endpoint = _create(client, tenant)
    path = f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret"
    assert client.post(path, headers=tenant.headers).status_code == 200
    refused = client.post(path, content=b"null", headers={**tenant.headers, "content-type": "application/json"})
    assert refused.status_code == 422
