"""Persons through the HTTP API: create, read, list with cursors, update, delete, tenant isolation."""

import base64
import json
from typing import Any

from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.persons import Person
from tests.conftest import Tenant, TenantFactory


def _create(client: TestClient, tenant: Tenant, **fields: object) -> dict[str, object]:
    body = {"name": "Mara Lindqvist", "email": "mara@example.com", **fields}
    response = client.post("/api/v1/persons", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_then_get_returns_the_same_person(client: TestClient, tenant: Tenant) -> None:
    created = _create(client, tenant, roles=["composer"], invite=True, metadata={"crm_id": "A-1"})
    assert created["object"] == "person"
    assert created["environment"] == "sandbox"
    assert created["invitation_status"] == "pending"
    fetched = client.get(f"/api/v1/persons/{created['id']}", headers=tenant.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_list_walks_every_page_newest_first_without_repeats(client: TestClient, tenant: Tenant) -> None:
    ids = [_create(client, tenant, name=f"Person {i}")["id"] for i in range(5)]
    seen: list[str] = []
    params: dict[str, object] = {"limit": 2}
    while True:
        page = client.get("/api/v1/persons", params=params, headers=tenant.headers).json()
        seen += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        params["cursor"] = page["next_cursor"]
    assert seen == list(reversed(ids))


def test_a_cursor_is_refused_under_other_filters(client: TestClient, tenant: Tenant) -> None:
    for i in range(3):
        _create(client, tenant, name=f"Person {i}")
    cursor = client.get("/api/v1/persons", params={"limit": 1}, headers=tenant.headers).json()["next_cursor"]
    response = client.get(
        "/api/v1/persons",
        params={"limit": 1, "cursor": cursor, "created_gte": "2020-01-01T00:00:00Z"},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_another_accounts_person_is_not_found(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    person = _create(client, owner)
    response = client.get(f"/api/v1/persons/{person['id']}", headers=stranger.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert person["id"] not in [p["id"] for p in client.get("/api/v1/persons", headers=stranger.headers).json()["data"]]


def test_production_and_sandbox_never_see_each_other(client: TestClient, make_tenant: TenantFactory) -> None:
    sandbox = make_tenant(production_access=True)
    production = make_tenant(environment="production", account_id=sandbox.account_id)
    person = _create(client, sandbox)
    assert client.get(f"/api/v1/persons/{person['id']}", headers=production.headers).status_code == 404
    live = _create(client, production)
    assert live["environment"] == "production"
    assert client.get(f"/api/v1/persons/{live['id']}", headers=sandbox.headers).status_code == 404


def test_invalid_fields_are_all_reported_with_pointers(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/persons",
        json={"email": "not an email", "phone": "0151", "surprise": True},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    pointers = {(error["code"], error["pointer"]) for error in problem["errors"]}
    assert ("required", "/name") in pointers
    assert ("format", "/email") in pointers
    assert ("pattern", "/phone") in pointers
    assert ("additional_property", "") in pointers


def test_creating_a_person_records_an_event_in_the_same_transaction(client: TestClient, tenant: Tenant) -> None:
    from sqlmodel import col, select

    from server.db.engine import session_scope
    from server.db.models.events import Event

    person = _create(client, tenant)
    with session_scope() as session:
        events = session.exec(select(Event).where(col(Event.account_id) == tenant.account_id)).all()
    assert [(e.type, e.payload["data"]["object"]["id"]) for e in events] == [("person.created", person["id"])]


def test_an_edited_cursor_is_refused(client: TestClient, tenant: Tenant) -> None:
    for i in range(3):
        _create(client, tenant, name=f"Cursor {i}")
    cursor = client.get("/api/v1/persons", params={"limit": 1}, headers=tenant.headers).json()["next_cursor"]
    # Whatever the encoding, a cursor whose `after` was moved must not move the start of the page.
    payload = cursor[:-22] if len(cursor) > 22 else cursor
    for candidate in (payload, cursor):
        try:
            data = json.loads(base64.urlsafe_b64decode(candidate + "=" * (-len(candidate) % 4)))
        except ValueError:
            continue
        data["after"] = "per_zzzzzzzzzzzzzzzzzzzzzzzzzz"
        edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
        forged = edited + cursor[len(candidate) :]
        response = client.get("/api/v1/persons", params={"limit": 1, "cursor": forged}, headers=tenant.headers)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_cursor"
        break
    else:
        raise AssertionError("the cursor's payload could not be found")
    assert client.get("/api/v1/persons", params={"cursor": cursor}, headers=tenant.headers).status_code == 200


def _events_of(client: TestClient, tenant: Tenant, event_type: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/events", params={"type": event_type}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def test_update_changes_only_the_given_fields_and_announces_them(client: TestClient, tenant: Tenant) -> None:
    person = _create(client, tenant, roles=["composer"], metadata={"crm_id": "A-1"})
    with session_scope() as session:  # an earlier bounce of the old address
        row = session.get(Person, person["id"])
        assert row is not None
        row.email_undeliverable = True
        session.add(row)
    response = client.patch(
        f"/api/v1/persons/{person['id']}",
        json={"email": "mara.lindqvist@example.com", "legal_name": "Mara Sofia Lindqvist", "roles": ["lyricist"]},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["email"], updated["legal_name"], updated["roles"]) == (
        "mara.lindqvist@example.com",
        "Mara Sofia Lindqvist",
        ["lyricist"],
    )
    assert (updated["name"], updated["metadata"]) == (person["name"], {"crm_id": "A-1"})
    assert client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers).json() == updated
    with session_scope() as session:
        row = session.get(Person, person["id"])
        assert row is not None
        assert row.email_undeliverable is False  # the new address is mailed again
    [event] = _events_of(client, tenant, "person.updated")
    assert event["data"]["object"] == updated
    assert event["data"]["previous_attributes"] == {
        "email": "mara@example.com",
        "legal_name": None,
        "roles": ["composer"],
    }
    # A body that changes nothing emits nothing.
    same = client.patch(f"/api/v1/persons/{person['id']}", json={"roles": ["lyricist"]}, headers=tenant.headers)
    assert same.status_code == 200
    assert len(_events_of(client, tenant, "person.updated")) == 1
    # Validated like creation.
    bad = client.patch(
        f"/api/v1/persons/{person['id']}", json={"phone": "0151", "invite": True}, headers=tenant.headers
    )
    assert bad.status_code in (400, 422), bad.text


def test_delete_is_refused_while_the_person_holds_a_share_or_a_credit(client: TestClient, tenant: Tenant) -> None:
    payee, other, credited = _create(client, tenant), _create(client, tenant), _create(client, tenant)
    release = client.post("/api/v1/releases", json={"title": "R", "primary_artists": ["A"]}, headers=tenant.headers)
    split = client.post(
        "/api/v1/splits",
        json={
            "release_id": release.json()["id"],
            "shares": [
                {"person_id": payee["id"], "role": "artist", "share_bps": 6000},
                {"person_id": other["id"], "role": "producer", "share_bps": 4000},
            ],
        },
        headers=tenant.headers,
    )
    assert split.status_code == 201, split.text
    refused = client.delete(f"/api/v1/persons/{payee['id']}", headers=tenant.headers)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["split_ids"]) == ("person_in_use", [split.json()["id"]])
    track = client.post(
        "/api/v1/tracks",
        json={"title": "T", "primary_artists": ["A"], "credits": [{"person_id": credited["id"], "role": "producer"}]},
        headers=tenant.headers,
    )
    assert track.status_code == 201, track.text
    refused = client.delete(f"/api/v1/persons/{credited['id']}", headers=tenant.headers)
    assert (refused.status_code, refused.json()["track_ids"]) == (409, [track.json()["id"]])
    # Once the credit is gone, so can the person be.
    patched = client.patch(f"/api/v1/tracks/{track.json()['id']}", json={"credits": []}, headers=tenant.headers)
    assert patched.status_code == 200, patched.text
    assert client.delete(f"/api/v1/persons/{credited['id']}", headers=tenant.headers).status_code == 204
    assert client.get(f"/api/v1/persons/{payee['id']}", headers=tenant.headers).status_code == 200


def test_delete_removes_the_person_and_announces_it(client: TestClient, tenant: Tenant) -> None:
    person = _create(client, tenant, invite=True)  # an invitation message refers to the person
    response = client.delete(f"/api/v1/persons/{person['id']}", headers=tenant.headers)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers).status_code == 404
    [event] = _events_of(client, tenant, "person.deleted")
    assert event["data"]["object"]["id"] == person["id"]
    again = client.delete(f"/api/v1/persons/{person['id']}", headers=tenant.headers)
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


def test_another_accounts_person_cannot_be_updated_or_deleted(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    person = _create(client, owner)
    patched = client.patch(f"/api/v1/persons/{person['id']}", json={"name": "X"}, headers=stranger.headers)
    deleted = client.delete(f"/api/v1/persons/{person['id']}", headers=stranger.headers)
    assert (patched.status_code, deleted.status_code) == (404, 404)
    assert client.get(f"/api/v1/persons/{person['id']}", headers=owner.headers).json()["name"] == "Mara Lindqvist"


def test_the_legal_name_of_a_credited_composer_cannot_be_cleared(client: TestClient, tenant: Tenant) -> None:
    composer = _create(client, tenant, legal_name="Mara Sofia Lindqvist")
    bystander = _create(client, tenant, name="Kai Berg", legal_name="Kai Berg")
    track = client.post(
        "/api/v1/tracks",
        json={"title": "T", "primary_artists": ["A"], "credits": [{"person_id": composer["id"], "role": "composer"}]},
        headers=tenant.headers,
    )
    assert track.status_code == 201, track.text
    refused = client.patch(f"/api/v1/persons/{composer['id']}", json={"legal_name": None}, headers=tenant.headers)
    assert refused.status_code == 422, refused.text
    assert [(e["code"], e["pointer"]) for e in refused.json()["errors"]] == [("legal_name_missing", "/legal_name")]
    assert client.get(f"/api/v1/persons/{composer['id']}", headers=tenant.headers).json()["legal_name"]
    # Someone credited on nothing may drop it.
    cleared = client.patch(f"/api/v1/persons/{bystander['id']}", json={"legal_name": None}, headers=tenant.headers)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["legal_name"] is None
