"""Helpers for splits, earnings and the DSP sync webhook tests: a catalogue with known codes, signed messages."""

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from server.clock import now
from server.webhooks.signing import headers as signed_headers
from tests.conftest import DSP_SYNC_SECRET, Tenant
from tests.server.releases_helpers import create_person, create_release, create_track, ok

DSP_URL = "/webhooks/dsp-sync"


def unique_isrc() -> str:
    return "QZ" + secrets.token_hex(2).upper()[:3] + "26" + f"{secrets.randbelow(100000):05d}"


def gtin13(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def unique_upc() -> str:
    return gtin13("4" + "".join(str(secrets.randbelow(10)) for _ in range(11)))


def catalogue(client: TestClient, tenant: Tenant, tracks: int = 2) -> dict[str, Any]:
    """A release with a UPC and tracks with ISRCs, and two persons to split between."""
    release = create_release(client, tenant)
    upc = unique_upc()
    ok(client.patch(f"/api/v1/releases/{release['id']}/details", json={"upc": upc}, headers=tenant.headers))
    created = [
        create_track(client, tenant, release_id=release["id"], title=f"Song {n}", isrc=unique_isrc())
        for n in range(tracks)
    ]
    people = [
        create_person(client, tenant, name="Ada", email="ada@example.com"),
        create_person(client, tenant, name="Ben", email="ben@example.com"),
    ]
    return {"release": release, "upc": upc, "tracks": created, "persons": people}


def send_dsp(
    client: TestClient,
    payload: dict[str, Any],
    *,
    message_id: str | None = None,
    secret: str = DSP_SYNC_SECRET,
    at: datetime | None = None,
    body: bytes | None = None,
) -> Any:
    raw = body if body is not None else json.dumps(payload).encode()
    headers = signed_headers([secret], message_id or f"msg_{secrets.token_hex(8)}", at or now(), raw)
    return client.post(DSP_URL, content=raw, headers={**headers, "Content-Type": "application/json"})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(
    lines: list[dict[str, Any]], *, report_id: str | None = None, dsp: str = "spotify", at: datetime | None = None
) -> dict[str, Any]:
    return {
        "type": "report.lines",
        "timestamp": iso(at or now()),
        "data": {
            "report_id": report_id or f"rep-{secrets.token_hex(4)}",
            "dsp": dsp,
            "reported_period": "2026-11",
            "lines": lines,
        },
    }


def line(isrc: str, net: str, **fields: Any) -> dict[str, Any]:
    return {
        "line_id": fields.pop("line_id", secrets.token_hex(6)),
        "territory": "DE",
        "sale_period": "2026-09",
        "isrc": isrc,
        "usage_type": "stream",
        "units": 100,
        "gross": net,
        "net": net,
        "currency": "EUR",
        "fx_rate": "1",
        **fields,
    }
