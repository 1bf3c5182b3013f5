"""Builders shared by the release and track tests: real media, a complete wizard run."""

import secrets
from functools import cache
from typing import Any

from starlette.testclient import TestClient

from server.domain.identifiers import gtin_check_digit
from server.media import audio_bytes, cover_bytes
from server.qc import worker
from tests.conftest import Tenant
from tests.dates import days_from_today


@cache
def master_wav() -> bytes:
    return audio_bytes()


@cache
def good_cover() -> bytes:
    return cover_bytes()


def unique_isrc() -> str:
    """A valid ISRC no other test uses: ISRCs are unique across the platform (per environment), and the tests of a
    session share one database."""
    return f"DEA7B{secrets.randbelow(10**7):07d}"


def unique_upc() -> str:
    """A valid GTIN-13 no other test uses (see `unique_isrc`)."""
    body = f"40{secrets.randbelow(10**10):010d}"
    return body + str(gtin_check_digit(body))


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def create_release(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"title": "Northern Lights", "primary_artists": ["Aurora Vale"], **fields}
    return ok(client.post("/api/v1/releases", json=body, headers=tenant.headers), 201)


def create_person(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Mara Lindqvist", "legal_name": "Mara Sofia Lindqvist", "email": "mara@example.com", **fields}
    return ok(client.post("/api/v1/persons", json=body, headers=tenant.headers), 201)


def create_track(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"title": "Northern Lights", "primary_artists": ["Aurora Vale"], **fields}
    return ok(client.post("/api/v1/tracks", json=body, headers=tenant.headers), 201)


def upload_audio(client: TestClient, tenant: Tenant, track_id: str, data: bytes, name: str = "m.wav") -> Any:
    return client.put(
        f"/api/v1/tracks/{track_id}/audio", files={"audio": (name, data, "audio/wav")}, headers=tenant.headers
    )


def upload_artwork(client: TestClient, tenant: Tenant, release_id: str, data: bytes) -> Any:
    return client.patch(
        f"/api/v1/releases/{release_id}/artwork",
        files={"artwork": ("cover.jpg", data, "image/jpeg")},
        headers=tenant.headers,
    )


def run_qc() -> None:
    """Runs every pending QC job now (the in-process worker would, a moment later)."""
    while worker.run_pending():
        pass


def complete_release(client: TestClient, tenant: Tenant, tracks: int = 1) -> dict[str, Any]:
    """A release that passes every submit-time check once QC has run."""
    person = create_person(client, tenant)
    release = create_release(client, tenant)
    ok(
        client.patch(
            f"/api/v1/releases/{release['id']}/details",
            json={
                "label": "Nordlicht Records",
                "genre": "electronic",
                "language": "en",
                "p_line": {"year": 2026, "owner": "Nordlicht Records"},
                "c_line": {"year": 2026, "owner": "Aurora Vale"},
            },
            headers=tenant.headers,
        )
    )
    for number in range(tracks):
        track = create_track(
            client,
            tenant,
            release_id=release["id"],
            title=f"Song {number + 1}",
            explicit=False,
            language="en",
            credits=[{"person_id": person["id"], "role": "composer"}, {"person_id": person["id"], "role": "lyricist"}],
        )
        ok(upload_audio(client, tenant, track["id"], master_wav()))
    ok(upload_artwork(client, tenant, release["id"], good_cover()))
    release_date = days_from_today(30).isoformat()
    ok(
        client.patch(
            f"/api/v1/releases/{release['id']}/distribution",
            json={"release_date": release_date, "territories": ["WW"], "stores": ["spotify"], "price_tier": "front"},
            headers=tenant.headers,
        )
    )
    run_qc()
    return ok(client.get(f"/api/v1/releases/{release['id']}", headers=tenant.headers))
