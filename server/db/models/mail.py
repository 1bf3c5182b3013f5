"""The outbox of outbound messages (email, WhatsApp): written in the transaction of the change that causes them,
sent after commit by the worker, so a message exists exactly when its cause committed and survives a crash."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import UTCDateTime


class OutboundMessage(TenantOwned, table=True):
    __tablename__ = "outbound_messages"
    # The worker's claim query: due messages in send order.
    __table_args__ = (
        Index("ix_outbound_messages_due", "status", "next_attempt_at"),
        tenant_list_index("outbound_messages"),
    )

    id: str = Field(primary_key=True, max_length=40)  # msg_…
    channel: str = Field(max_length=12)  # email | whatsapp
    kind: str = Field(max_length=32)  # invitation | endpoint_disabled
    recipient: str = Field(max_length=254)  # an email address or an E.164 phone number
    person_id: str | None = Field(default=None, foreign_key="persons.id", max_length=40, index=True)
    subject: str = Field(default="", max_length=300)
    text_body: str = Field(sa_type=Text)
    html_body: str | None = Field(default=None, sa_type=Text)
    tag: str = Field(max_length=64)  # Mailgun `o:tag`
    # Mailgun `v:` variables: they come back in its webhooks (the person and message ids).
    variables: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

    # sandbox: captured, never sent (the sandbox outbox) · local: no provider configured, read with
    # `og-server mail list` · queued → sent | failed (permanent, or transient errors past the last retry)
    status: str = Field(max_length=12)
    attempts: int = Field(default=0)
    # When the worker may (re)try; while a worker sends, it holds a lease by moving this into the future.
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    provider_message_id: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
