"""Standard Webhooks v1 signatures: `v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}`."""

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from server.webhooks.signing_secrets import key_bytes


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: Sequence[str], message_id: str, moment: datetime, body: bytes) -> dict[str, str]:
    """The three headers of one attempt; one signature per active secret (two during a rotation's overlap)."""
    timestamp = int(moment.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(secret, message_id, timestamp, body) for secret in secrets),
    }
