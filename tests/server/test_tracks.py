"""Tracks and uploads through the HTTP API: metadata, streamed audio/artwork, QC results, and bad input."""

import hashlib
import json

from starlette.testclient import TestClient

from server.app import App
from server.media import audio_bytes, cover_bytes
from tests.conftest import Tenant, TenantFactory
from tests.server.releases_helpers import (
    create_release,
    create_track,
    good_cover,
    master_wav,
    ok,
    run_qc,
    unique_isrc,
    upload_artwork,
    upload_audio,
)


def test_create_with_metadata_and_audio_in_one_request(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    metadata = {"release_id": release["id"], "title": "Northern Lights", "primary_artists": ["Aurora Vale"]}
    data = audio_bytes(fmt="FLAC", subtype="PCM_24", rate=48_000)
    response = client.post(
        "/api/v1/tracks",
        files={"metadata": (None, json.dumps(metadata), "application/json"), "audio": ("m.flac", data, "audio/flac")},
        headers=tenant.headers,
    )
    track = ok(response, 201)
    assert track["release_id"] == release["id"]
    assert track["qc_status"] == "pending"
    assert track["audio"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert track["audio"]["size_bytes"] == len(data)
    assert track["audio"]["content_type"] == "audio/flac"
    assert track["audio"]["filename"] == "m.flac"
    run_qc()
    qc = ok(client.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant.headers))
    assert qc["audio"]["status"] == "passed"
    assert [f["code"] for f in qc["audio"]["findings"]] == ["loudness"]
    assert qc["cover"] is None
    assert ok(client.get(f"/api/v1/tracks/{track['id']}", headers=tenant.headers))["duration_ms"] == 31_000


def test_bad_audio_fails_qc_with_every_finding(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    mono = audio_bytes(seconds=5, rate=22_050, channels=1, subtype="PCM_U8")
    ok(upload_audio(client, tenant, track["id"], mono))
    run_qc()
    audio = ok(client.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant.headers))["audio"]
    assert audio["status"] == "failed"
    codes = {f["code"]: f for f in audio["findings"]}
    assert {"sample_rate", "bit_depth", "channels", "duration"} <= set(codes)
    assert codes["sample_rate"]["measured_value"] == 22_050
    assert codes["duration"]["unit"] == "ms"


def test_a_truncated_master_fails_qc_as_corrupt(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    ok(upload_audio(client, tenant, track["id"], master_wav()[: len(master_wav()) // 2]))
    run_qc()
    audio = ok(client.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant.headers))["audio"]
    assert audio["status"] == "failed"
    assert audio["findings"][0]["code"] == "corrupt"


def test_cover_qc_is_visible_on_every_track(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    track = create_track(client, tenant, release_id=release["id"])
    pending = ok(upload_artwork(client, tenant, release["id"], cover_bytes(size=(1000, 800), mode="L")))
    assert pending["artwork_qc"]["status"] == "pending"
    run_qc()
    cover = ok(client.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant.headers))["cover"]
    assert cover["status"] == "failed"
    assert {f["code"] for f in cover["findings"]} == {"color_mode", "not_square", "too_small"}
    ok(upload_artwork(client, tenant, release["id"], good_cover()))
    run_qc()
    assert (
        ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))["artwork_qc"]["status"] == "passed"
    )


def test_same_bytes_twice_are_stored_once(client: TestClient, tenant: Tenant) -> None:
    first, second = create_track(client, tenant), create_track(client, tenant)
    a = ok(upload_audio(client, tenant, first["id"], master_wav()))["audio"]
    b = ok(upload_audio(client, tenant, second["id"], master_wav()))["audio"]
    assert a["id"] == b["id"]
    assert a["sha256"] == b["sha256"]


def test_isrc_is_canonicalised_and_unique(client: TestClient, tenant: Tenant) -> None:
    isrc = unique_isrc()
    track = create_track(client, tenant, isrc=f"{isrc[:2].lower()}-{isrc[2:5].lower()}-{isrc[5:7]}-{isrc[7:]}")
    assert track["isrc"] == isrc
    duplicate = client.post(
        "/api/v1/tracks", json={"title": "x", "primary_artists": ["y"], "isrc": isrc}, headers=tenant.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "conflict"


def test_malformed_isrc_is_a_validation_error(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/tracks", json={"title": "x", "primary_artists": ["y"], "isrc": "DE-A7B-2026-1"}, headers=tenant.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/isrc"


def test_a_track_cannot_join_another_accounts_release(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    release = create_release(client, owner)
    response = client.post(
        "/api/v1/tracks",
        json={"title": "x", "primary_artists": ["y"], "release_id": release["id"]},
        headers=stranger.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "code": "unknown_release",
        "pointer": "/release_id",
        "detail": f"No release with id {release['id']} exists.",
    }
    track = create_track(client, owner)
    assert client.get(f"/api/v1/tracks/{track['id']}", headers=stranger.headers).status_code == 404
    assert upload_audio(client, stranger, track["id"], master_wav()).status_code == 404


def test_unknown_person_in_credits_points_at_it(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/tracks",
        json={
            "title": "x",
            "primary_artists": ["y"],
            "credits": [
                {"name": "Jonas Berg", "role": "producer"},
                {"person_id": "per_" + "0" * 26, "role": "composer"},
            ],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/credits/1/person_id"


def test_wrong_content_type_is_415(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    response = client.put(f"/api/v1/tracks/{track['id']}/audio", json={"audio": "x"}, headers=tenant.headers)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_jpeg_sent_as_audio_is_415(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    response = upload_audio(client, tenant, track["id"], good_cover(), name="song.wav")
    assert response.status_code == 415
    assert "image/jpeg" in response.json()["detail"]
    assert ok(client.get(f"/api/v1/tracks/{track['id']}", headers=tenant.headers))["audio"] is None


def test_a_wav_sent_as_artwork_is_415(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    assert upload_artwork(client, tenant, release["id"], master_wav()).status_code == 415


def test_missing_file_part_is_422(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    response = client.put(
        f"/api/v1/tracks/{track['id']}/audio", files={"other": ("a.txt", b"x", "text/plain")}, headers=tenant.headers
    )
    assert response.status_code == 422
    pointers = {(e["code"], e["pointer"]) for e in response.json()["errors"]}
    assert ("required", "/audio") in pointers
    assert ("additional_property", "/other") in pointers


def test_an_empty_file_is_422(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    response = upload_audio(client, tenant, track["id"], b"")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"code": "empty_file", "pointer": "/audio", "detail": "The file part 'audio' is empty."}
    ]


def test_a_file_over_the_cap_is_413(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    response = upload_audio(client, tenant, track["id"], b"RIFF" + bytes(9 * 1024 * 1024))  # the test cap is 8 MiB
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_multipart_metadata_is_validated_with_pointers(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/tracks",
        files={
            "metadata": (None, json.dumps({"title": "", "isrc": "nope"}), "application/json"),
            "audio": ("m.wav", master_wav(), "audio/wav"),
        },
        headers=tenant.headers,
    )
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert {"/metadata/title", "/metadata/isrc"} <= pointers, pointers
    assert any(e["code"] == "required" and e["pointer"].startswith("/metadata") for e in response.json()["errors"])


def test_broken_metadata_json_is_400(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/api/v1/tracks",
        files={"metadata": (None, "{nope", "application/json"), "audio": ("m.wav", master_wav(), "audio/wav")},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_artwork_on_a_submitted_release_is_409(client: TestClient, tenant: Tenant) -> None:
    from tests.server.releases_helpers import complete_release

    release = complete_release(client, tenant)
    ok(client.post(f"/api/v1/releases/{release['id']}/submit", headers=tenant.headers))
    response = upload_artwork(client, tenant, release["id"], good_cover())
    assert response.status_code == 409
    assert response.json()["current_state"] == "submitted"
    audio = upload_audio(client, tenant, release["tracks"][0]["id"], master_wav())
    assert audio.status_code == 409


def test_list_by_release_is_in_tracklist_order(client: TestClient, tenant: Tenant) -> None:
    release = create_release(client, tenant)
    ids = [create_track(client, tenant, release_id=release["id"])["id"] for _ in range(3)]
    create_track(client, tenant)  # on no release
    page = ok(client.get("/api/v1/tracks", params={"release_id": release["id"], "limit": 2}, headers=tenant.headers))
    assert [t["id"] for t in page["data"]] == ids[:2]
    rest = ok(
        client.get(
            "/api/v1/tracks",
            params={"release_id": release["id"], "limit": 2, "cursor": page["next_cursor"]},
            headers=tenant.headers,
        )
    )
    assert [t["id"] for t in rest["data"]] == ids[2:]
    assert rest["has_more"] is False
    assert len(ok(client.get("/api/v1/tracks", headers=tenant.headers))["data"]) == 4


def _chunked_multipart(data: bytes, boundary: str = "og-test-boundary") -> tuple[object, dict[str, str]]:
    def body() -> object:
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'.encode()
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]
        yield f"\r\n--{boundary}--\r\n".encode()

    return body(), {"content-type": f"multipart/form-data; boundary={boundary}"}


def test_a_chunked_upload_streams_and_the_cap_still_applies(client: TestClient, tenant: Tenant) -> None:
    track = create_track(client, tenant)
    body, headers = _chunked_multipart(master_wav())
    response = client.put(f"/api/v1/tracks/{track['id']}/audio", content=body, headers={**tenant.headers, **headers})
    assert ok(response)["audio"]["sha256"] == hashlib.sha256(master_wav()).hexdigest()
    big, headers = _chunked_multipart(b"RIFF\x00\x00\x00\x00WAVE" + bytes(9 * 1024 * 1024))
    response = client.put(f"/api/v1/tracks/{track['id']}/audio", content=big, headers={**tenant.headers, **headers})
    assert response.status_code == 413


def test_the_in_process_worker_finishes_qc_without_help(app: App, client: TestClient, tenant: Tenant) -> None:
    import time

    from server.qc import worker
    from server.state import use

    # The test app runs no QC thread (tests run QC when they mean to); start the one `og-server serve` runs, for
    # the app (uploads wake the QC thread of the app that received them).
    with use(app.state):
        worker.start_in_process()
    try:
        track = create_track(client, tenant)
        ok(upload_audio(client, tenant, track["id"], master_wav()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            audio = ok(client.get(f"/api/v1/tracks/{track['id']}/qc-status", headers=tenant.headers))["audio"]
            if audio["status"] != "pending":
                break
            time.sleep(0.2)
    finally:
        with use(app.state):
            worker.stop_in_process()
    assert audio["status"] == "passed"
    assert audio["checked_at"] is not None


def test_uploads_do_not_grow_the_process(client: TestClient, tenant: Tenant) -> None:
    """Each multipart request once compiled (and kept) a validator of its own: about 86 KB per upload, 400 MB over a
    benchmark run. After the first upload of an operation, more uploads add nothing to the validator cache."""
    from server.openapi import schema_validation

    data = audio_bytes(fmt="FLAC", subtype="PCM_16", rate=44_100)

    def upload() -> None:
        metadata = {"title": "Northern Lights", "primary_artists": ["Aurora Vale"]}
        files = {"metadata": (None, json.dumps(metadata), "application/json"), "audio": ("m.flac", data, "audio/flac")}
        ok(client.post("/api/v1/tracks", files=files, headers=tenant.headers), 201)
        track = create_track(client, tenant)
        ok(upload_audio(client, tenant, track["id"], data))

    upload()
    cached = len(schema_validation._CACHE)
    for _ in range(5):
        upload()
    assert len(schema_validation._CACHE) == cached
