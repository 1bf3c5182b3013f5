"""Inbound provider webhooks (Stripe, Wise, Mailgun, WhatsApp, whapi, the DSP sub-distributor).

One table serves both dedupe and replay protection: a receipt is inserted after the signature check and before
any processing, and the unique (provider, external_id) makes a retried, duplicated or replayed message a
no-op. For Mailgun the external_id is the signature `token`, which also refuses a replayed token.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from server.db.models.base import BigIntId
from server.db.types import UTCDateTime, utcnow


class InboundWebhookReceipt(SQLModel, table=True):
    __tablename__ = "inbound_webhook_receipts"
    __table_args__ = (
        UniqueConstraint("provider", "external_id", name="uq_inbound_webhook_receipts_provider_external"),
        # The retry worker looks for receipts not yet processed.
        Index(
            "ix_inbound_webhook_receipts_unprocessed",
            "received_at",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntId)
    provider: str = Field(max_length=20)  # stripe | wise | mailgun | whatsapp | whapi | distributor
    # The sender's id to dedupe on: Stripe event id, Wise X-Delivery-Id, Mailgun token, WhatsApp
    # message/status id.
    external_id: str = Field(max_length=255)
    event_type: str | None = Field(default=None, max_length=100)
    # when the sender distinguishes (Wise, Stripe)
    environment: str | None = Field(default=None, max_length=12)
    # parsed body, for reprocessing and audit
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # last failure, kept for the retry worker
    processing_error: str | None = Field(default=None, sa_type=Text)
