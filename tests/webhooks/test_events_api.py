"""Events through the HTTP API: the pull fallback of the last 30 days."""

from datetime import timedelta

from sqlalchemy import update
from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.events import Event
from server.db.types import utcnow
from tests.conftest import Tenant, TenantFactory


def _person(client: TestClient, tenant: Tenant, name: str) -> str:
    response = client.post("/api/v1/persons", json={"name": name, "email": "p@example.com"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_events_are_listed_newest_first_with_filters(client: TestClient, tenant: Tenant) -> None:
    people = [_person(client, tenant, f"P{i}") for i in range(3)]
    page = client.get("/api/v1/events", params={"limit": 2}, headers=tenant.headers).json()
    assert [e["data"]["object"]["id"] for e in page["data"]] == people[:0:-1]
    rest = client.get(
        "/api/v1/events", params={"limit": 2, "cursor": page["next_cursor"]}, headers=tenant.headers
    ).json()
    assert [e["data"]["object"]["id"] for e in rest["data"]] == people[:1]
    assert rest["has_more"] is False
    typed = client.get("/api/v1/events", params={"type": "payout.status_changed"}, headers=tenant.headers).json()
    assert typed["data"] == []
    one = page["data"][0]
    assert client.get(f"/api/v1/events/{one['id']}", headers=tenant.headers).json() == one


def test_events_older_than_30_days_are_gone(client: TestClient, tenant: Tenant) -> None:
    _person(client, tenant, "Old")
    [old] = client.get("/api/v1/events", headers=tenant.headers).json()["data"]
    with session_scope() as session:
        session.execute(
            update(Event).where(Event.id == old["id"]).values(created_at=utcnow() - timedelta(days=31))  # type: ignore[arg-type]
        )
    assert client.get("/api/v1/events", headers=tenant.headers).json()["data"] == []
    assert client.get(f"/api/v1/events/{old['id']}", headers=tenant.headers).status_code == 404


def test_events_never_cross_tenants_or_environments(client: TestClient, make_tenant: TenantFactory) -> None:
    sandbox = make_tenant(production_access=True)
    production = make_tenant(environment="production", account_id=sandbox.account_id)
    stranger = make_tenant()
    _person(client, sandbox, "Sandbox person")
    [event] = client.get("/api/v1/events", headers=sandbox.headers).json()["data"]
    assert event["environment"] == "sandbox"
    for other in (production, stranger):
        assert client.get("/api/v1/events", headers=other.headers).json()["data"] == []
        assert client.get(f"/api/v1/events/{event['id']}", headers=other.headers).status_code == 404
        assert client.post(f"/api/v1/events/{event['id']}/resend", json={}, headers=other.headers).status_code == 404


def test_resend_to_another_tenants_endpoint_is_not_found(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    foreign = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://hooks.example.com/x", "enabled_events": ["*"]},
        headers=stranger.headers,
    ).json()
    _person(client, owner, "Mine")
    [event] = client.get("/api/v1/events", headers=owner.headers).json()["data"]
    response = client.post(
        f"/api/v1/events/{event['id']}/resend", json={"endpoint_id": foreign["id"]}, headers=owner.headers
    )
    assert response.status_code == 404
