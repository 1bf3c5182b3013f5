"""Payouts and the provider receivers through the SDK against the live server.

The balance is funded the way production funds it (a signed DSP `report.lines` event), the payout runs through the
sandbox's simulated Wise transfer, and each provider receiver is called through the SDK with a request hook that
signs the exact bytes sent the way that provider does (Stripe t/v1 HMAC, Wise RSA-SHA256, whapi.cloud channel token;
Mailgun signs inside the body)."""

import base64
import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from og_records import NotFoundError, OGRecords, UnprocessableEntityError
from og_records.models import (
    DspSyncReportLines,
    MailgunWebhookPayload,
    PayoutRequest,
    PersonCreate,
    ReleaseCreate,
    ReleaseDetailsUpdate,
    StripeWebhookPayload,
    TrackCreate,
    WhapiWebhookPayload,
    WiseWebhookPayload,
)


def _gtin13() -> str:
    body = "4" + "".join(str(secrets.randbelow(10)) for _ in range(11))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _sign(request: httpx.Request) -> None:
    """Each sender's own scheme over the bytes the SDK is about to send."""
    path, raw = request.url.path, request.content
    if path.endswith("/webhooks/dsp-sync"):
        key = base64.b64decode(os.environ["OG_SDK_TEST_DSP_SYNC_SECRET"].removeprefix("whsec_"))
        signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + raw
        request.headers["webhook-signature"] = "v1," + base64.b64encode(hmac.digest(key, signed, "sha256")).decode()
    elif path.endswith("/webhooks/stripe"):
        t = str(int(time.time()))
        digest = hmac.new(os.environ["OG_SDK_TEST_STRIPE_SECRET"].encode(), f"{t}.".encode() + raw, hashlib.sha256)
        request.headers["Stripe-Signature"] = f"t={t},v1={digest.hexdigest()}"
    elif path.endswith("/webhooks/wise"):
        key = serialization.load_pem_private_key(os.environ["OG_SDK_TEST_WISE_PRIVATE_KEY"].encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(raw, padding.PKCS1v15(), hashes.SHA256())
        request.headers["X-Signature-SHA256"] = base64.b64encode(signature).decode()


@pytest.fixture
def provider(base_url: str, api_key: str, recording_http) -> Iterator[OGRecords]:  # type: ignore[no-untyped-def]
    """The providers' side: requests to the receivers signed as each sender signs them."""
    http = recording_http()
    http.event_hooks = {"request": [_sign], "response": http.event_hooks["response"]}
    with OGRecords(api_key=api_key, base_url=base_url, http_client=http, max_retries=0) as sdk:
        yield sdk


def _fund(client: OGRecords, provider: OGRecords, net: str) -> None:
    """Settled earnings of `net` EUR on a release without a split: all of it available."""
    release = client.releases.create(body=ReleaseCreate(title="Payday", primary_artists=["Ada Sdk"]))
    upc = _gtin13()
    client.releases.update_details(release.id, body=ReleaseDetailsUpdate(upc=upc))
    isrc = "QZSDP26" + f"{secrets.randbelow(100000):05d}"
    track = TrackCreate(title="Payday", primary_artists=["Ada Sdk"], release_id=release.id, isrc=isrc)
    client.tracks.create(body=track)
    message_id = f"msg_{uuid.uuid4().hex}"
    report = DspSyncReportLines.from_dict(
        {
            "type": "report.lines",
            "timestamp": (datetime.now(UTC) - timedelta(days=40)).isoformat(),
            "data": {
                "report_id": f"rep-sdk-pay-{uuid.uuid4().hex[:8]}",
                "dsp": "spotify",
                "reported_period": "2026-10",
                "lines": [
                    {
                        "line_id": f"{message_id}-1",
                        "territory": "DE",
                        "sale_period": "2026-08",
                        "isrc": isrc,
                        "usage_type": "stream",
                        "units": 10000,
                        "gross": net,
                        "net": net,
                        "currency": "EUR",
                        "fx_rate": "1",
                        "upc": upc,
                    }
                ],
            },
        }
    )
    receipt = provider.inbound_webhooks.dsp_sync(
        body=report, webhook_id=message_id, webhook_timestamp=int(time.time()), webhook_signature="v1,placeholder"
    )
    assert receipt.received


def test_request_a_payout_and_follow_it(client: OGRecords, provider: OGRecords) -> None:
    _fund(client, provider, "60.00")
    before = Decimal(client.balance.get().available)
    assert before >= Decimal("60")
    key = str(uuid.uuid4())
    payout = client.payouts.request(body=PayoutRequest(currency="EUR", amount="25.00"), idempotency_key=key)
    # The sandbox simulates the Wise transfer at once: sent to the bank, with Wise's fee deducted.
    assert payout.status == "paid"
    assert payout.amount == "25.00"
    assert Decimal(payout.net_amount) == Decimal(payout.amount) - Decimal(payout.fee)
    assert payout.provider_reference
    again = client.payouts.request(body=PayoutRequest(currency="EUR", amount="25.00"), idempotency_key=key)
    assert again.id == payout.id  # the same key is the same payout, never a second transfer
    assert Decimal(client.balance.get().available) == before - Decimal("25.00")

    assert client.payouts.get(payout.id).status == "paid"
    paid = [p.id for p in client.payouts.list(status="paid")]
    assert payout.id in paid
    with pytest.raises(NotFoundError):
        client.payouts.get("pay_01jc3m8a4s6t3v0q7k2x9bz5hd")
    with pytest.raises(UnprocessableEntityError) as too_much:
        client.payouts.request(
            body=PayoutRequest(currency="EUR", amount="999999.00"), idempotency_key=str(uuid.uuid4())
        )
    assert too_much.value.code == "insufficient_balance"
    with pytest.raises(UnprocessableEntityError) as too_fine:
        client.payouts.request(body=PayoutRequest(currency="EUR", amount="10.001"), idempotency_key=str(uuid.uuid4()))
    assert [(e.code, e.pointer) for e in too_fine.value.errors] == [("too_many_decimals", "/amount")]


def test_provider_receivers_verify_and_deduplicate(client: OGRecords, provider: OGRecords) -> None:
    stripe = StripeWebhookPayload.from_dict(
        {
            "id": f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "type": "customer.subscription.updated",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": {"id": "sub_sdk", "object": "subscription", "status": "active", "customer": "cus_x"}},
        }
    )
    first = provider.inbound_webhooks.stripe(body=stripe, stripe_signature="t=0,v1=placeholder")
    assert (first.received, first.duplicate) == (True, False)
    assert provider.inbound_webhooks.stripe(body=stripe, stripe_signature="t=0,v1=x").duplicate

    wise = WiseWebhookPayload.from_dict(
        {
            "event_type": "transfers#state-change",
            "schema_version": "2.0.0",
            "sent_at": datetime.now(UTC).isoformat(),
            "data": {
                "resource": {"id": 99000001, "profile_id": 217896, "type": "transfer"},
                "current_state": "outgoing_payment_sent",
                "previous_state": "funds_converted",
                "occurred_at": datetime.now(UTC).isoformat(),
            },
        }
    )
    delivery = str(uuid.uuid4())
    assert not provider.inbound_webhooks.wise(
        body=wise, x_signature_sha256="placeholder", x_delivery_id=delivery
    ).duplicate
    assert provider.inbound_webhooks.wise(body=wise, x_signature_sha256="placeholder", x_delivery_id=delivery).duplicate

    email = f"bounce-{uuid.uuid4().hex[:8]}@sdk.example.com"
    person = client.persons.create(body=PersonCreate(name="Bounce Sdk", email=email, invite=True))
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(
        os.environ["OG_SDK_TEST_MAILGUN_KEY"].encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    mailgun = MailgunWebhookPayload.from_dict(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": {"event": "failed", "severity": "permanent", "recipient": email},
        }
    )
    assert not provider.inbound_webhooks.mailgun(body=mailgun).duplicate
    assert provider.inbound_webhooks.mailgun(body=mailgun).duplicate  # a replayed token
    assert client.persons.get(person.id).invitation_status == "failed"

    whapi = WhapiWebhookPayload.from_dict(
        {
            "channel_id": "MANTIS-K7QXP",
            "event": {"type": "messages", "event": "post"},
            "messages": [{"id": f"wamid.{uuid.uuid4().hex}", "from": "4915112345678", "type": "text"}],
        }
    )
    token_header = os.environ["OG_SDK_TEST_WHAPI_TOKEN"]
    assert not provider.inbound_webhooks.whapi(body=whapi, x_whapi_token=token_header).duplicate
    assert provider.inbound_webhooks.whapi(body=whapi, x_whapi_token=token_header).duplicate
