"""earnings totals: the balance and the summaries read totals maintained with the lines, not the lines

Revision ID: 0013_earnings_totals
Revises: 0012_platform_identifiers
Create Date: 2026-12-05 23:30:00.000000

Creates the totals the importer keeps in the same transaction as the lines (`server.db.models.earnings`) and fills
them from the lines that exist: one pass over the lines per total, summed exactly by the database (NUMERIC on
PostgreSQL, integer units of 1e-10 on SQLite, where the Money column is a decimal string). Also the index the list's
newest-first page needs, and one for the balance's sum of a tenant's payouts.
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import server.db.types

revision: str = "0013_earnings_totals"
down_revision: str | None = "0012_platform_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000
_QUANTUM = Decimal("1e-10")
_DIMENSIONS = ("release", "track", "period", "store", "territory")


def _tenant_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("account_currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    ]


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, server.db.types.Money(precision=28, scale=10), nullable=False)


def _create_tables() -> None:
    op.create_table(
        "earnings_report_totals",
        *_tenant_columns(),
        sa.Column("reported_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("line_count", sa.BigInteger(), nullable=False),
        _money("amount"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("account_id", "environment", "account_currency", "reported_at"),
    )
    op.create_table(
        "earnings_share_totals",
        *_tenant_columns(),
        sa.Column("reported_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("share_id", sa.Integer(), nullable=False),
        _money("amount"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["share_id"], ["split_shares.id"]),
        sa.PrimaryKeyConstraint("account_id", "environment", "account_currency", "reported_at", "share_id"),
    )
    op.create_table(
        "earnings_summary_totals",
        *_tenant_columns(),
        sa.Column("dimension", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("group_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("sale_period_start", sa.Date(), nullable=False),
        sa.Column("sale_period_end", sa.Date(), nullable=False),
        _money("fx_rate"),
        sa.Column("line_count", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        _money("gross"),
        _money("amount"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint(
            "account_id",
            "environment",
            "account_currency",
            "dimension",
            "group_key",
            "sale_period_start",
            "sale_period_end",
            "fx_rate",
        ),
    )


# The tables as this revision knows them (not the live models, which may change after it).
_money_type = server.db.types.Money(precision=28, scale=10)
_lines = sa.table(
    "earnings_lines",
    sa.column("id", sa.String()),
    sa.column("account_id", sa.String()),
    sa.column("environment", sa.String()),
    sa.column("account_currency", sa.String()),
    sa.column("reported_at", server.db.types.UTCDateTime()),
    sa.column("release_id", sa.String()),
    sa.column("track_id", sa.String()),
    sa.column("store", sa.String()),
    sa.column("territory", sa.String()),
    sa.column("sale_period_start", sa.Date()),
    sa.column("sale_period_end", sa.Date()),
    sa.column("fx_rate", _money_type),
    sa.column("units", sa.BigInteger()),
    sa.column("gross", _money_type),
    sa.column("amount", _money_type),
)
_allocations = sa.table(
    "earnings_allocations",
    sa.column("line_id", sa.String()),
    sa.column("share_id", sa.Integer()),
    sa.column("amount", _money_type),
)


def _exact_sum(dialect: str, column: Any) -> Any:
    if dialect == "sqlite":  # the Money strings as integer units of 1e-10: SQLite's SUM of integers is exact
        return sa.func.sum(sa.cast(sa.func.replace(column, ".", ""), sa.BigInteger))
    return sa.func.sum(column)


def _read_sum(dialect: str, value: Any) -> Decimal:
    if dialect == "sqlite":
        return Decimal(int(value)).scaleb(-10).quantize(_QUANTUM)
    return Decimal(str(value)).quantize(_QUANTUM)


def _copy(statement: Any, table: str, money: Sequence[str]) -> None:
    """Insert the grouped rows of `statement` into `table` (each selected column labelled with its target column's
    name), its exact sums read back."""
    names = list(statement.selected_columns.keys())
    connection = op.get_bind()
    dialect = connection.dialect.name
    target = sa.table(
        table,
        *(
            sa.column(
                name,
                _money_type
                if name in (*money, "fx_rate")
                else server.db.types.UTCDateTime()
                if name == "reported_at"
                else None,
            )
            for name in names
        ),
    )
    batch: list[dict[str, Any]] = []
    for row in connection.execute(statement):
        values = dict(zip(names, row, strict=True))
        for name in money:
            values[name] = _read_sum(dialect, values[name])
        batch.append(values)
        if len(batch) == _BATCH:
            connection.execute(target.insert(), batch)
            batch = []
    if batch:
        connection.execute(target.insert(), batch)


def _group_key(dialect: str, dimension: str) -> Any:
    lines = _lines.c
    if dimension == "release":
        return lines.release_id
    if dimension == "track":
        return sa.func.coalesce(lines.track_id, lines.release_id)
    if dimension == "period":
        if dialect == "sqlite":
            return sa.func.strftime("%Y-%m", lines.sale_period_start)
        return sa.func.to_char(lines.sale_period_start, "YYYY-MM")
    return lines[dimension]


def _backfill() -> None:
    dialect = op.get_bind().dialect.name
    lines = _lines.c
    tenant = (lines.account_id, lines.environment, lines.account_currency)
    _copy(
        sa.select(
            *tenant,
            lines.reported_at,
            sa.func.count().label("line_count"),
            _exact_sum(dialect, lines.amount).label("amount"),
        ).group_by(*tenant, lines.reported_at),
        "earnings_report_totals",
        ["amount"],
    )
    shares = _allocations.c
    _copy(
        sa.select(*tenant, lines.reported_at, shares.share_id, _exact_sum(dialect, shares.amount).label("amount"))
        .select_from(_allocations.join(_lines, lines.id == shares.line_id))
        .group_by(*tenant, lines.reported_at, shares.share_id),
        "earnings_share_totals",
        ["amount"],
    )
    for dimension in _DIMENSIONS:
        key = _group_key(dialect, dimension)
        period = (lines.sale_period_start, lines.sale_period_end, lines.fx_rate)
        _copy(
            sa.select(
                *tenant,
                sa.literal(dimension).label("dimension"),
                key.label("group_key"),
                *period,
                sa.func.count().label("line_count"),
                sa.func.sum(lines.units).label("units"),
                _exact_sum(dialect, lines.gross).label("gross"),
                _exact_sum(dialect, lines.amount).label("amount"),
            ).group_by(*tenant, key, *period),
            "earnings_summary_totals",
            ["gross", "amount"],
        )


def upgrade() -> None:
    _create_tables()
    _backfill()
    with op.batch_alter_table("earnings_lines", schema=None) as batch_op:
        batch_op.create_index("ix_earnings_lines_tenant_id", ["account_id", "environment", "id"], unique=False)
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index("ix_payouts_tenant_currency", ["account_id", "environment", "currency"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_payouts_tenant_currency")
    with op.batch_alter_table("earnings_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_earnings_lines_tenant_id")
    op.drop_table("earnings_summary_totals")
    op.drop_table("earnings_share_totals")
    op.drop_table("earnings_report_totals")
