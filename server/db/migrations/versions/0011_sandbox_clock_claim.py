"""sandbox clock claim: accounts.sandbox_clock_advancing_until (one clock advance at a time per account)

Revision ID: 0011_sandbox_clock_claim
Revises: 0010_dashboard_mail
Create Date: 2026-12-05 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0011_sandbox_clock_claim"
down_revision: str | None = "0010_dashboard_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sandbox_clock_advancing_until", server.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("sandbox_clock_advancing_until")
