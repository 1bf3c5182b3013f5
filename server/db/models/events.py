"""Events: the record of every change a tenant can subscribe to.

Written in the same transaction as the change itself (a transactional outbox), so an event exists if and only
if the change committed; webhook deliveries are fanned out from these rows. `GET /events` lists them for 30
days.
"""

from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from server.db.models.base import TenantOwned


class Event(TenantOwned, table=True):
    __tablename__ = "events"
    __table_args__ = (
        # Listing newest first within a tenant; ids are time-ordered, so id is the sort key.
        Index("ix_events_tenant_id", "account_id", "environment", "id"),
        Index("ix_events_tenant_type", "account_id", "environment", "type"),
    )

    id: str = Field(primary_key=True, max_length=40)  # evt_…; also the webhook-id header
    type: str = Field(max_length=64)  # e.g. release.status_changed
    # The exact EventEnvelope body, frozen at write time: every delivery and every replay sends these same
    # bytes' worth of content, even if the resource changed since.
    payload: dict[str, Any] = Field(sa_type=JSON)
