"""Splits, earnings and the balance through the SDK against the live server. Earnings arrive the way they do in
production: the DSP sub-distributor posts a signed `report.lines` event (Standard Webhooks), here through the SDK's
generated receiver call with a request hook playing the partner's signer over the exact bytes sent."""

import base64
import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from og_records import NotFoundError, OGRecords, UnprocessableEntityError
from og_records.models import (
    DspSyncReportLines,
    DspSyncReportLinesData,
    DspSyncReportLinesDataLinesItem,
    PersonCreate,
    ReleaseCreate,
    ReleaseDetailsUpdate,
    SplitCreate,
    SplitShareCreate,
    TrackCreate,
)


def _gtin13() -> str:
    body = "4" + "".join(str(secrets.randbelow(10)) for _ in range(11))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _isrc() -> str:
    return "QZSDK26" + f"{secrets.randbelow(100000):05d}"


def _signer(secret: str):  # type: ignore[no-untyped-def]
    key = base64.b64decode(secret.removeprefix("whsec_"))

    def sign(request: httpx.Request) -> None:
        if not request.url.path.endswith("/webhooks/dsp-sync"):
            return
        message_id, timestamp = request.headers["webhook-id"], request.headers["webhook-timestamp"]
        digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + request.content, hashlib.sha256).digest()
        request.headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode()

    return sign


@pytest.fixture
def partner(base_url: str, api_key: str, recording_http) -> Iterator[OGRecords]:  # type: ignore[no-untyped-def]
    """The sub-distributor's side: every request to the receiver signed with the partner secret (the receiver
    takes no credential; the SDK just needs a well-formed key to be constructed)."""
    http = recording_http()
    http.event_hooks = {
        "request": [_signer(os.environ["OG_SDK_TEST_DSP_SYNC_SECRET"])],
        **{"response": http.event_hooks["response"]},
    }
    with OGRecords(api_key=api_key, base_url=base_url, http_client=http, max_retries=0) as sdk:
        yield sdk


def test_splits_earnings_and_balance(client: OGRecords, partner: OGRecords) -> None:
    ada = client.persons.create(body=PersonCreate(name="Ada Sdk", email="ada@sdk.example.com"))
    ben = client.persons.create(body=PersonCreate(name="Ben Sdk", email="ben@sdk.example.com"))
    release = client.releases.create(body=ReleaseCreate(title="Ledger Lines", primary_artists=["Ada Sdk"]))
    upc = _gtin13()
    client.releases.update_details(release.id, body=ReleaseDetailsUpdate(upc=upc))
    isrc = _isrc()
    track = client.tracks.create(
        body=TrackCreate(title="Remainder", primary_artists=["Ada Sdk"], release_id=release.id, isrc=isrc)
    )

    with pytest.raises(UnprocessableEntityError) as invalid:
        client.splits.create(
            body=SplitCreate(
                release_id=release.id,
                shares=[SplitShareCreate(person_id=ada.id, role="artist", share_bps=5000)],
            )
        )
    assert {(e.code, e.pointer) for e in invalid.value.errors} == {("shares_total_invalid", "/shares")}

    release_split = client.splits.create(
        body=SplitCreate(
            release_id=release.id,
            shares=[
                SplitShareCreate(person_id=ada.id, role="artist", share_bps=6000),
                SplitShareCreate(person_id=ben.id, role="producer", share_bps=4000),
            ],
        ),
        idempotency_key=str(uuid.uuid4()),
    )
    assert release_split.version == 1
    assert release_split.status == "active"
    assert [s.acceptance_status for s in release_split.shares] == ["pending", "pending"]
    later = date.today() + timedelta(days=7)
    track_split = client.splits.create(
        body=SplitCreate(
            track_id=track.id,
            shares=[SplitShareCreate(person_id=ada.id, role="composer", share_bps=10000)],
            effective_from=later,
        )
    )
    assert track_split.effective_from == later
    assert client.splits.get(release_split.id).shares[1].share_bps == 4000
    assert [s.id for s in client.splits.list_for_release(release.id)] == [track_split.id, release_split.id]
    assert [s.id for s in client.splits.list(track_id=track.id)] == [track_split.id]
    with pytest.raises(NotFoundError):
        client.splits.get("spl_01jc3m8a4s6t3v0q7k2x9bz5hd")

    message_id = f"msg_{uuid.uuid4().hex}"
    sent_at = datetime.now(UTC) - timedelta(days=40)
    report = DspSyncReportLines(
        type="report.lines",
        timestamp=sent_at,
        data=DspSyncReportLinesData(
            report_id=f"rep-sdk-{uuid.uuid4().hex[:8]}",
            dsp="spotify",
            reported_period="2026-10",
            lines=[
                DspSyncReportLinesDataLinesItem(
                    line_id=f"{message_id}-1",
                    territory="DE",
                    sale_period="2026-08",
                    isrc=isrc,
                    usage_type="stream",
                    units=1000,
                    gross="4.0000000000",
                    net="3.2000000000",
                    currency="EUR",
                    fx_rate="1",
                    upc=upc,
                ),
                DspSyncReportLinesDataLinesItem(
                    line_id=f"{message_id}-2",
                    territory="US",
                    sale_period="2026-09",
                    isrc=isrc,
                    usage_type="download",
                    units=-1,
                    gross="-1.00",
                    net="-0.70",
                    currency="USD",
                    fx_rate="0.9",
                ),
            ],
        ),
    )
    receipt = partner.inbound_webhooks.dsp_sync(
        body=report, webhook_id=message_id, webhook_timestamp=int(time.time()), webhook_signature="v1,placeholder"
    )
    assert receipt.received
    assert not receipt.duplicate
    again = partner.inbound_webhooks.dsp_sync(
        body=report, webhook_id=message_id, webhook_timestamp=int(time.time()), webhook_signature="v1,placeholder"
    )
    assert again.duplicate

    lines = list(client.earnings.list(release_id=release.id))
    assert sorted(line.amount for line in lines) == ["-0.6300000000", "3.2000000000"]
    assert {line.track_id for line in lines} == {track.id}
    only_us = list(client.earnings.list(release_id=release.id, territory="US"))
    assert [line.fx_rate for line in only_us] == ["0.9000000000"]
    summary = client.earnings.summarize(group_by="period", release_id=release.id)
    assert [(g.key, g.net) for g in summary.groups] == [("2026-08", "3.2000000000"), ("2026-09", "-0.6300000000")]
    assert summary.total.net == "2.5700000000"
    assert summary.total.units == 999

    # The lines predate both splits (never retroactive): all of it is the account's, settled after 30 days.
    balance = client.balance.get()
    assert balance.currency == "EUR"
    assert balance.payouts_enabled
    assert Decimal(balance.available) == Decimal("2.57")
