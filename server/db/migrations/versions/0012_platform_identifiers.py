"""platform identifiers: ISRCs and UPCs unique per environment across all accounts; smart links can be disabled

Revision ID: 0012_platform_identifiers
Revises: 0011_sandbox_clock_claim
Create Date: 2026-12-08 10:00:00.000000

Until now an ISRC (UPC) was unique per account and environment only, so two accounts could hold the same code and a
DSP report line for it matched nobody. Before the new unique constraints can be built, codes held by more than one
account in one environment are resolved: the track (release) that took the code first (`created_at`, then id) keeps
it, every later claimant's code is cleared (NULL: submit assigns one of ours, or the owner sets another). Each
cleared row is logged with its id so support can tell the account.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.types

revision: str = "0012_platform_identifiers"
down_revision: str | None = "0011_sandbox_clock_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _clear_later_claimants(table: str, column: str) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            f"SELECT id, environment, {column} FROM {table} WHERE {column} IS NOT NULL "  # noqa: S608 - fixed names
            f"ORDER BY environment, {column}, created_at, id"
        )
    ).all()
    seen: set[tuple[str, str]] = set()
    for row_id, environment, code in rows:
        if (environment, code) in seen:
            connection.execute(sa.text(f"UPDATE {table} SET {column} = NULL WHERE id = :id"), {"id": row_id})  # noqa: S608
            log.warning("%s %s: %s %s was claimed earlier by another account; cleared", table, row_id, column, code)
        seen.add((environment, code))


def upgrade() -> None:
    _clear_later_claimants("tracks", "isrc")
    _clear_later_claimants("releases", "upc")
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tracks_tenant_isrc", type_="unique")
        batch_op.create_unique_constraint("uq_tracks_environment_isrc", ["environment", "isrc"])
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_constraint("uq_releases_tenant_upc", type_="unique")
        batch_op.create_unique_constraint("uq_releases_environment_upc", ["environment", "upc"])
    with op.batch_alter_table("smartlinks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=12), nullable=False, server_default=sa.text("'active'"))
        )
        batch_op.add_column(sa.Column("disabled_at", server.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("smartlinks", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("status")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_constraint("uq_releases_environment_upc", type_="unique")
        batch_op.create_unique_constraint("uq_releases_tenant_upc", ["account_id", "environment", "upc"])
    with op.batch_alter_table("tracks", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tracks_environment_isrc", type_="unique")
        batch_op.create_unique_constraint("uq_tracks_tenant_isrc", ["account_id", "environment", "isrc"])
