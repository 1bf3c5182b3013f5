"""Inbound provider webhooks through HTTP, each signed the sender's way (computed here from the documented scheme,
independently of the server's verifier): Wise RSA-SHA256, Stripe t/v1 HMAC, Mailgun timestamp+token HMAC, whapi
channel token. Refused deliveries store nothing; duplicates are acknowledged and not processed again."""

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import col, func, select
from starlette.testclient import TestClient

from server.app import App
from server.db.engine import session_scope
from server.db.models.accounts import Account
from server.db.models.inbound import InboundWebhookReceipt
from server.db.models.persons import Person
from server.services import balance
from server.services import inbound_webhooks as inbound
from tests.conftest import Tenant, TenantFactory
from tests.server.payouts_helpers import fake_wise, fund, make_payable, settings_with

STRIPE_SECRET = "whsec_" + secrets.token_hex(16)
STRIPE_OLD_SECRET = "whsec_" + secrets.token_hex(16)
MAILGUN_KEY = "key-" + secrets.token_hex(16)
WHAPI_TOKEN = "wht_" + secrets.token_urlsafe(32)
_WISE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WISE_PUBLIC_PEM = (
    _WISE_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@pytest.fixture(autouse=True)
def _configured(app: App) -> Iterator[None]:
    with settings_with(
        app,
        wise_webhook_public_key=WISE_PUBLIC_PEM,
        stripe_webhook_secrets=(STRIPE_SECRET,),
        mailgun_webhook_signing_key=MAILGUN_KEY,
        whapi_webhook_tokens=("wht_other_channel_" + secrets.token_hex(16), WHAPI_TOKEN),
    ):
        yield


def _receipts(provider: str, external_id: str) -> int:
    with session_scope() as session:
        return int(
            session.exec(
                select(func.count()).where(
                    col(InboundWebhookReceipt.provider) == provider,
                    col(InboundWebhookReceipt.external_id) == external_id,
                )
            ).one()
        )


# --- Wise -------------------------------------------------------------------------------------------------------


def _wise(client: TestClient, event: dict[str, Any], *, delivery: str | None = None, sign: bool = True) -> Any:
    raw = json.dumps(event).encode()
    signature = _WISE_KEY.sign(raw, padding.PKCS1v15(), hashes.SHA256()) if sign else b"\0" * 256
    headers = {
        "Content-Type": "application/json",
        "X-Signature-SHA256": base64.b64encode(signature).decode(),
        "X-Delivery-Id": delivery or str(uuid.uuid4()),
    }
    return client.post("/webhooks/wise", content=raw, headers=headers)


def _state(transfer_id: str, state: str, previous: str | None, at: str) -> dict[str, Any]:
    return {
        "event_type": "transfers#state-change",
        "schema_version": "2.0.0",
        "sent_at": at,
        "data": {
            "resource": {"id": int(transfer_id), "profile_id": 217896, "type": "transfer"},
            "current_state": state,
            "previous_state": previous,
            "occurred_at": at,
        },
    }


@pytest.fixture
def live_payout(client: TestClient, make_tenant: TenantFactory) -> tuple[Tenant, dict[str, Any]]:
    """A production payout in `processing` whose transfer exists at (stand-in) Wise."""
    live = make_tenant(environment="production", production_access=True)
    fund(live.account_id, "production", "200")
    make_payable(live.account_id)
    with fake_wise(client):
        response = client.post(
            "/api/v1/payouts/request",
            json={"currency": "EUR", "amount": "150.00"},
            headers={**live.headers, "Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "processing"
    return live, response.json()


def _available(tenant: Tenant) -> Decimal:
    with session_scope() as session:
        return balance.available_balance(session, tenant.account_id, tenant.environment)


def test_wise_events_move_the_payout_in_occurrence_order(
    client: TestClient, live_payout: tuple[Tenant, dict[str, Any]]
) -> None:
    live, payout = live_payout
    transfer = payout["provider_reference"]
    sent = _wise(client, _state(transfer, "outgoing_payment_sent", "funds_converted", "2026-11-26T12:00:03Z"))
    assert sent.status_code == 200
    assert sent.json() == {"received": True, "duplicate": False}
    paid = client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()
    assert paid["status"] == "paid"
    assert paid["paid_at"] == "2026-11-26T12:00:03Z"
    # An older event delivered late never moves the payout backwards.
    _wise(client, _state(transfer, "funds_converted", "processing", "2026-11-26T12:00:02Z"))
    assert client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()["status"] == "paid"
    assert _available(live) == Decimal("50")
    # `outgoing_payment_sent` is not final: the bank bounced it, the money is back on the balance.
    _wise(client, _state(transfer, "bounced_back", "outgoing_payment_sent", "2026-11-28T09:00:00Z"))
    returned = client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()
    assert returned["status"] == "returned"
    assert returned["failure_reason"]
    assert _available(live) == Decimal("200")
    _wise(client, _state(transfer, "funds_refunded", "cancelled", "2026-11-29T09:00:00Z"))
    assert client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()["status"] == "returned"
    events = client.get("/api/v1/events", params={"type": "payout.status_changed"}, headers=live.headers).json()["data"]
    moves = sorted((e["data"]["previous_attributes"]["status"], e["data"]["object"]["status"]) for e in events)
    assert moves == [("paid", "returned"), ("processing", "paid"), ("requested", "processing")]


def test_wise_payout_failure_before_sending_fails_the_payout(
    client: TestClient, live_payout: tuple[Tenant, dict[str, Any]]
) -> None:
    live, payout = live_payout
    event = {
        "event_type": "transfers#payout-failure",
        "schema_version": "2.0.0",
        "data": {
            "transfer_id": int(payout["provider_reference"]),
            "profile_id": 217896,
            "failure_reason_code": "ACCOUNT_CLOSED",
            "failure_description": "The recipient's bank account is closed.",
            "occurred_at": "2026-11-26T12:10:00Z",
        },
    }
    assert _wise(client, event).status_code == 200
    failed = client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()
    assert failed["status"] == "failed"
    assert failed["failure_reason"] == "The recipient's bank account is closed."
    assert _available(live) == Decimal("200")


def test_wise_duplicates_bad_signatures_and_test_pings(
    client: TestClient, live_payout: tuple[Tenant, dict[str, Any]]
) -> None:
    live, payout = live_payout
    event = _state(payout["provider_reference"], "outgoing_payment_sent", "funds_converted", "2026-11-26T12:00:03Z")
    forged = _wise(client, event, delivery="forged-delivery", sign=False)
    assert forged.status_code == 400
    assert forged.json()["code"] == "invalid_signature"
    assert _receipts("wise", "forged-delivery") == 0
    # A signature over other bytes (one changed field) does not verify either.
    raw = json.dumps(event).encode()
    signature = base64.b64encode(_WISE_KEY.sign(raw, padding.PKCS1v15(), hashes.SHA256())).decode()
    tampered = client.post(
        "/webhooks/wise",
        content=raw.replace(b"outgoing_payment_sent", b"bounced_back"),
        headers={"Content-Type": "application/json", "X-Signature-SHA256": signature, "X-Delivery-Id": "t-1"},
    )
    assert tampered.status_code == 400
    assert client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()["status"] == "processing"

    first = _wise(client, event, delivery="delivery-1")
    again = _wise(client, event, delivery="delivery-1")
    assert first.json()["duplicate"] is False
    assert again.json() == {"received": True, "duplicate": True}
    assert _receipts("wise", "delivery-1") == 1

    ping = json.dumps({"event_type": "transfers#state-change", "data": {}}).encode()
    signed = base64.b64encode(_WISE_KEY.sign(ping, padding.PKCS1v15(), hashes.SHA256())).decode()
    test = client.post(
        "/webhooks/wise",
        content=ping,
        headers={
            "Content-Type": "application/json",
            "X-Signature-SHA256": signed,
            "X-Delivery-Id": "ping-1",
            "X-Test-Notification": "true",
        },
    )
    assert test.status_code == 200
    assert _receipts("wise", "ping-1") == 0


# --- Stripe -----------------------------------------------------------------------------------------------------


def _stripe_header(raw: bytes, *secrets_: str, at: int | None = None) -> str:
    t = int(time.time()) if at is None else at
    parts = [f"t={t}"]
    parts += [f"v1={hmac.new(s.encode(), f'{t}.'.encode() + raw, hashlib.sha256).hexdigest()}" for s in secrets_]
    return ",".join(parts)


def _stripe(client: TestClient, event: dict[str, Any], header: str | None = None) -> Any:
    raw = json.dumps(event).encode()
    return client.post(
        "/webhooks/stripe",
        content=raw,
        headers={"Content-Type": "application/json", "Stripe-Signature": header or _stripe_header(raw, STRIPE_SECRET)},
    )


def _subscription_event(kind: str, status: str, created: int, **obj: Any) -> dict[str, Any]:
    return {
        "id": f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": kind,
        "created": created,
        "livemode": True,
        "data": {"object": {"id": "sub_1QmX2aK9sL4pT7vW", "object": "subscription", "status": status, **obj}},
    }


def _plan(account_id: str) -> str:
    with session_scope() as session:
        account = session.get(Account, account_id)
        assert account is not None
        return account.plan


def test_stripe_subscription_events_change_the_plan(client: TestClient, tenant: Tenant) -> None:
    customer = f"cus_{secrets.token_hex(6)}"
    now = int(time.time())
    created = _subscription_event(
        "customer.subscription.created",
        "active",
        now - 100,
        customer=customer,
        metadata={"og_account_id": tenant.account_id},
    )
    assert _stripe(client, created).json() == {"received": True, "duplicate": False}
    assert _plan(tenant.account_id) == "business"
    # Later events name only the customer, now linked to the account.
    deleted = _subscription_event("customer.subscription.deleted", "canceled", now - 50, customer=customer)
    assert _stripe(client, deleted).status_code == 200
    assert _plan(tenant.account_id) == "free"
    # An event created before the last one applied (Stripe does not guarantee order) changes nothing.
    stale = _subscription_event("customer.subscription.updated", "active", now - 80, customer=customer)
    assert _stripe(client, stale).status_code == 200
    assert _plan(tenant.account_id) == "free"
    invoice = {
        "id": f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": "invoice.paid",
        "created": now,
        "data": {"object": {"object": "invoice", "customer": customer, "subscription": "sub_1QmX2aK9sL4pT7vW"}},
    }
    assert _stripe(client, invoice).status_code == 200
    assert _plan(tenant.account_id) == "business"
    # The same event again is a duplicate and is not applied twice.
    assert _stripe(client, deleted).json() == {"received": True, "duplicate": True}
    assert _plan(tenant.account_id) == "business"


def test_stripe_signature_scheme(client: TestClient, tenant: Tenant) -> None:
    event = _subscription_event("customer.subscription.updated", "active", int(time.time()))
    raw = json.dumps(event).encode()
    # During a secret roll Stripe sends one v1 per active secret; one matching is enough.
    with settings_with(client, stripe_webhook_secrets=(STRIPE_OLD_SECRET, STRIPE_SECRET)):
        rolled = client.post(
            "/webhooks/stripe",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": _stripe_header(raw, "whsec_x", STRIPE_SECRET),
            },
        )
    assert rolled.status_code == 200
    refused = {
        "stale": _stripe_header(raw, STRIPE_SECRET, at=int(time.time()) - 301),
        "future": _stripe_header(raw, STRIPE_SECRET, at=int(time.time()) + 301),
        "wrong secret": _stripe_header(raw, "whsec_wrong"),
        "v0 only": _stripe_header(raw, STRIPE_SECRET).replace("v1=", "v0="),
        "no timestamp": _stripe_header(raw, STRIPE_SECRET).split(",", 1)[1],
    }
    fresh = _subscription_event("customer.subscription.updated", "active", int(time.time()))
    fresh_raw = json.dumps(fresh).encode()
    for name, header in refused.items():
        response = client.post(
            "/webhooks/stripe",
            content=fresh_raw,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        assert response.status_code == 400, name
        assert response.json()["code"] == "invalid_signature"
    assert _receipts("stripe", fresh["id"]) == 0
    # A signature over the body before a change does not verify the changed body.
    tampered = client.post(
        "/webhooks/stripe",
        content=raw.replace(b"active", b"paused"),
        headers={"Content-Type": "application/json", "Stripe-Signature": _stripe_header(raw, STRIPE_SECRET)},
    )
    assert tampered.status_code == 400


# --- Mailgun ----------------------------------------------------------------------------------------------------


def _mailgun(
    client: TestClient,
    event_data: dict[str, Any],
    *,
    at: int | None = None,
    token: str | None = None,
    key: str = MAILGUN_KEY,
) -> Any:
    timestamp = str(int(time.time()) if at is None else at)
    token = token or secrets.token_hex(25)
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    body = {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": event_data}
    return client.post("/webhooks/mailgun", json=body)


def test_mailgun_permanent_failure_fails_the_pending_invitation(client: TestClient, tenant: Tenant) -> None:
    email = f"mara-{secrets.token_hex(4)}@example.com"
    person = client.post(
        "/api/v1/persons", json={"name": "Mara", "email": email, "invite": True}, headers=tenant.headers
    ).json()
    assert person["invitation_status"] == "pending"
    token = secrets.token_hex(25)
    event = {
        "id": "CPgfbmQMTCKtHW6uIWtuVe",
        "event": "failed",
        "severity": "permanent",
        "recipient": email.upper(),
        "delivery-status": {"code": 550, "description": "5.1.1 The email account does not exist."},
    }
    assert _mailgun(client, event, token=token).json() == {"received": True, "duplicate": False}
    after = client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers).json()
    assert after["invitation_status"] == "failed"
    # The owner sees why in getPerson, in Mailgun's words.
    assert after["invitation_failure_reason"] == (
        "Mailgun: permanent failure (550 5.1.1 The email account does not exist.)"
    )
    with session_scope() as session:
        row = session.get(Person, person["id"])
        assert row is not None
        assert row.email_undeliverable is True
    events = client.get("/api/v1/events", params={"type": "person.invitation_failed"}, headers=tenant.headers).json()[
        "data"
    ]
    assert [e["data"]["object"]["id"] for e in events] == [person["id"]]
    # A replayed token is acknowledged as a duplicate and does nothing again.
    assert _mailgun(client, event, token=token).json() == {"received": True, "duplicate": True}
    assert (
        len(
            client.get("/api/v1/events", params={"type": "person.invitation_failed"}, headers=tenant.headers).json()[
                "data"
            ]
        )
        == 1
    )


def test_mailgun_temporary_failures_are_ignored(client: TestClient, tenant: Tenant) -> None:
    email = f"kito-{secrets.token_hex(4)}@example.com"
    person = client.post(
        "/api/v1/persons", json={"name": "Kito", "email": email, "invite": True}, headers=tenant.headers
    ).json()
    event = {"event": "failed", "severity": "temporary", "recipient": email}
    assert _mailgun(client, event).status_code == 200
    assert (
        client.get(f"/api/v1/persons/{person['id']}", headers=tenant.headers).json()["invitation_status"] == "pending"
    )


def test_mailgun_bad_or_stale_signatures_are_refused(client: TestClient) -> None:
    event = {"event": "complained", "recipient": "someone@example.com"}
    for kwargs in ({"key": "key-wrong"}, {"at": int(time.time()) - 16 * 60}):
        token = secrets.token_hex(25)
        response = _mailgun(client, event, token=token, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"
        assert _receipts("mailgun", token) == 0


# --- whapi.cloud ------------------------------------------------------------------------------------------------


def _whapi(client: TestClient, body: dict[str, Any], token: str = WHAPI_TOKEN) -> Any:
    return client.post("/webhooks/whapi", json=body, headers={"X-Whapi-Token": token})


def test_whapi_messages_are_tied_to_persons_by_phone_and_deduplicated(client: TestClient, tenant: Tenant) -> None:
    digits = "49151" + str(secrets.randbelow(10**7)).zfill(7)
    person = client.post(
        "/api/v1/persons",
        json={"name": "Aurora", "email": "aurora@example.com", "phone": f"+{digits}"},
        headers=tenant.headers,
    ).json()
    message_id = f"PsobWy36679.{secrets.token_hex(6)}"
    body = {
        "channel_id": "MANTIS-K7QXP",
        "event": {"type": "messages", "event": "post"},
        "messages": [{"id": message_id, "from": digits, "type": "text", "timestamp": int(time.time())}],
    }
    assert _whapi(client, body).json() == {"received": True, "duplicate": False}
    assert _whapi(client, body).json() == {"received": True, "duplicate": True}
    with session_scope() as session:
        receipt = session.exec(
            select(InboundWebhookReceipt).where(col(InboundWebhookReceipt.external_id) == message_id)
        ).one()
        assert receipt.payload is not None
        assert [p["id"] for p in receipt.payload["persons"]] == [person["id"]]


def test_whapi_wrong_or_missing_token_is_refused(client: TestClient) -> None:
    message_id = f"wamid.{secrets.token_hex(6)}"
    body = {"event": {"type": "messages"}, "messages": [{"id": message_id, "from": "4915100000000"}]}
    wrong = _whapi(client, body, token="wht_" + secrets.token_urlsafe(32))
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid_signature"
    missing = client.post("/webhooks/whapi", json=body)
    assert missing.status_code in {400, 422}
    assert _receipts("whapi", message_id) == 0


def test_unconfigured_senders_are_refused(client: TestClient) -> None:
    with settings_with(client, stripe_webhook_secrets=()):
        event = _subscription_event("customer.subscription.updated", "active", int(time.time()))
        response = _stripe(client, event)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_wise_events_left_unprocessed_are_applied_by_the_retry(
    client: TestClient, live_payout: tuple[Tenant, dict[str, Any]]
) -> None:
    """The answer went out, then the process died before applying the event: the receipt is still unprocessed."""
    live, payout = live_payout
    event = _state(payout["provider_reference"], "outgoing_payment_sent", "funds_converted", "2026-11-26T12:00:03Z")
    delivery = f"lost-{uuid.uuid4()}"
    with session_scope() as session:
        inbound.record(
            session,
            "wise",
            delivery,
            event_type=event["event_type"],
            environment="production",
            payload=event,
            processed=False,
        )
    assert client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()["status"] == "processing"
    assert inbound.reprocess_wise_receipts() >= 1
    assert client.get(f"/api/v1/payouts/{payout['id']}", headers=live.headers).json()["status"] == "paid"
    assert inbound.reprocess_wise_receipts() == 0
