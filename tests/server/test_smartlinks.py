"""Smart links through the HTTP API: creation rules, the public page and its switch on release day, the click
redirect (never an open redirect), statistics, tenancy."""

import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from starlette.testclient import TestClient

from server import clock
from server.db.engine import session_scope
from server.db.models.events import Event
from server.db.models.smartlinks import SmartLinkHit
from tests import dates
from tests.conftest import Tenant, TenantFactory
from tests.dates import days_from_today

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
SPOTIFY = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"
BANDCAMP = "https://novalane.bandcamp.com/album/midnight-drive"
TIDAL = "https://tidal.com/browse/album/1790000001"


def _slug() -> str:
    return f"midnight-drive-{secrets.token_hex(4)}"


def _release(client: TestClient, tenant: Tenant, release_date: date | None = None) -> str:
    body = {"title": "Midnight Drive", "primary_artists": ["Nova Lane", "Kito Mar"]}
    created = client.post("/api/v1/releases", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    release_id = str(created.json()["id"])
    if release_date is not None:
        patched = client.patch(
            f"/api/v1/releases/{release_id}/distribution",
            json={"release_date": release_date.isoformat()},
            headers=tenant.headers,
        )
        assert patched.status_code == 200, patched.text
    return release_id


def _create(client: TestClient, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {
        "release_id": fields.pop("release_id", None) or _release(client, tenant),
        "slug": _slug(),
        "destinations": [{"service": "spotify", "url": SPOTIFY}, {"service": "bandcamp", "url": BANDCAMP}],
        **fields,
    }
    response = client.post("/api/v1/smartlinks", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _errors(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return {(e["code"], e["pointer"]) for e in response.json()["errors"]}


def test_create_then_get_list_and_event(client: TestClient, tenant: Tenant) -> None:
    release_id = _release(client, tenant)
    link = _create(client, tenant, release_id=release_id, metadata={"campaign": "winter"})
    assert link["object"] == "smartlink"
    assert link["environment"] == "sandbox"
    assert (link["title"], link["artist"], link["mode"]) == ("Midnight Drive", "Nova Lane, Kito Mar", "stream")
    assert link["presave"] == {"enabled": False, "services": ["spotify", "apple_music", "deezer"], "release_at": None,
                               "time_zone": "UTC"}  # fmt: skip
    assert client.get(f"/api/v1/smartlinks/{link['id']}/settings", headers=tenant.headers).json() == link
    other = _create(client, tenant)
    listed = client.get("/api/v1/smartlinks", headers=tenant.headers).json()
    assert [item["id"] for item in listed["data"]] == [other["id"], link["id"]]
    only = client.get("/api/v1/smartlinks", params={"release_id": release_id}, headers=tenant.headers).json()
    assert [item["id"] for item in only["data"]] == [link["id"]]
    with session_scope() as session:
        events = session.exec(select(Event).where(col(Event.account_id) == tenant.account_id)).all()
    created = [e.payload["data"]["object"] for e in events if e.type == "smartlink.created"]
    # Rows come back in no guaranteed order (PostgreSQL): compare as sets of documents, by id.
    assert sorted(created, key=lambda d: d["id"]) == sorted([link, other], key=lambda d: d["id"])


def test_slugs_are_unique_across_tenants(client: TestClient, make_tenant: TenantFactory) -> None:
    first, second = make_tenant(), make_tenant()
    link = _create(client, first)
    body = {"release_id": _release(client, second), "slug": link["slug"]}
    response = client.post("/api/v1/smartlinks", json=body, headers=second.headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "conflict"


def test_unsafe_destinations_and_foreign_releases_are_refused_together(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    owner, stranger = make_tenant(), make_tenant()
    body = {
        "release_id": _release(client, stranger),
        "slug": _slug(),
        "artwork_url": "http://cdn.example.com/a.jpg",
        "destinations": [
            {"service": "spotify", "url": "javascript:alert(1)"},
            {"service": "spotify", "url": SPOTIFY},
            {"service": "tidal", "url": "http://tidal.com/album/1"},
            {"service": "deezer", "url": "https://user:pw@evil.example/"},
        ],
    }
    response = client.post("/api/v1/smartlinks", json=body, headers=owner.headers)
    assert _errors(response) >= {
        ("unknown_release", "/release_id"),
        ("https_required", "/artwork_url"),
        ("https_required", "/destinations/0/url"),
        ("duplicate", "/destinations/1/service"),
        ("https_required", "/destinations/2/url"),
        ("https_required", "/destinations/3/url"),
    }
    assert client.get("/api/v1/smartlinks", headers=owner.headers).json()["data"] == []


def test_presave_needs_a_future_release_moment_and_a_real_zone(client: TestClient, tenant: Tenant) -> None:
    undated = _release(client, tenant)
    past = _release(client, tenant, days_from_today(-2))
    for release_id, presave, expected in [
        (undated, {"enabled": True}, ("required", "/presave/release_at")),
        (past, {"enabled": True}, ("in_past", "/presave/release_at")),
        (undated, {"enabled": True, "release_at": "2020-01-01T00:00:00Z"}, ("in_past", "/presave/release_at")),
        (past, {"enabled": False, "time_zone": "Mars/Olympus"}, ("invalid_time_zone", "/presave/time_zone")),
    ]:
        body = {"release_id": release_id, "slug": _slug(), "presave": presave}
        assert expected in _errors(client.post("/api/v1/smartlinks", json=body, headers=tenant.headers))


def test_the_page_switches_from_presave_to_stream_at_local_midnight(client: TestClient, tenant: Tenant) -> None:
    release_day = days_from_today(10)
    link = _create(
        client,
        tenant,
        release_id=_release(client, tenant, release_day),
        destinations=[
            {"service": "tidal", "url": TIDAL},
            {"service": "spotify", "url": SPOTIFY},
            {"service": "bandcamp", "url": BANDCAMP},
        ],
        presave={"enabled": True, "services": ["spotify", "deezer"], "time_zone": "Europe/Berlin"},
    )
    midnight = datetime(release_day.year, release_day.month, release_day.day, tzinfo=ZoneInfo("Europe/Berlin"))
    assert datetime.fromisoformat(link["presave"]["release_at"]) == midnight
    assert link["presave"]["release_at"].endswith(("+01:00", "+02:00"))  # shown in the owner's zone
    assert link["mode"] == "presave"

    page = client.get(f"/api/v1/smartlinks/{link['slug']}").json()
    assert page["mode"] == "presave"
    # Deezer has no page to send the fan to and TIDAL cannot be streamed yet: neither gets a button.
    assert [(s["service"], s["action"]) for s in page["services"]] == [("spotify", "presave"), ("bandcamp", "buy")]
    assert client.get(f"/api/v1/smartlinks/{link['slug']}/go/tidal", follow_redirects=False).status_code == 404

    until_midnight = midnight - clock.now()
    with clock.shifted(until_midnight - timedelta(minutes=1)):
        assert client.get(f"/api/v1/smartlinks/{link['slug']}").json()["mode"] == "presave"
    with clock.shifted(until_midnight + timedelta(seconds=1)):
        page = client.get(f"/api/v1/smartlinks/{link['slug']}").json()
        owner_view = client.get(f"/api/v1/smartlinks/{link['id']}/settings", headers=tenant.headers).json()
        went = client.get(f"/api/v1/smartlinks/{link['slug']}/go/tidal", follow_redirects=False)
    assert page["mode"] == owner_view["mode"] == "stream"
    assert [(s["service"], s["action"]) for s in page["services"]] == [
        ("tidal", "play"),
        ("spotify", "play"),
        ("bandcamp", "buy"),
    ]
    assert (went.status_code, went.headers["location"]) == (302, TIDAL)


def test_the_public_view_needs_no_credential_and_shows_nothing_owner_only(client: TestClient, tenant: Tenant) -> None:
    link = _create(client, tenant, metadata={"secret_campaign": "x"})
    response = client.get(f"/api/v1/smartlinks/{link['slug']}")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" in response.headers  # the per-IP budget of public operations
    page = response.json()
    assert page["object"] == "public_smartlink"
    assert page["environment"] == "sandbox"
    text = response.text
    for owner_only in (link["id"], link["release_id"], SPOTIFY, "secret_campaign"):
        assert owner_only not in text
    assert page["services"][0]["click_url"] == f"/api/v1/smartlinks/{link['slug']}/go/spotify"
    missing = client.get("/api/v1/smartlinks/no-such-link")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_a_click_redirects_only_to_the_links_own_destination(client: TestClient, tenant: Tenant) -> None:
    link = _create(client, tenant)
    went = client.get(f"/api/v1/smartlinks/{link['slug']}/go/spotify", follow_redirects=False)
    assert went.status_code == 302
    assert went.headers["location"] == SPOTIFY
    assert went.headers["cache-control"] == "no-store"
    for path in (f"/api/v1/smartlinks/{link['slug']}/go/deezer", "/api/v1/smartlinks/no-such-link/go/spotify"):
        refused = client.get(path, follow_redirects=False)
        assert refused.status_code == 404, path
        assert refused.json()["code"] == "not_found"
        assert "location" not in refused.headers
    # A query string cannot steer the redirect anywhere else.
    steered = client.get(
        f"/api/v1/smartlinks/{link['slug']}/go/spotify",
        params={"url": "https://evil.example/"},
        follow_redirects=False,
    )
    assert steered.headers.get("location") == SPOTIFY


def test_stats_count_views_clicks_uniques_and_breakdowns_without_bots(client: TestClient, tenant: Tenant) -> None:
    link = _create(client, tenant)
    page, go = f"/api/v1/smartlinks/{link['slug']}", f"/api/v1/smartlinks/{link['slug']}/go/"
    fan = {"User-Agent": BROWSER, "Referer": "https://www.instagram.com/p/abc?igsh=123", "CF-IPCountry": "DE"}
    desk = {"User-Agent": DESKTOP}
    client.get(page, headers=fan)
    client.get(page, headers=fan)
    client.get(page, headers=desk)
    client.get(page, headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
    client.get(go + "spotify", headers=fan, follow_redirects=False)
    client.get(go + "bandcamp", headers=fan, follow_redirects=False)
    client.get(go + "spotify", headers=desk, follow_redirects=False)
    with session_scope() as session:
        hits = session.exec(select(SmartLinkHit).where(col(SmartLinkHit.smartlink_id) == link["id"])).all()
    assert len(hits) == 7
    assert sum(h.is_bot for h in hits) == 1
    assert all(len(h.visitor_hash) == 64 and "testclient" not in h.visitor_hash for h in hits)

    response = client.get(f"/api/v1/smartlinks/{link['id']}/stats", headers=tenant.headers)
    assert response.status_code == 200, response.text
    stats = response.json()
    today = dates.today()
    assert (stats["from"], stats["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert stats["views"] == {"total": 3, "unique": 2}
    assert stats["clicks"] == {
        "total": 3,
        "unique": 2,
        "by_service": [{"service": "spotify", "clicks": 2}, {"service": "bandcamp", "clicks": 1}],
    }
    assert stats["ctr"] == "1.0000"
    assert stats["by_country"] == [
        {"country": "DE", "views": 2, "clicks": 2},
        {"country": "ZZ", "views": 1, "clicks": 1},
    ]
    assert stats["by_referrer"] == [
        {"referrer": "instagram.com", "views": 2, "clicks": 2},
        {"referrer": "direct", "views": 1, "clicks": 1},
    ]
    assert stats["by_device"] == [
        {"device": "mobile", "views": 2, "clicks": 2},
        {"device": "desktop", "views": 1, "clicks": 1},
    ]
    assert len(stats["daily"]) == 30
    assert stats["daily"][0]["views"] == 0
    assert stats["daily"][-1] == {"date": today.isoformat(), "views": 3, "unique_views": 2, "clicks": 3, "presaves": 0}

    window = {"from": (today - timedelta(days=3)).isoformat(), "to": (today - timedelta(days=1)).isoformat()}
    empty = client.get(f"/api/v1/smartlinks/{link['id']}/stats", params=window, headers=tenant.headers).json()
    assert (empty["views"]["total"], empty["ctr"], len(empty["daily"])) == (0, "0", 3)


def test_stats_ranges_are_checked(client: TestClient, tenant: Tenant) -> None:
    link = _create(client, tenant)
    url = f"/api/v1/smartlinks/{link['id']}/stats"
    backwards = client.get(url, params={"from": "2026-11-02", "to": "2026-11-01"}, headers=tenant.headers)
    assert ("range", "query:to") in _errors(backwards)
    too_long = client.get(url, params={"from": "2024-01-01", "to": "2025-12-31"}, headers=tenant.headers)
    assert ("range", "query:from") in _errors(too_long)


def test_other_tenants_and_environments_never_see_a_link(client: TestClient, make_tenant: TenantFactory) -> None:
    sandbox = make_tenant(production_access=True)
    production = make_tenant(environment="production", account_id=sandbox.account_id)
    stranger = make_tenant()
    link = _create(client, sandbox)
    for other in (production, stranger):
        for path in (f"/api/v1/smartlinks/{link['id']}/settings", f"/api/v1/smartlinks/{link['id']}/stats"):
            response = client.get(path, headers=other.headers)
            assert response.status_code == 404, path
        assert client.get("/api/v1/smartlinks", headers=other.headers).json()["data"] == []
    live = _create(client, production)
    assert live["environment"] == "production"
    assert client.get(f"/api/v1/smartlinks/{live['slug']}").json()["environment"] == "production"
    # A sandbox key cannot attach a link to a production release.
    body = {"release_id": live["release_id"], "slug": _slug()}
    assert ("unknown_release", "/release_id") in _errors(
        client.post("/api/v1/smartlinks", json=body, headers=sandbox.headers)
    )


def _events_of(tenant: Tenant, event_type: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        rows = session.exec(
            select(Event)
            .where(col(Event.account_id) == tenant.account_id, col(Event.type) == event_type)
            .order_by(col(Event.created_at), col(Event.id))
        ).all()
    return [row.payload for row in rows]


def test_update_revalidates_like_create_and_announces_the_change(client: TestClient, tenant: Tenant) -> None:
    link = _create(client, tenant, release_id=_release(client, tenant, days_from_today(20)))
    url = f"/api/v1/smartlinks/{link['id']}/settings"
    refused = client.patch(
        url,
        json={
            "destinations": [{"service": "tidal", "url": "http://tidal.com/x"}, {"service": "tidal", "url": TIDAL}],
            "artwork_url": "javascript:alert(1)",
            "presave": {"enabled": True, "release_at": (dates.now() - timedelta(days=1)).isoformat()},
        },
        headers=tenant.headers,
    )
    assert _errors(refused) == {
        ("https_required", "/destinations/0/url"),
        ("duplicate", "/destinations/1/service"),
        ("https_required", "/artwork_url"),
        ("in_past", "/presave/release_at"),
    }
    assert client.get(url, headers=tenant.headers).json() == link  # nothing changed
    response = client.patch(
        url,
        json={
            "title": "Midnight Drive (Deluxe)",
            "destinations": [{"service": "tidal", "url": TIDAL}],
            "presave": {"enabled": True, "services": ["spotify"], "time_zone": "Europe/Berlin"},
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Midnight Drive (Deluxe)"
    assert updated["destinations"] == [{"service": "tidal", "url": TIDAL}]
    assert updated["mode"] == "presave"
    assert updated["presave"]["release_at"].endswith(("+01:00", "+02:00"))  # midnight of release day in Berlin
    [event] = _events_of(tenant, "smartlink.updated")
    assert event["data"]["object"] == updated
    assert set(event["data"]["previous_attributes"]) == {"title", "destinations", "presave", "mode"}
    assert client.patch(url, json={"title": "Midnight Drive (Deluxe)"}, headers=tenant.headers).status_code == 200
    assert len(_events_of(tenant, "smartlink.updated")) == 1  # no change, no event


def test_a_disabled_link_is_gone_publicly_until_enabled_again(client: TestClient, tenant: Tenant) -> None:
    link = _create(client, tenant)
    settings = f"/api/v1/smartlinks/{link['id']}/settings"
    disabled = client.patch(settings, json={"status": "disabled"}, headers=tenant.headers)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["disabled_at"] is not None
    for path in (f"/api/v1/smartlinks/{link['slug']}", f"/api/v1/smartlinks/{link['slug']}/go/spotify"):
        gone = client.get(path, follow_redirects=False)
        assert gone.status_code == 410, path
        assert gone.json()["code"] == "smartlink_disabled"
    page = client.get(f"/l/{link['slug']}")
    assert page.status_code == 410
    assert "switched off" in page.text
    with session_scope() as session:  # nothing counted while disabled
        hits = session.exec(select(SmartLinkHit).where(col(SmartLinkHit.smartlink_id) == link["id"])).all()
    assert hits == []
    # The slug stays reserved for this link.
    taken = client.post(
        "/api/v1/smartlinks", json={"release_id": link["release_id"], "slug": link["slug"]}, headers=tenant.headers
    )
    assert taken.status_code == 409
    enabled = client.patch(settings, json={"status": "active"}, headers=tenant.headers).json()
    assert (enabled["status"], enabled["disabled_at"]) == ("active", None)
    assert client.get(f"/api/v1/smartlinks/{link['slug']}").status_code == 200
    assert [e["data"]["previous_attributes"]["status"] for e in _events_of(tenant, "smartlink.updated")] == [
        "active",
        "disabled",
    ]


def test_delete_removes_the_link_and_frees_its_slug(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, stranger = make_tenant(), make_tenant()
    link = _create(client, owner)
    client.get(f"/api/v1/smartlinks/{link['slug']}", headers={"User-Agent": BROWSER})  # a view in the stats
    url = f"/api/v1/smartlinks/{link['id']}/settings"
    assert client.delete(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, json={"status": "disabled"}, headers=stranger.headers).status_code == 404
    response = client.delete(url, headers=owner.headers)
    assert response.status_code == 204, response.text
    assert client.get(url, headers=owner.headers).status_code == 404
    assert client.get(f"/api/v1/smartlinks/{link['slug']}").status_code == 404
    assert client.get(f"/l/{link['slug']}").status_code == 404
    [event] = _events_of(owner, "smartlink.deleted")
    assert event["data"]["object"]["id"] == link["id"]
    assert client.delete(url, headers=owner.headers).status_code == 404
    # The slug can be taken again.
    again = client.post(
        "/api/v1/smartlinks",
        json={"release_id": _release(client, stranger), "slug": link["slug"]},
        headers=stranger.headers,
    )
    assert again.status_code == 201, again.text
