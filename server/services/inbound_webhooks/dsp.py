"""The DSP sub-distributor's feed: per-store delivery states of releases and sales report lines
(`server.services.dsp_sync` applies them).

Signed the Standard Webhooks v1 way with a per-partner secret: HMAC-SHA256 with the secret's base64-decoded bytes over
`{webhook-id}.{webhook-timestamp}.{raw body}`, any `v1,` entry of `webhook-signature` under any configured secret
(a partner rolling its secret signs with both), `webhook-timestamp` within 300 s of our clock. Deduplicated on
`webhook-id`.

The signature is computed by the official `standardwebhooks` library (`Webhook.sign`). Its `Webhook.verify` is not
called: it compares the timestamp with the wall clock (`datetime.now`), and every rule here reads `server.clock`
(tests move it, e.g. to settle earnings 75 days on); it also takes one secret per call and raises bare
ValueErrors on malformed headers. So the header parsing, the tolerance and the constant-time comparison are here,
and tests/server/test_inbound_verifiers.py checks both ways against the library's own `sign` and `verify`.
"""

import base64
import binascii
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from server import clock
from server.services import dsp_sync
from server.services.inbound_webhooks.pipeline import InboundProvider, Receipt, SignatureError, parse_json

log = logging.getLogger("og.inbound")

TOLERANCE_SECONDS = 300


class _VerificationError(Exception):
    """Why a message did not verify: for our logs, never for the sender."""


def verify_signature(
    secrets: Sequence[str], *, message_id: str, timestamp: str, signature_header: str, body: bytes, now: datetime
) -> None:
    """Raises `_VerificationError` with the reason."""
    if not secrets:
        raise _VerificationError("no secret is configured")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise _VerificationError("the timestamp is not unix seconds") from exc
    if abs(now.timestamp() - sent_at) > TOLERANCE_SECONDS:
        raise _VerificationError("the timestamp is outside the tolerance")
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
        raise _VerificationError("no v1 signature")
    try:
        text = body.decode()  # the library signs text; the framework has already refused a body that is not UTF-8
    except UnicodeDecodeError as exc:
        raise _VerificationError("the body is not UTF-8") from exc
    moment = datetime.fromtimestamp(sent_at, UTC)
    matched = False
    for secret in secrets:
        try:
            expected = base64.b64decode(Webhook(secret).sign(message_id, moment, text).partition(",")[2])
        except (binascii.Error, ValueError, EmptyWebhookSecretError, RuntimeError):
            continue  # a malformed configured secret never verifies anything
        for candidate in offered:
            # Every comparison runs (no early exit), so timing says nothing about which entry was close.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise _VerificationError("no signature matches")


@dataclass(frozen=True)
class DspMessage:
    message_id: str  # webhook-id
    document: dict[str, Any]


class DspProvider(InboundProvider[DspMessage]):
    name = dsp_sync.PROVIDER

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = tuple(secrets)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[DspMessage]:
        message_id = headers.get("webhook-id", "")
        try:
            # Raw bytes, before anything is parsed into storage: a body re-serialised by us would not verify.
            verify_signature(
                self.secrets,
                message_id=message_id,
                timestamp=headers.get("webhook-timestamp", ""),
                signature_header=headers.get("webhook-signature", ""),
                body=raw_body,
                now=clock.now(),
            )
        except _VerificationError as exc:
            log.warning("dsp sync: refused message %r: %s", message_id[:255], exc)
            raise SignatureError("The webhook signature did not verify.") from exc
        return [DspMessage(message_id, parse_json(raw_body))]

    def dedupe_key(self, event: DspMessage) -> str:
        return event.message_id

    def receipt(self, session: Session, event: DspMessage) -> Receipt:
        return Receipt(event_type=dsp_sync.event_type(event.document), environment=None, payload=event.document)

    def apply(self, session: Session, event: DspMessage) -> None:
        # In the receipt's transaction: a failure leaves nothing behind and the partner's retry processes it again.
        dsp_sync.apply_and_announce(session, event.document)
