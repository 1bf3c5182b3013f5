"""The release operations beyond the wizard: a takedown (requested through the API, confirmed by the DSP feed; in the
sandbox by the simulated sub-distributor through the same feed), deleting a draft, removing a track from a
draft's tracklist."""

from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from server import clock
from server.clock import now
from server.db.engine import session_scope
from server.db.models.releases import Release, ReleaseDelivery
from server.services import sandbox_simulator
from tests.conftest import Tenant, TenantFactory
from tests.server.money_helpers import iso, send_dsp
from tests.server.releases_helpers import create_release, create_track, ok, unique_upc


def _events(client: TestClient, tenant: Tenant, event_type: str) -> list[dict[str, Any]]:
    page = ok(client.get("/api/v1/events", params={"limit": 100, "type": event_type}, headers=tenant.headers))
    return list(reversed(page["data"]))  # oldest first


def _changes(client: TestClient, tenant: Tenant, release_id: str) -> list[tuple[str, str]]:
    return [
        (e["data"]["previous_attributes"]["status"], e["data"]["object"]["status"])
        for e in _events(client, tenant, "release.status_changed")
        if e["data"]["object"]["id"] == release_id
    ]


def _live_sandbox_release(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    listed = ok(client.get("/api/v1/releases", params={"limit": 100}, headers=tenant.headers))["data"]
    submitted = next(r for r in listed if r["status"] == "submitted")
    advanced = client.post(
        f"/api/v1/sandbox/releases/{submitted['id']}/advance", json={"to": "live"}, headers=tenant.headers
    )
    return ok(advanced)


def test_a_sandbox_takedown_is_confirmed_by_the_simulated_sub_distributor(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    tenant = make_tenant(mock_data=True)
    live = _live_sandbox_release(client, tenant)
    stores = {d["store"] for d in live["deliveries"]}
    requested = ok(client.post(f"/api/v1/releases/{live['id']}/takedown", headers=tenant.headers))
    assert requested["status"] == "takedown_requested"
    assert {(d["store"], d["status"]) for d in requested["deliveries"]} == {(s, "removing") for s in stores}
    changes = _changes(client, tenant, live["id"])
    assert changes[-1] == ("live", "takedown_requested")
    # Asking again changes nothing and emits nothing.
    again = ok(client.post(f"/api/v1/releases/{live['id']}/takedown", headers=tenant.headers))
    assert again["status"] == "takedown_requested"
    assert _changes(client, tenant, live["id"]) == changes
    # The scheduler's own round once the removals are due: each store reports `removed` through the DSP feed.
    with clock.shifted(timedelta(seconds=5)):
        sandbox_simulator.run_due(account_id=tenant.account_id)
    done = ok(client.get(f"/api/v1/releases/{live['id']}", headers=tenant.headers))
    assert done["status"] == "taken_down"
    assert {d["status"] for d in done["deliveries"]} == {"removed"}
    assert _changes(client, tenant, live["id"])[-2:] == [
        ("live", "takedown_requested"),
        ("takedown_requested", "taken_down"),
    ]
    # Final: another request answers with the state, and the sandbox cannot move it anywhere.
    assert ok(client.post(f"/api/v1/releases/{live['id']}/takedown", headers=tenant.headers))["status"] == "taken_down"


def test_advance_finishes_a_requested_takedown_and_nothing_else(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(mock_data=True)
    live = _live_sandbox_release(client, tenant)
    early = client.post(
        f"/api/v1/sandbox/releases/{live['id']}/advance", json={"to": "taken_down"}, headers=tenant.headers
    )
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "invalid_state"
    ok(client.post(f"/api/v1/releases/{live['id']}/takedown", headers=tenant.headers))
    advanced = client.post(
        f"/api/v1/sandbox/releases/{live['id']}/advance", json={"to": "taken_down"}, headers=tenant.headers
    )
    assert ok(advanced)["status"] == "taken_down"
    assert {d["status"] for d in advanced.json()["deliveries"]} == {"removed"}


def test_a_takedown_is_refused_from_other_statuses(client: TestClient, tenant: Tenant) -> None:
    draft = create_release(client, tenant)
    refused = client.post(f"/api/v1/releases/{draft['id']}/takedown", headers=tenant.headers)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["current_state"]) == ("invalid_state", "draft")
    assert "deleted instead" in refused.json()["detail"]
    for status in ("submitted", "in_review", "approved", "rejected"):
        with session_scope() as session:
            release = session.get(Release, draft["id"])
            assert release is not None
            release.status = status
            session.add(release)
        response = client.post(f"/api/v1/releases/{draft['id']}/takedown", headers=tenant.headers)
        assert response.status_code == 409, status


def test_a_production_takedown_waits_for_every_store_to_confirm(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(environment="production", production_access=True)
    upc = unique_upc()
    release = create_release(client, tenant)
    moment = now()
    with session_scope() as session:
        row = session.get(Release, release["id"])
        assert row is not None
        row.status, row.upc = "live", upc
        session.add(row)
        for store, status in (("spotify", "live"), ("deezer", "live"), ("tidal", "rejected")):
            session.add(
                ReleaseDelivery(
                    account_id=tenant.account_id,
                    environment="production",
                    release_id=release["id"],
                    store=store,
                    status=status,
                    last_event_at=moment - timedelta(minutes=5),
                )
            )
    requested = ok(client.post(f"/api/v1/releases/{release['id']}/takedown", headers=tenant.headers))
    # A store that rejected the release has nothing to remove.
    assert {(d["store"], d["status"]) for d in requested["deliveries"]} == {
        ("spotify", "removing"),
        ("deezer", "removing"),
        ("tidal", "removed"),
    }

    def removed(store: str, seconds: int) -> None:
        message = {
            "type": "delivery.status_changed",
            "timestamp": iso(moment + timedelta(seconds=seconds)),
            "data": {"release_id": release["id"], "upc": upc, "dsp": store, "status": "removed"},
        }
        assert send_dsp(client, message).status_code == 200

    removed("spotify", 1)
    assert ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["status"] == "takedown_requested"
    removed("deezer", 2)
    done = ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))
    assert done["status"] == "taken_down"
    assert _changes(client, tenant, release["id"]) == [
        ("live", "takedown_requested"),
        ("takedown_requested", "taken_down"),
    ]


def test_deleting_a_draft_keeps_its_tracks_and_removes_its_links(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    track = create_track(client, tenant, release_id=release["id"])
    link = ok(
        client.post(
            "/api/v1/smartlinks",
            json={"release_id": release["id"], "slug": f"to-delete-{release['id'][-8:]}"},
            headers=tenant.headers,
        ),
        201,
    )
    response = client.delete(f"/api/v1/releases/{release['id']}", headers=tenant.headers)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers).status_code == 404
    kept = ok(client.get(f"/api/v1/tracks/{track['id']}", headers=tenant.headers))
    assert (kept["release_id"], kept["track_number"]) == (None, None)
    assert client.get(f"/api/v1/smartlinks/{link['id']}/settings", headers=tenant.headers).status_code == 404
    assert client.get(f"/api/v1/smartlinks/{link['slug']}").status_code == 404
    [deleted] = _events(client, tenant, "release.deleted")
    assert deleted["data"]["object"]["id"] == release["id"]
    assert deleted["data"]["object"]["tracks"][0]["id"] == track["id"]  # the release as it was
    assert [e["data"]["object"]["id"] for e in _events(client, tenant, "smartlink.deleted")] == [link["id"]]
    moved = [e for e in _events(client, tenant, "track.updated") if e["data"]["object"]["id"] == track["id"]]
    assert moved[-1]["data"]["previous_attributes"]["release_id"] == release["id"]
    # Gone: a second delete is 404.
    again = client.delete(f"/api/v1/releases/{release['id']}", headers=tenant.headers)
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


def test_only_a_draft_can_be_deleted(client: TestClient, make_tenant: TenantFactory) -> None:
    tenant = make_tenant(mock_data=True)
    live = _live_sandbox_release(client, tenant)
    refused = client.delete(f"/api/v1/releases/{live['id']}", headers=tenant.headers)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["code"], refused.json()["current_state"]) == ("invalid_state", "live")
    assert "takedown" in refused.json()["detail"]
    assert ok(client.get(f"/api/v1/releases/{live['id']}", headers=tenant.headers))["status"] == "live"


def test_removing_a_track_renumbers_the_tracklist(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    tracks = [create_track(client, tenant, title=f"Song {n}") for n in range(1, 5)]
    tracklist = [
        {"track_id": tracks[0]["id"], "disc_number": 1, "track_number": 1},
        {"track_id": tracks[1]["id"], "disc_number": 1, "track_number": 2},
        {"track_id": tracks[2]["id"], "disc_number": 1, "track_number": 3},
        {"track_id": tracks[3]["id"], "disc_number": 2, "track_number": 1},
    ]
    ok(client.patch(f"/api/v1/releases/{release['id']}/tracks", json={"tracks": tracklist}, headers=tenant.headers))

    def positions(document: dict[str, Any]) -> list[tuple[str, int, int]]:
        return [(t["title"], t["disc_number"], t["track_number"]) for t in document["tracks"]]

    after = ok(client.delete(f"/api/v1/releases/{release['id']}/tracks/{tracks[0]['id']}", headers=tenant.headers))
    assert positions(after) == [("Song 2", 1, 1), ("Song 3", 1, 2), ("Song 4", 2, 1)]
    removed = ok(client.get(f"/api/v1/tracks/{tracks[0]['id']}", headers=tenant.headers))
    assert (removed["release_id"], removed["disc_number"], removed["track_number"]) == (None, None, None)
    # A disc left empty is dropped and later discs move down.
    ok(client.delete(f"/api/v1/releases/{release['id']}/tracks/{tracks[1]['id']}", headers=tenant.headers))
    after = ok(client.delete(f"/api/v1/releases/{release['id']}/tracks/{tracks[2]['id']}", headers=tenant.headers))
    assert positions(after) == [("Song 4", 1, 1)]
    updates = [e for e in _events(client, tenant, "release.updated") if e["data"]["object"]["id"] == release["id"]]
    assert len(updates[-1]["data"]["previous_attributes"]["tracks"]) == 2
    # The same tracklist is accepted as is by updateReleaseTracks (its numbering rules hold).
    ok(
        client.patch(
            f"/api/v1/releases/{release['id']}/tracks",
            json={"tracks": [{"track_id": tracks[3]["id"], "disc_number": 1, "track_number": 1}]},
            headers=tenant.headers,
        )
    )
    # A track that is not on the release (any more) is 404.
    gone = client.delete(f"/api/v1/releases/{release['id']}/tracks/{tracks[0]['id']}", headers=tenant.headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")


def test_a_track_cannot_be_removed_once_submitted(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    track = create_track(client, tenant, release_id=release["id"])
    with session_scope() as session:
        row = session.get(Release, release["id"])
        assert row is not None
        row.status = "submitted"
        session.add(row)
    refused = client.delete(f"/api/v1/releases/{release['id']}/tracks/{track['id']}", headers=tenant.headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_state")
    assert ok(client.get(f"/api/v1/tracks/{track['id']}", headers=tenant.headers))["release_id"] == release["id"]
