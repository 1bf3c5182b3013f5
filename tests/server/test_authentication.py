"""API-key authentication and scope enforcement at the HTTP boundary."""

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from tests.conftest import Tenant, TenantFactory


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "authentication_required"),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, "authentication_required"),
        ({"Authorization": "Bearer og_test_unknownunknownunknownunknown1234"}, "invalid_api_key"),
        ({"Authorization": "Bearer some-oauth-token"}, "invalid_token"),
    ],
)
def test_missing_or_unknown_credentials_are_401(client: TestClient, headers: dict[str, str], code: str) -> None:
    response = client.get("/api/v1/persons", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_key_without_the_scope_gets_403_naming_it(client: TestClient, make_tenant: TenantFactory) -> None:
    reader = make_tenant(scopes=["persons:read"])
    response = client.post("/api/v1/persons", json={"name": "A", "email": "a@example.com"}, headers=reader.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert response.json()["missing_scopes"] == ["persons:write"]


def test_write_scope_implies_read(client: TestClient, make_tenant: TenantFactory) -> None:
    writer = make_tenant(scopes=["persons:write"])
    assert client.get("/api/v1/persons", headers=writer.headers).status_code == 200


def test_revoked_key_is_refused_at_once(client: TestClient, tenant: Tenant) -> None:
    with session_scope() as session:
        key = session.get(ApiKey, tenant.key_id)
        assert key is not None
        key.revoked_at = utcnow()
        session.add(key)
    response = client.get("/api/v1/persons", headers=tenant.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_expired_key_is_refused(client: TestClient, tenant: Tenant) -> None:
    with session_scope() as session:
        key = session.get(ApiKey, tenant.key_id)
        assert key is not None
        key.expires_at = utcnow() - timedelta(seconds=1)
        session.add(key)
    response = client.get("/api/v1/persons", headers=tenant.headers)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_expired"


def test_production_key_of_an_account_without_access_is_403(client: TestClient, make_tenant: TenantFactory) -> None:
    live = make_tenant(environment="production", production_access=True)
    from server.db.models.accounts import Account

    with session_scope() as session:
        account = session.get(Account, live.account_id)
        assert account is not None
        account.production_access = False
        session.add(account)
    response = client.get("/api/v1/persons", headers=live.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "production_access_not_enabled"
