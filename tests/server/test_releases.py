"""Releases through the HTTP API: the wizard, derived fields, the status lock, submission and its checks."""

from sqlmodel import col, select
from starlette.testclient import TestClient

from server.db.engine import session_scope
from server.db.models.events import Event
from server.db.models.releases import ReleaseDelivery
from server.domain import identifiers
from server.media import audio_bytes
from tests.conftest import Tenant, TenantFactory
from tests.dates import days_from_today
from tests.server.releases_helpers import (
    complete_release,
    create_release,
    create_track,
    ok,
    run_qc,
    unique_upc,
    upload_audio,
)


def _event_types(account_id: str) -> list[str]:
    with session_scope() as session:
        rows = session.exec(select(Event).where(col(Event.account_id) == account_id).order_by(col(Event.id))).all()
    return [row.type for row in rows]


def test_a_new_draft_lists_what_each_step_misses(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant, label="Nordlicht Records", metadata={"crm": "A-1"})
    assert release["status"] == "draft"
    assert release["label"] == "Nordlicht Records"
    details = release["steps"]["details"]
    assert (details["complete"], details["missing"]) == (False, ["/genre", "/language", "/p_line", "/c_line"])
    assert [(e["code"], e["pointer"]) for e in details["errors"]] == [
        ("required", pointer) for pointer in details["missing"]
    ]
    assert release["steps"]["tracks"]["missing"] == ["/tracks"]
    assert release["steps"]["artwork"]["missing"] == ["/artwork"]
    assert release["release_type"] is None
    assert ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers)) == release
    assert _event_types(tenant.account_id) == ["release.created"]


def test_the_whole_wizard_then_submit_assigns_identifiers_once(client: TestClient, tenant: Tenant) -> None:
    release = complete_release(client, tenant, tracks=2)
    assert all(step["complete"] for step in release["steps"].values()), release["steps"]
    assert release["release_type"] == "single"
    assert release["duration_ms"] == 2 * 31_000
    assert release["artwork_qc"]["status"] == "passed"
    assert [t["qc_status"] for t in release["tracks"]] == ["passed", "passed"]

    submitted = ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))
    assert submitted["status"] == "submitted"
    assert submitted["submitted_at"] is not None
    assert identifiers.is_valid_upc(submitted["upc"])
    isrcs = [t["isrc"] for t in submitted["tracks"]]
    assert all(identifiers.is_valid_isrc(isrc) for isrc in isrcs)
    assert len(set(isrcs)) == 2

    again = ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))
    assert again == submitted
    types = _event_types(tenant.account_id)
    assert types.count("release.submitted") == 1
    assert types.count("release.status_changed") == 1


def test_assigned_isrcs_never_repeat_across_releases(client: TestClient, tenant: Tenant) -> None:
    seen: set[str] = set()
    for _ in range(2):
        release = complete_release(client, tenant)
        submitted = ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))
        seen |= {t["isrc"] for t in submitted["tracks"]}
    assert len(seen) == 2


def test_an_empty_draft_fails_every_check_at_once(client: TestClient, tenant: Tenant) -> None:
    release = create_release(
        client, tenant, title="Best of www.example.com", primary_artists=["Aurora Vale & Kito Mar"]
    )
    response = client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "submission_checks_failed"
    found = {(e["code"], e["pointer"]) for e in problem["errors"]}
    assert {
        ("required", "/label"),
        ("required", "/genre"),
        ("required", "/release_date"),
        ("required", "/territories"),
        ("no_tracks", "/tracks"),
        ("artwork_missing", "/artwork"),
        ("forbidden_title_content", "/title"),
        ("combined_artist_name", "/primary_artists/0"),
    } <= found
    assert ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["status"] == "draft"


def test_track_level_checks_point_at_the_track(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    create_track(client, tenant, release_id=release["id"], title="Song (feat. Kito Mar)", language="en")
    ok(
        client.patch(
            f"/api/v1/releases/{release['id']}/distribution",
            json={"release_date": days_from_today(3).isoformat()},
            headers=tenant.headers,
        )
    )
    problem = client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers).json()
    found = {(e["code"], e["pointer"]) for e in problem["errors"]}
    assert {
        ("required", "/tracks/0/explicit"),
        ("audio_missing", "/tracks/0/audio"),
        ("forbidden_title_content", "/tracks/0/title"),
        ("missing_composer", "/tracks/0/credits"),
        ("missing_lyricist", "/tracks/0/credits"),
        ("release_date_too_soon", "/release_date"),
    } <= found


def test_a_submitted_release_is_locked_except_its_metadata(client: TestClient, tenant: Tenant) -> None:
    release = complete_release(client, tenant)
    ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))
    for step, body in (
        ("details", {"title": "Other"}),
        ("distribution", {"territories": ["DE"]}),
        ("tracks", {"tracks": []}),
    ):
        response = client.patch(f"/api/v1/releases/{release['id']}/{step}", json=body, headers=tenant.headers)
        assert response.status_code == 409, step
        assert response.json()["code"] == "invalid_state"
        assert response.json()["current_state"] == "submitted"
    track_id = release["tracks"][0]["id"]
    locked = client.patch(f"/api/v1/tracks/{track_id}", json={"title": "x"}, headers=tenant.headers)
    assert locked.status_code == 409
    assert locked.json()["current_state"] == "submitted"
    relabelled = client.patch(
        f"/api/v1/releases/{release['id']}/details", json={"metadata": {"crm": "B-2"}}, headers=tenant.headers
    )
    assert ok(relabelled)["metadata"] == {"crm": "B-2"}


def test_upc_is_checked_for_its_digit_and_uniqueness(client: TestClient, tenant: Tenant) -> None:
    first, second = create_release(client, tenant), create_release(client, tenant)
    bad = client.patch(f"/api/v1/releases/{first['id']}/details", json={"upc": "4061707512345"}, headers=tenant.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0] == {
        "code": "invalid_upc",
        "pointer": "/upc",
        "detail": bad.json()["errors"][0]["detail"],
    }
    malformed = client.patch(f"/api/v1/releases/{first['id']}/details", json={"upc": "12AB"}, headers=tenant.headers)
    assert malformed.status_code == 422
    upc = unique_upc()
    assert ok(client.patch(f"/api/v1/releases/{first['id']}/details", json={"upc": upc}, headers=tenant.headers))
    taken = client.patch(f"/api/v1/releases/{second['id']}/details", json={"upc": upc}, headers=tenant.headers)
    assert taken.status_code == 409
    assert taken.json()["code"] == "conflict"


def test_territories_must_be_countries_or_worldwide_alone(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    response = client.patch(
        f"/api/v1/releases/{release['id']}/distribution",
        json={"territories": ["WW", "DE", "XK"]},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert [(e["code"], e["pointer"]) for e in response.json()["errors"]] == [
        ("invalid_territory", "/territories/0"),
        ("invalid_territory", "/territories/2"),
    ]


def test_tracklist_replaces_order_and_derives_type(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    a = create_track(client, tenant, release_id=release["id"], explicit=True)
    b = create_track(client, tenant, release_id=release["id"])
    assert (a["track_number"], b["track_number"]) == (1, 2)
    reordered = ok(
        client.patch(
            f"/api/v1/releases/{release['id']}/tracks",
            json={"tracks": [{"track_id": b["id"], "track_number": 1}, {"track_id": a["id"], "track_number": 2}]},
            headers=tenant.headers,
        )
    )
    assert [t["id"] for t in reordered["tracks"]] == [b["id"], a["id"]]
    assert reordered["explicit"] is True
    assert reordered["release_type"] == "single"
    gaps = client.patch(
        f"/api/v1/releases/{release['id']}/tracks",
        json={"tracks": [{"track_id": b["id"], "track_number": 1}, {"track_id": a["id"], "track_number": 3}]},
        headers=tenant.headers,
    )
    assert gaps.status_code == 422
    assert gaps.json()["errors"][0]["pointer"] == "/tracks/1/track_number"
    emptied = ok(client.patch(f"/api/v1/releases/{release['id']}/tracks", json={"tracks": []}, headers=tenant.headers))
    assert emptied["tracks"] == []
    assert ok(client.get(f"/api/v1/tracks/{a['id']}", headers=tenant.headers))["release_id"] is None


def test_a_track_on_another_release_cannot_be_listed(client: TestClient, tenant: Tenant) -> None:
    first, second = create_release(client, tenant), create_release(client, tenant)
    track = create_track(client, tenant, release_id=first["id"])
    response = client.patch(
        f"/api/v1/releases/{second['id']}/tracks",
        json={"tracks": [{"track_id": track["id"], "track_number": 1}]},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "track_on_other_release"


def test_list_filters_by_status_and_pages(client: TestClient, tenant: Tenant) -> None:
    ids = [create_release(client, tenant)["id"] for _ in range(3)]
    page = ok(client.get("/api/v1/releases", params={"limit": 2}, headers=tenant.headers))
    assert [r["id"] for r in page["data"]] == ids[::-1][:2]
    rest = ok(
        client.get("/api/v1/releases", params={"limit": 2, "cursor": page["next_cursor"]}, headers=tenant.headers)
    )
    assert [r["id"] for r in rest["data"]] == [ids[0]]
    assert ok(client.get("/api/v1/releases", params={"status": "live"}, headers=tenant.headers))["data"] == []


def test_a_list_page_shows_each_release_exactly_as_its_own_read(client: TestClient, tenant: Tenant) -> None:
    # A page loads tracks, deliveries and files for all its releases at once: nothing may differ from one read.
    full = complete_release(client, tenant, tracks=2)
    other = complete_release(client, tenant, tracks=1)
    bare = create_release(client, tenant)
    with session_scope() as session:
        for store, status in (("spotify", "live"), ("apple_music", "delivered")):
            session.add(
                ReleaseDelivery(
                    account_id=tenant.account_id,
                    environment=tenant.environment,
                    release_id=full["id"],
                    store=store,
                    status=status,
                    store_url=f"https://{store}.example/album/1" if status == "live" else None,
                )
            )
    page = ok(client.get("/api/v1/releases", params={"limit": 10}, headers=tenant.headers))
    assert [r["id"] for r in page["data"]] == [bare["id"], other["id"], full["id"]]
    for listed in page["data"]:
        assert listed == ok(client.get(f"/api/v1/releases/{listed['id']}", headers=tenant.headers))
    listed_full = page["data"][2]
    assert [t["title"] for t in listed_full["tracks"]] == ["Song 1", "Song 2"]
    assert all(t["audio"] is not None for t in listed_full["tracks"])
    assert listed_full["artwork"] is not None
    assert [d["store"] for d in listed_full["deliveries"]] == ["spotify", "apple_music"]


def test_another_accounts_release_is_not_found(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    release = create_release(client, owner)
    assert client.get(f"/api/v1/releases/{release['id']}", headers=stranger.headers).status_code == 404
    submit = client.post(f"/api/v1/releases/{release['id']}/submit", headers=stranger.headers)
    assert submit.status_code == 404


def test_qc_of_a_late_upload_is_required_before_submit(client: TestClient, tenant: Tenant) -> None:
    release = complete_release(client, tenant)
    from tests.server.releases_helpers import master_wav, upload_audio

    ok(upload_audio(client, tenant, release["tracks"][0]["id"], master_wav()[:-2] + b"\x00\x01"))
    problem = client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers).json()
    assert ("audio_qc_pending", "/tracks/0/qc_status") in {(e["code"], e["pointer"]) for e in problem["errors"]}
    run_qc()
    assert ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))["status"] == "submitted"


def test_a_track_whose_audio_failed_qc_blocks_submit(client: TestClient, tenant: Tenant) -> None:
    release = complete_release(client, tenant)
    track_id = release["tracks"][0]["id"]
    ok(upload_audio(client, tenant, track_id, audio_bytes(amplitude=0.0)))  # a silent "master"
    run_qc()
    qc = ok(client.get(f"/api/v1/tracks/{track_id}/qc-status", headers=tenant.headers))
    assert qc["audio"]["status"] == "failed"
    assert "digital_silence" in {f["code"] for f in qc["audio"]["findings"]}
    response = client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers)
    assert response.status_code == 422
    assert ("audio_qc_failed", "/tracks/0/qc_status") in {(e["code"], e["pointer"]) for e in response.json()["errors"]}
    assert ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["status"] == "draft"
