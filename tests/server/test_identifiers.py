"""ISRCs and UPCs are owned by one track / release on the whole platform (per environment): another account cannot
take yours, the answer does not say whose it is, and your DSP report lines always reach you."""

from typing import Any

from starlette.testclient import TestClient

from tests.conftest import Tenant, TenantFactory
from tests.server.money_helpers import catalogue, line, report, send_dsp, unique_isrc, unique_upc
from tests.server.releases_helpers import create_release, create_track, ok


def _conflict(response: Any, pointer: str) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert (body["code"], body["pointer"]) == ("conflict", pointer)
    assert "acct_" not in body["detail"]


def test_another_account_cannot_take_an_isrc_on_create_or_update(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    owner, other = make_tenant(), make_tenant()
    isrc = unique_isrc()
    create_track(client, owner, isrc=isrc)
    # Lower case and hyphens are the same code.
    hyphenated = f"{isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]}".lower()
    taken = client.post(
        "/api/v1/tracks", json={"title": "T", "primary_artists": ["A"], "isrc": hyphenated}, headers=other.headers
    )
    _conflict(taken, "/isrc")
    mine = create_track(client, other)
    _conflict(client.patch(f"/api/v1/tracks/{mine['id']}", json={"isrc": isrc}, headers=other.headers), "/isrc")
    # The owner's own duplicate gets the very same answer, so the code tells nobody whose the ISRC is.
    own = client.post(
        "/api/v1/tracks", json={"title": "T", "primary_artists": ["A"], "isrc": isrc}, headers=owner.headers
    )
    _conflict(own, "/isrc")
    assert own.json()["detail"] == taken.json()["detail"]


def test_another_account_cannot_take_a_upc(client: TestClient, make_tenant: TenantFactory) -> None:
    owner, other = make_tenant(), make_tenant()
    upc = unique_upc()
    mine = create_release(client, owner)
    ok(client.patch(f"/api/v1/releases/{mine['id']}/details", json={"upc": upc}, headers=owner.headers))
    theirs = create_release(client, other)
    _conflict(
        client.patch(f"/api/v1/releases/{theirs['id']}/details", json={"upc": upc}, headers=other.headers), "/upc"
    )
    # Setting one's own UPC again is no conflict.
    ok(client.patch(f"/api/v1/releases/{mine['id']}/details", json={"upc": upc}, headers=owner.headers))


def test_sandbox_and_production_are_separate_namespaces(client: TestClient, make_tenant: TenantFactory) -> None:
    production = make_tenant(environment="production", production_access=True)
    sandbox = make_tenant()
    isrc, upc = unique_isrc(), unique_upc()
    create_track(client, production, isrc=isrc)
    create_track(client, sandbox, isrc=isrc)
    for tenant in (production, sandbox):
        release = create_release(client, tenant)
        ok(client.patch(f"/api/v1/releases/{release['id']}/details", json={"upc": upc}, headers=tenant.headers))


def _earnings(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    return list(ok(client.get("/api/v1/earnings", params={"limit": 100}, headers=tenant.headers))["data"])


def test_a_report_line_reaches_the_production_owner_despite_a_sandbox_copy(
    client: TestClient, make_tenant: TenantFactory
) -> None:
    owner = make_tenant(environment="production", production_access=True)
    cat = catalogue(client, owner, tracks=1)
    isrc = cat["tracks"][0]["isrc"]
    # Another account's sandbox track with the same ISRC (a separate namespace, so allowed) must not block it.
    squatter = make_tenant()
    squatting = create_release(client, squatter)
    create_track(client, squatter, release_id=squatting["id"], isrc=isrc)
    assert send_dsp(client, report([line(isrc, "2.00")])).status_code == 200
    [earned] = _earnings(client, owner)
    assert (earned["isrc"], earned["track_id"], earned["amount"]) == (isrc, cat["tracks"][0]["id"], "2.0000000000")
    assert _earnings(client, squatter) == []


def test_a_report_line_for_a_sandbox_only_isrc_reaches_the_sandbox_owner(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant, tracks=1)
    isrc = cat["tracks"][0]["isrc"]
    assert send_dsp(client, report([line(isrc, "1.25", upc=cat["upc"])])).status_code == 200
    assert [e["isrc"] for e in _earnings(client, tenant)] == [isrc]
