"""Columns that many tables share."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer
from sqlmodel import Field, SQLModel

from server.db.types import UTCDateTime, utcnow


class Timestamps(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def tenant_list_index(table: str) -> Index:
    """The index a tenant's newest-first list pages along (`server.pagination.paginate`: the account and environment,
    `ORDER BY id DESC LIMIT n`): one range read in id order, so a page costs the same for ten rows or a million.
    Without it the database reads every row of the tenant and sorts them for each page."""
    return Index(f"ix_{table}_tenant_id", "account_id", "environment", "id")


class TenantOwned(Timestamps):
    """A row that belongs to one account and one of its two environments.

    Every query on such a table filters on both columns (see `server.db.scoping`): the environment is part of
    the credential, so sandbox and production data can never mix.
    """

    account_id: str = Field(foreign_key="accounts.id", index=True, nullable=False, max_length=40)
    environment: str = Field(nullable=False, max_length=12, index=True)


# Surrogate key (and its foreign keys) for internal, high-volume rows the API never names: BIGINT identity on
# PostgreSQL; on SQLite only a column typed exactly INTEGER PRIMARY KEY autoincrements, hence the variant.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")
