"""API keys through the API: create with scopes, rotation with a grace period, revocation."""

from datetime import timedelta

from starlette.testclient import TestClient

from server import clock
from tests.conftest import Tenant, TenantFactory


def _create(client: TestClient, tenant: Tenant, **fields: object) -> dict[str, object]:
    body = {"name": "CRM sync", "scopes": ["persons:read"], **fields}
    response = client.post("/api/v1/api-keys", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _auth(secret: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_created_key_is_shown_once_and_works_with_its_scopes(client: TestClient, tenant: Tenant) -> None:
    key = _create(client, tenant)
    assert str(key["secret"]).startswith("og_test_")
    assert key["last_four"] == str(key["secret"])[-4:]
    assert key["status"] == "active"
    assert client.get("/api/v1/persons", headers=_auth(key["secret"])).status_code == 200
    denied = client.post("/api/v1/persons", json={"name": "A", "email": "a@example.com"}, headers=_auth(key["secret"]))
    assert denied.status_code == 403
    fetched = client.get(f"/api/v1/api-keys/{key['id']}", headers=tenant.headers).json()
    assert "secret" not in fetched
    assert fetched["last_four"] == key["last_four"]


def test_a_key_cannot_grant_scopes_its_creator_lacks(client: TestClient, make_tenant: TenantFactory) -> None:
    limited = make_tenant(scopes=["keys:write", "persons:read"])
    response = client.post("/api/v1/api-keys", json={"name": "x", "scopes": ["persons:write"]}, headers=limited.headers)
    assert response.status_code == 403
    assert response.json()["missing_scopes"] == ["persons:write"]


def test_the_old_secret_works_for_seven_days_after_rotation_then_expires(client: TestClient, tenant: Tenant) -> None:
    key = _create(client, tenant)
    rotated = client.post(f"/api/v1/api-keys/{key['id']}/rotate", json={}, headers=tenant.headers)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["secret"] != key["secret"]
    assert new["previous_secret_expires_at"] is not None
    with clock.shifted(timedelta(days=7) - timedelta(seconds=1)):
        assert client.get("/api/v1/persons", headers=_auth(key["secret"])).status_code == 200
    with clock.shifted(timedelta(days=7) + timedelta(seconds=1)):
        refused = client.get("/api/v1/persons", headers=_auth(key["secret"]))
        assert refused.status_code == 401
        assert refused.json()["code"] == "api_key_expired"
        assert client.get("/api/v1/persons", headers=_auth(new["secret"])).status_code == 200


def test_rotation_can_end_the_old_secret_at_once(client: TestClient, tenant: Tenant) -> None:
    key = _create(client, tenant)
    new = client.post(f"/api/v1/api-keys/{key['id']}/rotate", json={"expires_in": 0}, headers=tenant.headers).json()
    assert new["previous_secret_expires_at"] is None
    assert client.get("/api/v1/persons", headers=_auth(key["secret"])).json()["code"] == "invalid_api_key"
    assert client.get("/api/v1/persons", headers=_auth(new["secret"])).status_code == 200


def test_a_second_rotation_ends_the_oldest_secret(client: TestClient, tenant: Tenant) -> None:
    key = _create(client, tenant)
    second = client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=tenant.headers).json()
    third = client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=tenant.headers).json()
    assert client.get("/api/v1/persons", headers=_auth(key["secret"])).status_code == 401
    assert client.get("/api/v1/persons", headers=_auth(second["secret"])).status_code == 200
    assert client.get("/api/v1/persons", headers=_auth(third["secret"])).status_code == 200


def test_revocation_is_immediate_for_both_secrets(client: TestClient, tenant: Tenant) -> None:
    key = _create(client, tenant)
    new = client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=tenant.headers).json()
    revoked = client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert revoked.json()["status"] == "revoked"
    for secret in (key["secret"], new["secret"]):
        response = client.get("/api/v1/persons", headers=_auth(secret))
        assert response.json()["code"] == "api_key_revoked"
    again = client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=tenant.headers)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    conflict = client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=tenant.headers)
    assert conflict.status_code == 409
    assert conflict.json()["current_state"] == "revoked"


def test_keys_are_listed_by_status_within_the_credentials_environment(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    sandbox = make_tenant(production_access=True)
    production = make_tenant(environment="production", account_id=sandbox.account_id)
    revoked = _create(client, sandbox, name="old")
    client.post(f"/api/v1/api-keys/{revoked['id']}/revoke", headers=sandbox.headers)
    soon = _create(client, sandbox, name="soon", expires_at="2099-01-01T00:00:00Z")
    listed = client.get("/api/v1/api-keys", headers=sandbox.headers).json()["data"]
    assert {k["environment"] for k in listed} == {"sandbox"}
    assert production.key_id not in {k["id"] for k in listed}
    only_revoked = client.get("/api/v1/api-keys", params={"status": "revoked"}, headers=sandbox.headers).json()
    assert [k["id"] for k in only_revoked["data"]] == [revoked["id"]]
    with clock.shifted(timedelta(days=365 * 80)):
        expiring = client.get("/api/v1/api-keys", params={"status": "expired"}, headers=sandbox.headers).json()
        assert [k["id"] for k in expiring["data"]] == [soon["id"]]
    assert client.get(f"/api/v1/api-keys/{sandbox.key_id}", headers=production.headers).status_code == 404
