"""Idempotency-Key on mutating POSTs: retries are answered with the first response, never run twice."""

import threading
from datetime import timedelta

from sqlmodel import col, func, select
from starlette.testclient import TestClient

from server import clock
from server.db.engine import session_scope
from server.db.models.persons import Person
from tests.conftest import Tenant, TenantFactory

BODY = {"name": "Mara Lindqvist", "email": "mara@example.com"}


def _persons(tenant: Tenant) -> int:
    with session_scope() as session:
        return int(
            session.exec(
                select(func.count()).select_from(Person).where(col(Person.account_id) == tenant.account_id)
            ).one()
        )


def test_a_retry_is_answered_with_the_first_response(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "create-mara-1"}
    first = client.post("/api/v1/persons", json=BODY, headers=headers)
    second = client.post("/api/v1/persons", json=BODY, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert _persons(tenant) == 1


def test_the_same_key_with_another_body_is_refused(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "create-2"}
    assert client.post("/api/v1/persons", json=BODY, headers=headers).status_code == 201
    other = client.post("/api/v1/persons", json={**BODY, "name": "Someone Else"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert _persons(tenant) == 1


def test_keys_belong_to_the_credential(client: TestClient, make_tenant: TenantFactory) -> None:
    first = make_tenant()
    second = make_tenant(account_id=first.account_id)
    for tenant in (first, second):
        response = client.post("/api/v1/persons", json=BODY, headers={**tenant.headers, "Idempotency-Key": "same"})
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers
    assert _persons(first) == 2


def test_without_a_key_every_request_runs(client: TestClient, tenant: Tenant) -> None:
    for _ in range(2):
        assert client.post("/api/v1/persons", json=BODY, headers=tenant.headers).status_code == 201
    assert _persons(tenant) == 2


def test_a_refused_request_releases_its_key(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "fix-and-retry"}
    invalid = client.post("/api/v1/persons", json={"name": "No email"}, headers=headers)
    assert invalid.status_code == 422
    fixed = client.post("/api/v1/persons", json={"name": "No email"} | {"email": "n@example.com"}, headers=headers)
    assert fixed.status_code == 201


def test_keys_expire_after_24_hours(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "old"}
    assert client.post("/api/v1/persons", json=BODY, headers=headers).status_code == 201
    with clock.shifted(timedelta(hours=24, seconds=1)):
        again = client.post("/api/v1/persons", json=BODY, headers=headers)
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert _persons(tenant) == 2


def test_concurrent_requests_with_one_key_run_once(client: TestClient, tenant: Tenant) -> None:
    headers = {**tenant.headers, "Idempotency-Key": "race"}
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        barrier.wait()
        statuses.append(client.post("/api/v1/persons", json=BODY, headers=headers).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _persons(tenant) == 1
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
