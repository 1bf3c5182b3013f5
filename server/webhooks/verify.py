"""Verifying inbound Standard Webhooks v1 messages (the DSP sub-distributor signs its events this way).

The check is the mirror of `server.webhooks.signing`: HMAC-SHA256 with the secret's base64-decoded bytes over
`{webhook-id}.{webhook-timestamp}.{raw body}`, compared in constant time with every `v1,` entry of the
`webhook-signature` header (a sender rolling its secret sends one per secret), and a timestamp within the tolerance
either way, so a captured message cannot be replayed later. Nothing here touches storage: callers verify first.
"""

import base64
import binascii
import hmac
from collections.abc import Sequence
from datetime import datetime

from server.webhooks.signing import signature

TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The message did not verify; the reason is for logs, never for the sender."""


def verify(
    secrets: Sequence[str],
    *,
    message_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    now: datetime,
) -> None:
    if not secrets:
        raise SignatureError("no secret is configured")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError("the timestamp is not unix seconds") from exc
    if abs(now.timestamp() - sent_at) > TOLERANCE_SECONDS:
        raise SignatureError("the timestamp is outside the tolerance")
    offered: list[bytes] = []
    for entry in signature_header.split():
        version, _, value = entry.partition(",")
        if version != "v1" or not value:
            continue
        try:
            offered.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not offered:
        raise SignatureError("no v1 signature")
    matched = False
    for secret in secrets:
        try:
            expected = base64.b64decode(signature(secret, message_id, sent_at, body).removeprefix("v1,"))
        except (binascii.Error, ValueError):
            continue  # a malformed configured secret never verifies anything
        for candidate in offered:
            # Every comparison runs (no early exit), so timing says nothing about which entry was close.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no signature matches")
