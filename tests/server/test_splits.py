"""Splits through the HTTP API: validation with pointers, versions that are never retroactive, tenancy."""

from typing import Any

from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.releases import Release
from tests.conftest import Tenant, TenantFactory
from tests.dates import days_from_today, today
from tests.server.money_helpers import catalogue
from tests.server.releases_helpers import ok


def _split(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/splits", json=body, headers=tenant.headers)


def _shares(persons: list[dict[str, Any]], *bps: int) -> list[dict[str, Any]]:
    return [{"person_id": p["id"], "role": "artist", "share_bps": b} for p, b in zip(persons, bps, strict=False)]


def test_create_then_get_and_event(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    created = ok(
        _split(client, tenant, {"release_id": cat["release"]["id"], "shares": _shares(cat["persons"], 6000, 4000)}),
        201,
    )
    assert created["version"] == 1
    assert created["status"] == "active"
    assert created["effective_from"] == today().isoformat()
    assert [s["acceptance_status"] for s in created["shares"]] == ["pending", "pending"]
    assert [s["share_bps"] for s in created["shares"]] == [6000, 4000]
    assert ok(client.get(f"/api/v1/splits/{created['id']}", headers=tenant.headers)) == created
    events = ok(client.get("/api/v1/events", params={"type": "split.created"}, headers=tenant.headers))
    assert events["data"][0]["data"]["object"] == created


def test_every_failing_rule_is_reported_with_a_pointer(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    ada = cat["persons"][0]
    body = {
        "release_id": cat["release"]["id"],
        "track_id": cat["tracks"][0]["id"],
        "shares": [
            {"person_id": ada["id"], "role": "artist", "share_bps": 5000},
            {"person_id": ada["id"], "role": "artist", "share_bps": 3000},
            {"person_id": "per_01jc3m8a4s6t3v0q7k2x9bz5hd", "role": "producer", "share_bps": 1000},
        ],
        "effective_from": days_from_today(-1).isoformat(),
    }
    response = _split(client, tenant, body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    found = {(e["code"], e["pointer"]) for e in problem["errors"]}
    assert found == {
        ("split_target_required", "/release_id"),
        ("shares_total_invalid", "/shares"),
        ("duplicate_share", "/shares/1"),
        ("unknown_person", "/shares/2/person_id"),
        ("effective_from_in_past", "/effective_from"),
    }
    assert ok(client.get("/api/v1/splits", headers=tenant.headers))["data"] == []


def test_unknown_and_foreign_targets(client: TestClient, tenant: Tenant, make_tenant: TenantFactory) -> None:
    cat = catalogue(client, tenant)
    other = make_tenant()
    other_cat = catalogue(client, other, tracks=1)
    shares = _shares(cat["persons"], 10000)
    response = _split(client, tenant, {"release_id": other_cat["release"]["id"], "shares": shares})
    assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [("unknown_release", "/release_id")]
    response = _split(client, tenant, {"track_id": other_cat["tracks"][0]["id"], "shares": shares})
    assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [("unknown_track", "/track_id")]
    # Another tenant's person is unknown too.
    foreign = _shares(other_cat["persons"], 10000)
    response = _split(client, tenant, {"release_id": cat["release"]["id"], "shares": foreign})
    assert [e["code"] for e in response.json()["errors"]] == ["unknown_person"]
    mine = ok(_split(client, tenant, {"release_id": cat["release"]["id"], "shares": shares}), 201)
    assert client.get(f"/api/v1/splits/{mine['id']}", headers=other.headers).status_code == 404
    assert client.get(f"/api/v1/releases/{cat['release']['id']}/splits", headers=other.headers).status_code == 404


def test_a_new_version_supersedes_from_its_date_on(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    release_id = cat["release"]["id"]
    later = days_from_today(10).isoformat()
    first = ok(_split(client, tenant, {"release_id": release_id, "shares": _shares(cat["persons"], 5000, 5000)}), 201)
    second = ok(
        _split(
            client,
            tenant,
            {"release_id": release_id, "shares": _shares(cat["persons"], 7000, 3000), "effective_from": later},
        ),
        201,
    )
    assert second["version"] == 2
    assert second["effective_from"] == later
    old = ok(client.get(f"/api/v1/splits/{first['id']}", headers=tenant.headers))
    assert old["status"] == "superseded"
    assert old["superseded_by"] == second["id"]
    assert old["superseded_at"]
    # A third version cannot start before the current one.
    response = _split(
        client,
        tenant,
        {
            "release_id": release_id,
            "shares": _shares(cat["persons"], 10000),
            "effective_from": today().isoformat(),
        },
    )
    assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [
        ("effective_from_in_past", "/effective_from")
    ]
    active = ok(client.get("/api/v1/splits", params={"status": "active"}, headers=tenant.headers))
    assert [s["id"] for s in active["data"]] == [second["id"]]
    everything = ok(client.get("/api/v1/splits", params={"release_id": release_id}, headers=tenant.headers))
    assert [s["id"] for s in everything["data"]] == [second["id"], first["id"]]


def test_release_splits_list_release_and_track_splits(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    release_split = ok(
        _split(client, tenant, {"release_id": cat["release"]["id"], "shares": _shares(cat["persons"], 10000)}), 201
    )
    track_split = ok(
        _split(client, tenant, {"track_id": cat["tracks"][0]["id"], "shares": _shares(cat["persons"], 1, 9999)}), 201
    )
    unrelated = catalogue(client, tenant, tracks=1)
    ok(
        _split(client, tenant, {"release_id": unrelated["release"]["id"], "shares": _shares(cat["persons"], 10000)}),
        201,
    )
    listed = ok(client.get(f"/api/v1/releases/{cat['release']['id']}/splits", headers=tenant.headers))
    assert [s["id"] for s in listed["data"]] == [track_split["id"], release_split["id"]]
    by_track = ok(client.get("/api/v1/splits", params={"track_id": cat["tracks"][0]["id"]}, headers=tenant.headers))
    assert [s["id"] for s in by_track["data"]] == [track_split["id"]]


def test_a_taken_down_release_cannot_be_split(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant, tracks=1)
    with session_scope() as session:
        release = session.get(Release, cat["release"]["id"])
        assert release is not None
        release.status = "taken_down"
        session.add(release)
    for target in ({"release_id": cat["release"]["id"]}, {"track_id": cat["tracks"][0]["id"]}):
        response = _split(client, tenant, {**target, "shares": _shares(cat["persons"], 10000)})
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_state"
        assert response.json()["current_state"] == "taken_down"
    assert ok(client.get("/api/v1/splits", headers=tenant.headers))["data"] == []
