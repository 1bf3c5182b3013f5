"""sandbox: per-account test clock, simulated sales bookmark, simulated sub-distributor schedule

Revision ID: 0009_sandbox
Revises: 0008_artwork_derivatives
Create Date: 2026-12-05 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.db.types

revision: str = "0009_sandbox"
down_revision: str | None = "0008_artwork_derivatives"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sandbox_clock_offset_seconds", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("sandbox_sales_through", sa.Date(), nullable=True))
    op.create_table(
        "sandbox_steps",
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("release_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("done_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sandbox_steps", schema=None) as batch_op:
        for column in ("account_id", "created_at", "done_at", "due_at", "environment", "release_id"):
            batch_op.create_index(batch_op.f(f"ix_sandbox_steps_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sandbox_steps", schema=None) as batch_op:
        for column in ("account_id", "created_at", "done_at", "due_at", "environment", "release_id"):
            batch_op.drop_index(batch_op.f(f"ix_sandbox_steps_{column}"))
    op.drop_table("sandbox_steps")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("sandbox_sales_through")
        batch_op.drop_column("sandbox_clock_offset_seconds")
