"""invitations and outbound mail: the outbox, invitation links, share answers, payee bank details

Revision ID: 0006_invitations_mail
Revises: 0005
Create Date: 2026-12-05 13:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.db.types

revision: str = "0006_invitations_mail"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_messages",
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("environment", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("provider_message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("sent_at", server.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_messages_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_environment"), ["environment"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_outbound_messages_due", ["status", "next_attempt_at"], unique=False)

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False, server_default="en")
        )
        batch_op.add_column(
            sa.Column("invitation_expires_at", server.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("invitation_used_at", server.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("invitation_failure_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column("payout_account_holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("payout_iban_encrypted", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True)
        )
    with op.batch_alter_table("split_shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declined_at", server.db.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("whatsapp_notifications", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The server defaults only fill existing rows; the models set the values from then on.
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column("language", server_default=None)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("whatsapp_notifications", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("whatsapp_notifications")
    with op.batch_alter_table("split_shares", schema=None) as batch_op:
        batch_op.drop_column("declined_at")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("payout_iban_encrypted")
        batch_op.drop_column("payout_account_holder")
        batch_op.drop_column("invitation_failure_reason")
        batch_op.drop_column("invitation_used_at")
        batch_op.drop_column("invitation_expires_at")
        batch_op.drop_column("language")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbound_messages_person_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_environment"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_created_at"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_account_id"))
    op.drop_table("outbound_messages")
