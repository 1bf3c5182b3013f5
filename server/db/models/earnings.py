"""Earnings: store sales-report lines matched to the catalogue.

Amounts use `Money` (exact decimals, 10 places): royalty lines are fractions of a cent and are summed by the
million. Lines are immutable; a correction from a store arrives as a new line with negative amounts.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models.base import BigIntId, TenantOwned
from server.db.types import Money, UTCDateTime


class EarningsLine(TenantOwned, table=True):
    __tablename__ = "earnings_lines"
    __table_args__ = (
        # A re-sent report (senders retry) must not count a line twice: the importer derives the key from the
        # source report and the line's identity and inserts with ON CONFLICT DO NOTHING.
        UniqueConstraint("account_id", "environment", "dedupe_key", name="uq_earnings_lines_dedupe"),
        # The list/summary filters: by release, by track, by sale period, always within one tenant.
        Index("ix_earnings_lines_tenant_period", "account_id", "environment", "sale_period_start"),
        Index("ix_earnings_lines_tenant_release", "account_id", "environment", "release_id", "sale_period_start"),
        Index("ix_earnings_lines_tenant_track", "account_id", "environment", "track_id", "sale_period_start"),
    )

    id: str = Field(primary_key=True, max_length=40)  # ern_…
    store: str = Field(max_length=40)  # stable store code as reported (spotify, youtube, …)
    territory: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    sale_period_start: date  # both days inclusive
    sale_period_end: date
    reported_at: datetime = Field(sa_type=UTCDateTime)  # reports lag the sale period by 2 to 3 months

    release_id: str = Field(foreign_key="releases.id", max_length=40)
    # NULL: release-level sale
    track_id: str | None = Field(default=None, foreign_key="tracks.id", max_length=40)
    isrc: str | None = Field(default=None, max_length=12)  # as reported, kept for audit of the matching
    upc: str | None = Field(default=None, max_length=13)

    usage_type: str = Field(max_length=12)  # stream | download | ugc | other
    units: int = Field(sa_type=BigInteger)  # negative on adjustments
    gross: Decimal = Field(sa_type=Money)  # in `currency`
    net: Decimal = Field(sa_type=Money)  # in `currency`
    currency: str = Field(max_length=3)  # ISO 4217 of the report
    fx_rate: Decimal = Field(sa_type=Money)  # 1 unit of `currency` in `account_currency`
    amount: Decimal = Field(sa_type=Money)  # net * fx_rate, unrounded, in `account_currency`
    # Copied from the account at import: an account's currency may change later, its past lines must not.
    account_currency: str = Field(max_length=3)

    source_report_id: str = Field(max_length=100, index=True)  # the sender's report/batch id
    dedupe_key: str = Field(max_length=64)  # SHA-256 hex of (sender, report id, line identity)


class EarningsAllocation(SQLModel, table=True):
    """One split share's part of one earnings line, fixed when the line is imported.

    Splits are never retroactive, so the version in force for a line's sale period cannot change after the import;
    storing the largest-remainder result keeps the balance a plain SUM (a payee's parts of a line add up exactly to
    the line) and shows every payee's money per line for audit. Whether a part is held depends on the share's
    acceptance, which is read at balance time through `share_id`. A line with no split in force has no rows: it
    belongs to the account as a whole.
    """

    __tablename__ = "earnings_allocations"
    __table_args__ = (
        UniqueConstraint("line_id", "share_id", name="uq_earnings_allocations_line_share"),
        Index("ix_earnings_allocations_tenant_share", "account_id", "environment", "share_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntId)
    account_id: str = Field(foreign_key="accounts.id", max_length=40)
    environment: str = Field(max_length=12)
    line_id: str = Field(foreign_key="earnings_lines.id", ondelete="CASCADE", max_length=40)
    split_id: str = Field(foreign_key="splits.id", max_length=40)
    share_id: int = Field(foreign_key="split_shares.id")
    amount: Decimal = Field(sa_type=Money)  # in the line's account_currency; can be negative
