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
        # The list's keyset page (newest first within one tenant) reads 21 index entries whatever the history; with
        # only the period index the planner would fetch and sort every line of the tenant.
        Index("ix_earnings_lines_tenant_id", "account_id", "environment", "id"),
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


# --- totals maintained by the importer ---------------------------------------------------------------------------
#
# The balance and the summaries read these instead of the lines, so their cost does not grow with the lines. The
# importer (`server.services.earnings.import_for_tenant`, the only writer of lines) adds each import's newly inserted
# lines to them in the same transaction, with an upsert that adds to the stored sums (`server.db.sums.add_to_totals`):
# lines are immutable (a correction is a new negative line), so the totals only ever grow by what is inserted and
# stay exactly the sum of the lines. Migration 0013 built them from the lines that existed before.


class EarningsReportTotal(SQLModel, table=True):
    """The lines of one tenant per report time (`reported_at`), for the settled/unsettled split of the balance.

    Keyed by the exact report time rather than by day: settlement compares `reported_at` with a moving cutoff, and
    a day bucket would need the boundary day's lines scanned exactly, a scan as big as that day's reports (a month
    of one store can be a million lines). One import has one `reported_at`, so there is one row per report: the
    balance reads as many rows as the tenant has reports, never its lines.
    """

    __tablename__ = "earnings_report_totals"

    account_id: str = Field(foreign_key="accounts.id", primary_key=True, max_length=40)
    environment: str = Field(primary_key=True, max_length=12)
    account_currency: str = Field(primary_key=True, max_length=3)
    reported_at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    line_count: int = Field(sa_type=BigInteger)
    amount: Decimal = Field(sa_type=Money)  # the sum of the lines' `amount`


class EarningsShareTotal(SQLModel, table=True):
    """The allocations of one tenant per report time and split share: the held part of the balance depends on the
    share's acceptance, which changes after the import, so it is joined at read time (one row per report and share
    in force)."""

    __tablename__ = "earnings_share_totals"

    account_id: str = Field(foreign_key="accounts.id", primary_key=True, max_length=40)
    environment: str = Field(primary_key=True, max_length=12)
    account_currency: str = Field(primary_key=True, max_length=3)
    reported_at: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    share_id: int = Field(foreign_key="split_shares.id", primary_key=True)
    amount: Decimal = Field(sa_type=Money)


class EarningsSummaryTotal(SQLModel, table=True):
    """The lines of one tenant per summary dimension (`release`, `track`, `period`, `store`, `territory`), group key,
    sale period and FX rate: what `GET /earnings/summary` sums when it has no filter on another dimension.

    A rollup over all dimensions at once would not compress (a report has about one line per track, store, territory
    and period), so each dimension has its own rows; the sale period stays in the key for the period filters and the
    FX rate for the per-rate conversion of `gross`.
    """

    __tablename__ = "earnings_summary_totals"

    account_id: str = Field(foreign_key="accounts.id", primary_key=True, max_length=40)
    environment: str = Field(primary_key=True, max_length=12)
    account_currency: str = Field(primary_key=True, max_length=3)
    dimension: str = Field(primary_key=True, max_length=12)
    group_key: str = Field(primary_key=True, max_length=40)  # release/track id (or release id), YYYY-MM, store, country
    sale_period_start: date = Field(primary_key=True)
    sale_period_end: date = Field(primary_key=True)
    fx_rate: Decimal = Field(sa_type=Money, primary_key=True)
    line_count: int = Field(sa_type=BigInteger)
    units: int = Field(sa_type=BigInteger)
    gross: Decimal = Field(sa_type=Money)  # in the lines' report currency, converted at `fx_rate` when read
    amount: Decimal = Field(sa_type=Money)
