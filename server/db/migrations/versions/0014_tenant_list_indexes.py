"""tenant list indexes: every newest-first list of a tenant's rows reads one index range, not all its rows

Revision ID: 0014_tenant_list_indexes
Revises: 0013_earnings_totals
Create Date: 2026-12-06 08:10:00.000000

A list page is `WHERE account_id = ? AND environment = ? ORDER BY id DESC LIMIT n` (`server.pagination.paginate`).
With only the single-column indexes, SQLite read every row of the tenant and sorted them for each page (its plan
said `USE TEMP B-TREE FOR ORDER BY`), and PostgreSQL did the same top-n sort: a page of releases cost twice as much
after the load benchmark had created a few thousand. `(account_id, environment, id)` makes the page one range read
in id order (events have had theirs from the start, earnings lines since 0013). The attempts of a webhook endpoint get
`(endpoint_id, id)` for the same reason.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_tenant_list_indexes"
down_revision: str | None = "0013_earnings_totals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_LISTS = (
    "api_keys",
    "outbound_messages",
    "payouts",
    "persons",
    "releases",
    "smartlinks",
    "splits",
    "tracks",
    "webhook_endpoints",
)


def upgrade() -> None:
    for table in TENANT_LISTS:
        op.create_index(f"ix_{table}_tenant_id", table, ["account_id", "environment", "id"], unique=False)


def downgrade() -> None:
    for table in reversed(TENANT_LISTS):
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)
