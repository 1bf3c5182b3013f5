"""payouts: Stripe customer and payout details on accounts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 20:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.db.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stripe_customer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("plan_changed_at", server.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("payee_verified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("payout_account_holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("payout_iban_encrypted", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
        batch_op.add_column(sa.Column("wise_recipient_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_accounts_stripe_customer_id"), ["stripe_customer_id"])
    # The server default only fills existing rows; the model sets the value from then on.
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("payee_verified", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_accounts_stripe_customer_id"), type_="unique")
        batch_op.drop_column("wise_recipient_id")
        batch_op.drop_column("payout_iban_encrypted")
        batch_op.drop_column("payout_account_holder")
        batch_op.drop_column("payee_verified")
        batch_op.drop_column("plan_changed_at")
        batch_op.drop_column("stripe_customer_id")
