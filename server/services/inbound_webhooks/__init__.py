"""Inbound provider webhooks: Stripe, Wise, Mailgun, whapi.cloud and the DSP sub-distributor, each a small provider
class (`stripe`, `wise`, `mailgun`, `whapi`, `dsp`) behind one pipeline (`pipeline.receive`: verify → dedupe →
record → apply).

Each sender's own signature scheme is checked on the raw bytes before anything is stored; every comparison of a
secret-derived value is constant time. A sender whose secret or key is not configured cannot be verified, so all its
deliveries are refused. The receipt (`receipts`) deduplicates retries, duplicates and replays on the sender's id.
"""

from server.services.inbound_webhooks import receipts
from server.services.inbound_webhooks.pipeline import (
    InboundError,
    InboundProvider,
    MalformedBodyError,
    Outcome,
    Receipt,
    SignatureError,
    apply_stored,
    parse_json,
    receive,
    reprocess,
)
from server.services.inbound_webhooks.receipts import record, seen
from server.services.inbound_webhooks.wise import WiseProvider

__all__ = [
    "InboundError",
    "InboundProvider",
    "MalformedBodyError",
    "Outcome",
    "Receipt",
    "SignatureError",
    "apply_stored",
    "parse_json",
    "receipts",
    "receive",
    "record",
    "reprocess",
    "reprocess_wise_receipts",
    "seen",
]


def reprocess_wise_receipts(limit: int = 500) -> int:
    """Apply the Wise events whose receipts are still unprocessed (`og-server payouts retry`). Returns how many.
    No verification happens here (the events verified when they arrived), so no key is needed."""
    return reprocess(WiseProvider(public_key_pem=None), limit)
