"""Wise: transfer state changes, payout failures and refunds move a payout.

`X-Signature-SHA256` is a base64 RSA-SHA256 (PKCS#1 v1.5) signature of the raw body under Wise's published public
key. Test pings (`X-Test-Notification: true`) are signed too and acknowledged without effect. Wise wants its answer
within 5 s, so the receipt is stored unprocessed and the payout moves after the answer (`apply_after_answer`);
`reprocess_wise_receipts` catches up what a stopped server left.
"""

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import Session

from server.db.models.inbound import InboundWebhookReceipt
from server.services import payouts
from server.services.inbound_webhooks.pipeline import InboundProvider, Receipt, SignatureError, parse_json


def verify_signature(raw: bytes, signature_b64: str | None, public_key_pem: str | None) -> None:
    if not public_key_pem:
        raise SignatureError("Wise webhooks are not configured on this server (OG_WISE_WEBHOOK_PUBLIC_KEY).")
    if not signature_b64:
        raise SignatureError("The X-Signature-SHA256 header is missing.")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("X-Signature-SHA256 is not base64.") from exc
    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("The configured Wise public key is not an RSA key.")
    try:
        key.verify(signature, raw, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("The signature does not match the request body.") from exc


@dataclass(frozen=True)
class WiseEvent:
    delivery_id: str  # X-Delivery-Id: Wise's retries repeat it
    document: dict[str, Any]


class WiseProvider(InboundProvider[WiseEvent]):
    name = "wise"
    apply_after_answer = True

    def __init__(self, public_key_pem: str | None) -> None:
        self.public_key_pem = public_key_pem

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[WiseEvent]:
        verify_signature(raw_body, headers.get("x-signature-sha256"), self.public_key_pem)
        if (headers.get("x-test-notification") or "").lower() == "true":
            return []  # signed, acknowledged, no effect
        return [WiseEvent(headers.get("x-delivery-id") or "", parse_json(raw_body))]

    def dedupe_key(self, event: WiseEvent) -> str:
        return event.delivery_id

    def receipt(self, session: Session, event: WiseEvent) -> Receipt:
        return Receipt(
            event_type=str(event.document.get("event_type") or ""), environment="production", payload=event.document
        )

    def apply(self, session: Session, event: WiseEvent) -> None:
        # Each event carries its own occurred_at, so the order receipts are applied in does not matter.
        payouts.apply_wise_event(session, event.document)

    def stored_event(self, receipt: InboundWebhookReceipt) -> WiseEvent:
        return WiseEvent(receipt.external_id, receipt.payload or {})
