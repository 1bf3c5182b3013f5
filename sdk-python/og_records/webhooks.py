"""Verifying the platform's webhooks (Standard Webhooks v1) and reading them as typed events.

Each delivery carries `webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature`: space-separated
`v1,<base64 HMAC-SHA256>` entries over `{id}.{timestamp}.{raw body}`, keyed with the endpoint's `whsec_…` secret.
Several entries appear while a secret is being rotated; one match is enough.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from og_records._exceptions import WebhookVerificationError
from og_records._generated.models.event_envelope import EventEnvelope

__all__ = ["DEFAULT_TOLERANCE", "Webhooks", "sign"]

DEFAULT_TOLERANCE = 300  # seconds, both ways: a replayed old delivery and a clock far ahead are both refused
_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def _secret_bytes(secret: str) -> bytes:
    encoded = secret.removeprefix(_SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "==")
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("The webhook secret is not a whsec_<base64> secret.") from exc
    if not key:
        raise WebhookVerificationError("The webhook secret is empty.")
    return key


def _digest(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign(body: bytes | str, *, secret: str, msg_id: str, timestamp: int) -> str:
    """The `webhook-signature` value for a body: for tests and local tools that send webhooks."""
    raw = body.encode() if isinstance(body, str) else body
    return "v1," + base64.b64encode(_digest(_secret_bytes(secret), msg_id, str(timestamp), raw)).decode()


class Webhooks:
    """`client.webhooks`: verify and unwrap deliveries. Uses the client's `webhook_secret` unless given `secret=`."""

    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret

    def verify(
        self,
        body: bytes | str,
        headers: Mapping[str, str],
        *,
        secret: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> None:
        """Raises `WebhookVerificationError` unless the delivery is signed with the secret within the tolerance.

        Pass the raw body exactly as received (before any JSON parsing)."""
        key = _secret_bytes(self._require_secret(secret))
        lowered = {name.lower(): value for name, value in headers.items()}
        msg_id = lowered.get("webhook-id")
        timestamp = lowered.get("webhook-timestamp")
        signatures = lowered.get("webhook-signature")
        if not (msg_id and timestamp and signatures):
            raise WebhookVerificationError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
        if not timestamp.isascii() or not timestamp.isdigit():
            raise WebhookVerificationError("The webhook-timestamp header is not a unix time in seconds.")
        current = time.time() if now is None else now
        if current - int(timestamp) > tolerance:
            raise WebhookVerificationError("The webhook timestamp is too old.")
        if int(timestamp) - current > tolerance:
            raise WebhookVerificationError("The webhook timestamp is in the future.")
        raw = body.encode() if isinstance(body, str) else body
        expected = _digest(key, msg_id, timestamp, raw)
        matched = False
        for entry in signatures.split(" "):
            version, _, encoded = entry.partition(",")
            if version != "v1":
                continue
            try:
                candidate = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                continue
            # Compare every entry (no early exit) in constant time.
            matched |= hmac.compare_digest(expected, candidate)
        if not matched:
            raise WebhookVerificationError("No webhook-signature entry matches the body and secret.")

    def unwrap(
        self,
        body: bytes | str,
        headers: Mapping[str, str],
        *,
        secret: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
    ) -> EventEnvelope:
        """Verifies the delivery, then returns it as an `EventEnvelope` (`.id`, `.type`, `.data.object`, …)."""
        self.verify(body, headers, secret=secret, tolerance=tolerance)
        try:
            payload = json.loads(body)
            return EventEnvelope.from_dict(payload)
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookVerificationError("The webhook body is not an event envelope.") from exc

    def _require_secret(self, secret: str | None) -> str:
        chosen = secret or self._secret
        if not chosen:
            raise WebhookVerificationError("No webhook secret: pass secret= or create the client with webhook_secret=.")
        return chosen
