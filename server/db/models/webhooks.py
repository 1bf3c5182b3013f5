"""Outbound webhooks (Standard Webhooks v1): endpoints, one delivery per event and endpoint, and the attempt
log.
"""

from datetime import datetime

from sqlalchemy import JSON, Index, Text, UniqueConstraint, text
from sqlmodel import Field

from server.db.models.base import BigIntId, TenantOwned, Timestamps, tenant_list_index
from server.db.types import UTCDateTime


class WebhookEndpoint(TenantOwned, table=True):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (tenant_list_index("webhook_endpoints"),)

    id: str = Field(primary_key=True, max_length=40)  # we_…
    url: str = Field(max_length=2048)
    enabled_events: list[str] = Field(default_factory=list, sa_type=JSON)  # event types, or ["*"] for all
    description: str | None = Field(default=None, max_length=500)
    status: str = Field(default="enabled", max_length=12)  # enabled | disabled
    disabled_reason: str | None = Field(default=None, max_length=12)  # manual | failing | gone

    # The whsec_ signing secret, encrypted at rest (the signer needs the plaintext, so it cannot be hashed).
    # It is shown to the client only at creation and rotation.
    secret_ciphertext: str = Field(sa_type=Text)
    # During a rotation's overlap every delivery carries one signature per secret, until the expiry.
    previous_secret_ciphertext: str | None = Field(default=None, sa_type=Text)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Start of the current unbroken run of failed deliveries; cleared by any success. Five days → disabled.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})


class WebhookDelivery(Timestamps, table=True):
    """The queue row for sending one event to one endpoint, retried on the schedule until it succeeds or dies.

    Not TenantOwned: it is worker state reached through its event and endpoint (both tenant-scoped); the
    worker claims due rows across all tenants with SELECT … FOR UPDATE SKIP LOCKED.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_endpoint"),
        # Only rows still to be sent keep a next_attempt_at, so the due-row index stays small however long the
        # history grows.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("next_attempt_at IS NOT NULL"),
            sqlite_where=text("next_attempt_at IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntId)
    event_id: str = Field(foreign_key="events.id", ondelete="CASCADE", max_length=40, index=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE", max_length=40, index=True)
    # pending (never tried) | failed (last attempt failed, another is scheduled) | succeeded | dead (retries
    # exhausted or endpoint disabled). succeeded and dead clear next_attempt_at.
    status: str = Field(default="pending", max_length=12)
    attempt_count: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The lease of the worker sending it right now (claimed rows are skipped until it passes). A worker that dies
    # mid-request leaves the lease behind; the row becomes claimable again when it expires, so nothing is lost.
    in_flight_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(TenantOwned, table=True):
    """One request of a delivery, as the delivery log shows it.

    A scheduled attempt (resend, recovery, test) is written as `pending` first and filled in once sent.
    """

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint_created", "endpoint_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=40)  # wa_…
    delivery_id: int = Field(sa_type=BigIntId, foreign_key="webhook_deliveries.id", ondelete="CASCADE", index=True)
    endpoint_id: str = Field(foreign_key="webhook_endpoints.id", ondelete="CASCADE", max_length=40)
    event_id: str = Field(foreign_key="events.id", ondelete="CASCADE", max_length=40, index=True)
    event_type: str = Field(max_length=64)  # copied from the event so the log lists without a join
    attempt: int  # 1-based per event and endpoint; keeps counting across resends
    trigger: str = Field(max_length=12)  # automatic | retry | resend | recovery | test
    outcome: str = Field(default="pending", max_length=12)  # pending | succeeded (2xx) | failed
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # NULL while pending
    duration_ms: int | None = Field(default=None)
    response_status: int | None = Field(default=None)  # NULL when no HTTP response arrived
    response_excerpt: str | None = Field(default=None, max_length=1024)  # first 1024 characters, UTF-8 decoded
    # Why no usable response: timeout | connection_refused | dns_failure | tls_error | address_not_allowed | …
    error: str | None = Field(default=None, max_length=64)
    # Pending: when it is scheduled; failed: when the retry is; NULL when nothing further is planned.
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
