"""Stripe: subscription and invoice events move an account between the free and business plans.

`Stripe-Signature: t=…,v1=…[,v1=…]` is a hex HMAC-SHA256 with the endpoint secret over `{t}.{raw body}`. Stripe's own
`stripe.WebhookSignature` agrees with this verifier (tests/server/test_inbound_verifiers.py signs with it and checks
our stand-in headers with `stripe.Webhook.construct_event`); the library is not used here because it reads the wall
clock (our rules read `server.clock`) and takes one secret per call.
"""

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from server import clock
from server.services import accounts
from server.services.inbound_webhooks.pipeline import InboundProvider, Receipt, SignatureError, parse_json

TOLERANCE = timedelta(seconds=300)


def verify_signature(raw: bytes, header: str | None, secrets: Iterable[str]) -> None:
    """Any v1 under any active secret verifies (Stripe sends one per secret during a roll); other schemes are
    ignored; `t` within 300 s of our clock, both ways."""
    secrets = [s for s in secrets if s]
    if not secrets:
        raise SignatureError("Stripe webhooks are not configured on this server (OG_STRIPE_WEBHOOK_SECRETS).")
    timestamp: str | None = None
    candidates: list[str] = []
    for item in (header or "").split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not timestamp.isdigit() or not candidates:
        raise SignatureError("The Stripe-Signature header has no timestamp or no v1 signature.")
    age = clock.now().timestamp() - int(timestamp)
    if abs(age) > TOLERANCE.total_seconds():
        raise SignatureError("The Stripe-Signature timestamp is outside the 300 second tolerance.")
    signed = timestamp.encode() + b"." + raw
    expected = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets]
    # Every pair is compared (no early exit), so timing tells nothing about which one matched.
    matches = [hmac.compare_digest(e.encode(), c.encode("utf-8", "replace")) for e in expected for c in candidates]
    if not any(matches):
        raise SignatureError("No signature in the Stripe-Signature header matches the request body.")


class StripeProvider(InboundProvider[dict[str, Any]]):
    """The event is Stripe's event object; deduplicated on its `evt_…` id."""

    name = "stripe"

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(secrets)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> Sequence[dict[str, Any]]:
        verify_signature(raw_body, headers.get("stripe-signature"), self.secrets)
        return [parse_json(raw_body)]

    def dedupe_key(self, event: dict[str, Any]) -> str:
        return str(event.get("id") or "")

    def receipt(self, session: Session, event: dict[str, Any]) -> Receipt:
        return Receipt(
            event_type=str(event.get("type") or ""),
            environment="production" if event.get("livemode") else "sandbox",
            payload=event,
        )

    def apply(self, session: Session, event: dict[str, Any]) -> None:
        # The receipt's transaction: the plan changes exactly once per event.
        accounts.apply_stripe_event(session, event)
