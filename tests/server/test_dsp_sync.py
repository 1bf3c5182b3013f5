"""The DSP sub-distributor's webhook: Standard Webhooks signatures, dedupe, delivery states applied only if newer."""

import json
from datetime import timedelta
from typing import Any

from sqlmodel import col, select
from starlette.testclient import TestClient

from server.clock import now
from server.db.engine import session_scope
from server.db.models.inbound import InboundWebhookReceipt
from server.db.models.releases import Release
from server.webhooks.signing import headers as signed
from server.webhooks.signing_secrets import generate
from tests.conftest import DSP_SYNC_SECRET, Tenant
from tests.server.money_helpers import catalogue, iso, line, report, send_dsp
from tests.server.releases_helpers import ok


def _delivery(cat: dict[str, Any], status: str, at_offset: int, **data: Any) -> dict[str, Any]:
    return {
        "type": "delivery.status_changed",
        "timestamp": iso(now() + timedelta(seconds=at_offset)),
        "data": {"release_id": cat["release"]["id"], "upc": cat["upc"], "dsp": "spotify", "status": status, **data},
    }


def _receipts(message_id: str) -> int:
    with session_scope() as session:
        return len(
            session.exec(
                select(InboundWebhookReceipt).where(col(InboundWebhookReceipt.external_id) == message_id)
            ).all()
        )


def _earnings(client: TestClient, tenant: Tenant) -> list[dict[str, Any]]:
    return list(ok(client.get("/api/v1/earnings", params={"limit": 100}, headers=tenant.headers))["data"])


def test_bad_signature_stale_timestamp_and_wrong_secret_are_refused_before_storing(
    client: TestClient, tenant: Tenant
) -> None:
    cat = catalogue(client, tenant, tracks=1)
    payload = report([line(cat["tracks"][0]["isrc"], "1.00")])
    refused = [
        send_dsp(client, payload, message_id="msg_wrong_secret", secret=generate()),
        send_dsp(client, payload, message_id="msg_stale", at=now() - timedelta(seconds=301)),
        # Whole-second timestamps and a slow machine eat into a 1 s margin on the future side: 30 s past it.
        send_dsp(client, payload, message_id="msg_future", at=now() + timedelta(seconds=330)),
    ]
    raw = json.dumps(payload).encode()
    # Signed over one body, another sent: verification is on the raw bytes.
    tampered = signed([DSP_SYNC_SECRET], "msg_tampered", now(), raw)
    refused.append(
        client.post(
            "/webhooks/dsp-sync",
            content=raw.replace(b"1.00", b"9.00"),
            headers={**tampered, "Content-Type": "application/json"},
        )
    )
    for response in refused:
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_signature"
    for message_id in ("msg_wrong_secret", "msg_stale", "msg_future", "msg_tampered"):
        assert _receipts(message_id) == 0
    assert _earnings(client, tenant) == []
    # Within the tolerance it verifies.
    assert send_dsp(client, payload, at=now() - timedelta(seconds=250)).status_code == 200


def test_a_replayed_message_is_acknowledged_once(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant, tracks=1)
    payload = report([line(cat["tracks"][0]["isrc"], "2.50")])
    first = send_dsp(client, payload, message_id="msg_replay_1")
    assert first.json() == {"received": True, "duplicate": False}
    again = send_dsp(client, payload, message_id="msg_replay_1")
    assert again.status_code == 200
    assert again.json() == {"received": True, "duplicate": True}
    assert len(_earnings(client, tenant)) == 1
    # The same lines under a new message id and report id (a re-sent report) are not counted twice either.
    resent = report(payload["data"]["lines"], report_id="rep-resent")
    assert send_dsp(client, resent, message_id="msg_replay_2").json()["duplicate"] is False
    assert len(_earnings(client, tenant)) == 1


def test_report_lines_are_matched_and_announced(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant)
    first, second = (t["isrc"] for t in cat["tracks"])
    payload = report(
        [
            line(first, "3.0000000001", units=300, territory="US", currency="USD", fx_rate="0.9", gross="4"),
            line(second, "-1.5", units=-50, upc=cat["upc"]),
            line("QZZZZ2699999", "7.00"),  # nobody's ISRC: not imported
        ]
    )
    assert send_dsp(client, payload).status_code == 200
    lines = {entry["isrc"]: entry for entry in _earnings(client, tenant)}
    assert set(lines) == {first, second}
    assert lines[first]["amount"] == "2.7000000001"  # 3.0000000001 x 0.9, exact to 10 places
    assert lines[first]["release_id"] == cat["release"]["id"]
    assert lines[first]["track_id"] == cat["tracks"][0]["id"]
    assert lines[first]["sale_period"] == {"start": "2026-09-01", "end": "2026-09-30"}
    assert lines[second]["net"] == "-1.5000000000"
    assert lines[second]["units"] == -50
    events = ok(client.get("/api/v1/events", params={"type": "earnings.imported"}, headers=tenant.headers))["data"]
    summary = events[0]["data"]["object"]
    assert summary["line_count"] == 2
    assert summary["store"] == "spotify"
    assert summary["totals"] == {"line_count": 2, "units": 250, "gross": "2.1000000000", "net": "1.2000000001"}


def test_delivery_states_apply_only_if_newer(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant, tracks=1)
    release_id = cat["release"]["id"]
    with session_scope() as session:
        release = session.get(Release, release_id)
        assert release is not None
        release.status = "approved"
        session.add(release)
    url = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"
    assert send_dsp(client, _delivery(cat, "live", 0, store_url=url)).status_code == 200
    # Older states arriving late are acknowledged and ignored.
    assert send_dsp(client, _delivery(cat, "preparing", -60)).status_code == 200
    assert send_dsp(client, _delivery(cat, "queued", -120)).status_code == 200
    fetched = ok(client.get(f"/api/v1/releases/{release_id}", headers=tenant.headers))
    assert fetched["status"] == "live"
    assert [(d["store"], d["status"], d["store_url"]) for d in fetched["deliveries"]] == [("spotify", "live", url)]
    changes = ok(client.get("/api/v1/events", params={"type": "release.status_changed"}, headers=tenant.headers))
    assert [e["data"]["previous_attributes"] for e in changes["data"]] == [{"status": "approved"}]
    # A newer state applies.
    send_dsp(client, _delivery(cat, "action_needed", 60, reason="Artwork mismatch."))
    fetched = ok(client.get(f"/api/v1/releases/{release_id}", headers=tenant.headers))
    assert [(d["status"], d["message"]) for d in fetched["deliveries"]] == [("action_needed", "Artwork mismatch.")]


def test_unknown_releases_are_acknowledged_and_unknown_event_types_refused(client: TestClient, tenant: Tenant) -> None:
    cat = catalogue(client, tenant, tracks=1)
    unknown_release = _delivery(cat, "live", 0)
    unknown_release["data"] = {
        **unknown_release["data"],
        "release_id": "rel_01jc3m8a4s6t3v0q7k2x9bz5hd",
        "upc": "4006381333931",
    }
    response = send_dsp(client, unknown_release)
    assert response.status_code == 200
    assert response.json()["duplicate"] is False
    fetched = ok(client.get(f"/api/v1/releases/{cat['release']['id']}", headers=tenant.headers))
    assert fetched["deliveries"] == []
    other_type = {**unknown_release, "type": "catalog.updated"}
    refused = send_dsp(client, other_type)
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_failed"
