"""Payouts of the available balance, each carried out as exactly one Wise transfer."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Index
from sqlmodel import Field

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import Money, UTCDateTime, utcnow


class Payout(TenantOwned, table=True):
    __tablename__ = "payouts"
    __table_args__ = (
        # The balance's debited sum: one tenant's payouts in its currency. Without it a database with no statistics
        # may pick the environment index and read every account's payouts.
        Index("ix_payouts_tenant_currency", "account_id", "environment", "currency"),
        tenant_list_index("payouts"),
    )

    id: str = Field(primary_key=True, max_length=40)  # pay_…
    # Debited from the balance; `fee` is deducted from it, so the API's net_amount is amount - fee (not
    # stored, so it can never disagree).
    amount: Decimal = Field(sa_type=Money)
    fee: Decimal = Field(default=Decimal(0), sa_type=Money)
    currency: str = Field(max_length=3)  # ISO 4217
    # requested | processing | paid | failed | returned | cancelled. failed/returned/cancelled credit `amount`
    # back.
    status: str = Field(default="requested", max_length=12, index=True)
    failure_reason: str | None = Field(default=None, max_length=500)

    provider: str = Field(default="wise", max_length=12)
    provider_reference: str | None = Field(default=None, max_length=64, index=True)  # Wise transfer id
    # Wise's customerTransactionId: fixed when the payout row is created, so every retry of the
    # create-transfer call (after a timeout, a crash) is the same transfer. One request → one transfer.
    customer_transaction_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    # The last Wise transfer state applied (e.g. funds_converted, outgoing_payment_sent, bounced_back), and
    # the sender's `occurred_at` of it: Wise does not guarantee order, so an older event is ignored.
    provider_state: str | None = Field(default=None, max_length=40)
    last_provider_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})
