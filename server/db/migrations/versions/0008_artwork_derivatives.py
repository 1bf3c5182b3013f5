"""artwork derivatives: web-sized copies of QC-passed covers, and the smart links' copy of them

Revision ID: 0008_artwork_derivatives
Revises: 0005
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import server.db.types

revision: str = "0008_artwork_derivatives"
down_revision: str | None = "0007_dashboard"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "artwork_derivatives",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("storage_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", server.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
        sa.UniqueConstraint("source_sha256", "format", "width", name="uq_artwork_derivatives_source_format_width"),
    )
    with op.batch_alter_table("artwork_derivatives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_artwork_derivatives_source_sha256"), ["source_sha256"], unique=False)
    with op.batch_alter_table("smartlinks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("artwork", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table("smartlinks", schema=None) as batch_op:
        batch_op.alter_column("artwork", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("smartlinks", schema=None) as batch_op:
        batch_op.drop_column("artwork")
    with op.batch_alter_table("artwork_derivatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artwork_derivatives_source_sha256"))
    op.drop_table("artwork_derivatives")
