"""Webhooks the platform receives from its providers (never called by integrators). The DSP sub-distributor's
lives in `server.api.dsp_sync`.

Each handler takes the raw body (kept by the body validator, `server.openapi.validators.raw_body`), verifies it by
the sender's scheme, and only then stores a receipt. The database work runs in the thread pool.
"""

import logging
from typing import Any

import connexion
from sqlalchemy.exc import IntegrityError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from server import config
from server.api.dsp_sync import receive_dsp_sync_webhook
from server.api.responses import json_response
from server.db.engine import session_scope
from server.openapi.validators import raw_body
from server.representations.persons import represent as represent_person
from server.request_context import request_id_var
from server.services import accounts, events, persons
from server.services import inbound_webhooks as inbound

__all__ = [
    "receive_dsp_sync_webhook",
    "receive_mailgun_webhook",
    "receive_stripe_webhook",
    "receive_whapi_webhook",
    "receive_wise_webhook",
]

log = logging.getLogger("og.inbound")

# Mailgun events that mean "stop emailing this address".
_UNDELIVERABLE = frozenset({"complained", "unsubscribed"})


def _receipt(duplicate: bool, background: BackgroundTask | None = None) -> Any:
    body = b'{"received":true,"duplicate":%s}' % (b"true" if duplicate else b"false")
    if background is None:
        return json_response({"received": True, "duplicate": duplicate})
    return Response(
        body, media_type="application/json", headers={"X-Request-Id": request_id_var.get()}, background=background
    )


async def _raw() -> bytes:
    return raw_body()


def _header(name: str) -> str | None:
    value = connexion.request.headers.get(name)
    return value if isinstance(value, str) else None


# --- Wise ---------------------------------------------------------------------------------------------------------


async def receive_wise_webhook(body: dict[str, Any]) -> Any:
    raw = await _raw()
    inbound.verify_wise(raw, _header("X-Signature-SHA256"), config.active().wise_webhook_public_key)
    if (_header("X-Test-Notification") or "").lower() == "true":
        return _receipt(False)  # signed, acknowledged, no effect
    event = inbound.parse_json(raw)
    delivery_id = _header("X-Delivery-Id") or ""
    receipt_id = await run_in_threadpool(_store_wise, delivery_id, event)
    if receipt_id is None:
        return _receipt(True)
    # Wise wants its answer within 5 s: the payout is moved after the response is sent.
    return _receipt(False, BackgroundTask(run_in_threadpool, inbound.process_wise_receipt, receipt_id))


def _store_wise(delivery_id: str, event: dict[str, Any]) -> int | None:
    try:
        with session_scope() as session:
            if inbound.seen(session, "wise", delivery_id):
                return None
            receipt = inbound.record(
                session,
                "wise",
                delivery_id,
                event_type=str(event.get("event_type") or ""),
                environment="production",
                payload=event,
                processed=False,
            )
            return receipt.id
    except IntegrityError:  # the same delivery, concurrently
        return None


# --- Stripe -------------------------------------------------------------------------------------------------------


async def receive_stripe_webhook(body: dict[str, Any]) -> Any:
    raw = await _raw()
    inbound.verify_stripe(raw, _header("Stripe-Signature"), config.active().stripe_webhook_secrets)
    event = inbound.parse_json(raw)
    duplicate = await run_in_threadpool(_process_stripe, event)
    return _receipt(duplicate)


def _process_stripe(event: dict[str, Any]) -> bool:
    try:
        with session_scope() as session:
            event_id = str(event.get("id") or "")
            if inbound.seen(session, "stripe", event_id):
                return True
            inbound.record(
                session,
                "stripe",
                event_id,
                event_type=str(event.get("type") or ""),
                environment="production" if event.get("livemode") else "sandbox",
                payload=event,
                processed=True,
            )
            # Same transaction as the receipt: the plan changes exactly once per event.
            accounts.apply_stripe_event(session, event)
            return False
    except IntegrityError:
        return True


# --- Mailgun ------------------------------------------------------------------------------------------------------


async def receive_mailgun_webhook(body: dict[str, Any]) -> Any:
    raw = await _raw()
    document = inbound.parse_json(raw)
    token = inbound.verify_mailgun(document, config.active().mailgun_webhook_signing_key)
    duplicate = await run_in_threadpool(_process_mailgun, token, document)
    return _receipt(duplicate)


def _mailgun_reason(data: dict[str, Any]) -> str:
    """Mailgun's own words for why the address is lost, for the account to read in getPerson."""
    kind = str(data.get("event") or "")
    if kind == "complained":
        return "The recipient reported our email as spam (Mailgun: complained)."
    if kind == "unsubscribed":
        return "The recipient unsubscribed from our email (Mailgun: unsubscribed)."
    found = data.get("delivery-status")
    status: dict[str, Any] = found if isinstance(found, dict) else {}
    words = str(status.get("description") or status.get("message") or data.get("reason") or "permanent failure")
    code = status.get("code")
    return f"Mailgun: permanent failure ({code} {words})" if code else f"Mailgun: permanent failure ({words})"


def _undeliverable(data: dict[str, Any]) -> bool:
    kind = data.get("event")
    return kind in _UNDELIVERABLE or (kind == "failed" and data.get("severity") == "permanent")


def _process_mailgun(token: str, document: dict[str, Any]) -> bool:
    data = document.get("event-data")
    data = data if isinstance(data, dict) else {}
    try:
        with session_scope() as session:
            # The token is the replay guard: a signature seen before is never processed again.
            if inbound.seen(session, "mailgun", token):
                return True
            inbound.record(
                session,
                "mailgun",
                token,
                event_type=str(data.get("event") or ""),
                environment=None,
                payload={"event-data": data},  # the signature is not kept
                processed=True,
            )
            recipient = data.get("recipient")
            if _undeliverable(data) and isinstance(recipient, str) and recipient:
                for person in persons.mark_email_undeliverable(session, recipient, _mailgun_reason(data)):
                    events.emit_for(
                        session,
                        person.account_id,
                        person.environment,
                        "person.invitation_failed",
                        represent_person(person),
                    )
            return False
    except IntegrityError:
        return True


# --- whapi.cloud --------------------------------------------------------------------------------------------------


async def receive_whapi_webhook(body: dict[str, Any]) -> Any:
    inbound.verify_whapi(_header("X-Whapi-Token"), config.active().whapi_webhook_tokens)
    document = inbound.parse_json(await _raw())
    total, fresh = await run_in_threadpool(_process_whapi, document)
    return _receipt(total > 0 and fresh == 0)


def _process_whapi(document: dict[str, Any]) -> tuple[int, int]:
    """Store each message and status once, tied to the persons with the sender's phone. Returns how many items
    the delivery had and how many of them were new."""
    kind = str((document.get("event") or {}).get("type") or "")
    items: list[tuple[dict[str, Any], str | None]] = []
    for message in document.get("messages") or []:
        if isinstance(message, dict):
            items.append((message, message.get("from")))
    for status in document.get("statuses") or []:
        if isinstance(status, dict):
            items.append((status, status.get("recipient_id")))
    fresh = 0
    for item, phone in items:
        try:
            with session_scope() as session:
                item_id = str(item.get("id") or "")
                if not item_id or inbound.seen(session, "whapi", item_id):
                    continue
                matched = persons.find_by_phone(session, phone) if isinstance(phone, str) else []
                inbound.record(
                    session,
                    "whapi",
                    item_id,
                    event_type=kind,
                    environment=None,
                    payload={
                        "channel_id": document.get("channel_id"),
                        "item": item,
                        "persons": [
                            {"id": p.id, "account_id": p.account_id, "environment": p.environment} for p in matched
                        ],
                    },
                    processed=True,
                )
                fresh += 1
        except IntegrityError:
            continue
    return len(items), fresh
