"""Inbound provider webhooks: each sender's own signature scheme, checked on the raw bytes before anything is
stored, and the receipt that deduplicates retries, duplicates and replays on the sender's id.

Every comparison of a secret-derived value is constant time (`hmac.compare_digest`). A sender whose secret or key is
not configured cannot be verified, so all its deliveries are refused.
"""

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import Session, col, select

from server import clock, strict_json
from server.db.engine import session_scope
from server.db.models.inbound import InboundWebhookReceipt
from server.db.types import utcnow
from server.domain.errors import DomainError
from server.services import payouts

log = logging.getLogger("og.inbound")

STRIPE_TOLERANCE = timedelta(seconds=300)
MAILGUN_MAX_AGE = timedelta(minutes=15)


def refused(detail: str) -> DomainError:
    return DomainError("invalid_signature", detail)


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as the sender signed it (the framework has validated its shape already)."""
    try:
        document = strict_json.loads(raw)
    except strict_json.StrictJSONError as exc:
        raise DomainError("malformed_json", f"The request body is not acceptable JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise DomainError("malformed_json", "The request body is not a JSON object.")
    return document


def verify_wise(raw: bytes, signature_b64: str | None, public_key_pem: str | None) -> None:
    """`X-Signature-SHA256`: base64 RSA-SHA256 (PKCS#1 v1.5) of the raw body under Wise's public key."""
    if not public_key_pem:
        raise refused("Wise webhooks are not configured on this server (OG_WISE_WEBHOOK_PUBLIC_KEY).")
    if not signature_b64:
        raise refused("The X-Signature-SHA256 header is missing.")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise refused("X-Signature-SHA256 is not base64.") from exc
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise refused("The configured Wise public key is not an RSA key.")
    try:
        key.verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise refused("The signature does not match the request body.") from exc


def verify_stripe(raw: bytes, header: str | None, secrets: Iterable[str]) -> None:
    """`Stripe-Signature: t=…,v1=…[,v1=…]`: hex HMAC-SHA256 over `{t}.{raw body}`; any v1 under any active secret
    verifies; other schemes are ignored; `t` within 300 s of our clock (both ways)."""
    secrets = [s for s in secrets if s]
    if not secrets:
        raise refused("Stripe webhooks are not configured on this server (OG_STRIPE_WEBHOOK_SECRETS).")
    timestamp: str | None = None
    candidates: list[str] = []
    for item in (header or "").split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not timestamp.isdigit() or not candidates:
        raise refused("The Stripe-Signature header has no timestamp or no v1 signature.")
    age = clock.now().timestamp() - int(timestamp)
    if abs(age) > STRIPE_TOLERANCE.total_seconds():
        raise refused("The Stripe-Signature timestamp is outside the 300 second tolerance.")
    signed = timestamp.encode() + b"." + raw
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets]
    # Every pair is compared (no early exit), so timing tells nothing about which one matched.
    matches = [hmac.compare_digest(e.encode(), c.encode("utf-8", "replace")) for e in expected for c in candidates]
    if not any(matches):
        raise refused("No signature in the Stripe-Signature header matches the request body.")


def verify_mailgun(document: dict[str, Any], signing_key: str | None) -> str:
    """`signature.signature` = hex HMAC-SHA256(key, timestamp + token); stale timestamps refused. Returns the token
    (the replay/dedupe id)."""
    if not signing_key:
        raise refused("Mailgun webhooks are not configured on this server (OG_MAILGUN_WEBHOOK_SIGNING_KEY).")
    signature = document.get("signature")
    if not isinstance(signature, dict):
        raise refused("The body has no signature object.")
    timestamp, token, given = (str(signature.get(k) or "") for k in ("timestamp", "token", "signature"))
    if not timestamp.isdigit() or not token or not given:
        raise refused("The signature object is incomplete.")
    expected = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise refused("The signature does not match timestamp and token.")
    if abs(clock.now().timestamp() - int(timestamp)) > MAILGUN_MAX_AGE.total_seconds():
        raise refused("The signature timestamp is stale.")
    return token


def verify_whapi(token: str | None, configured: Iterable[str]) -> None:
    """No signing scheme exists: a long random per-channel token in `X-Whapi-Token`, compared in constant time with
    every configured one."""
    configured = [t for t in configured if t]
    if not configured:
        raise refused("whapi.cloud webhooks are not configured on this server (OG_WHAPI_WEBHOOK_TOKENS).")
    given = (token or "").encode()
    matches = [hmac.compare_digest(given, t.encode()) for t in configured]
    if not any(matches):
        raise refused("The X-Whapi-Token header does not match a configured channel token.")


def seen(session: Session, provider: str, external_id: str) -> bool:
    return (
        session.exec(
            select(InboundWebhookReceipt.id).where(
                col(InboundWebhookReceipt.provider) == provider,
                col(InboundWebhookReceipt.external_id) == external_id,
            )
        ).first()
        is not None
    )


def record(
    session: Session,
    provider: str,
    external_id: str,
    *,
    event_type: str | None,
    environment: str | None,
    payload: dict[str, Any],
    processed: bool,
) -> InboundWebhookReceipt:
    """Insert the receipt; the unique (provider, external_id) makes a concurrent duplicate fail on flush."""
    receipt = InboundWebhookReceipt(
        provider=provider,
        external_id=external_id[:255],
        event_type=(event_type or None) and event_type[:100],
        environment=environment,
        payload=payload,
        processed_at=utcnow() if processed else None,
    )
    session.add(receipt)
    session.flush()
    return receipt


def process_wise_receipt(receipt_id: int) -> None:
    """Apply a stored Wise event to its payout (after the answer to Wise). A failure is kept on the receipt
    (`processed_at` stays empty) and `reprocess_wise_receipts` tries it again."""
    try:
        with session_scope() as session:
            receipt = session.get(InboundWebhookReceipt, receipt_id, with_for_update=True)
            if receipt is None or receipt.processed_at is not None:
                return
            payouts.apply_wise_event(session, receipt.payload or {})
            receipt.processed_at = utcnow()
            receipt.processing_error = None
            session.add(receipt)
    except Exception as exc:
        log.exception("Wise receipt %s could not be processed", receipt_id)
        with session_scope() as session:
            receipt = session.get(InboundWebhookReceipt, receipt_id)
            if receipt is not None:
                receipt.processing_error = repr(exc)[:2000]
                session.add(receipt)


def reprocess_wise_receipts(limit: int = 500) -> int:
    """Process Wise receipts still unprocessed (the server stopped before, or processing failed), oldest first;
    each event is ordered by its own `occurred_at`, so the order here does not matter. Returns how many."""
    with session_scope() as session:
        ids = session.exec(
            select(InboundWebhookReceipt.id)
            .where(col(InboundWebhookReceipt.provider) == "wise", col(InboundWebhookReceipt.processed_at).is_(None))
            .order_by(col(InboundWebhookReceipt.received_at))
            .limit(limit)
        ).all()
    for receipt_id in ids:
        if receipt_id is not None:
            process_wise_receipt(receipt_id)
    return len(ids)
