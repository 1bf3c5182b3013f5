"""Columns that many tables share."""

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlmodel import Field, SQLModel

from server.db.types import UTCDateTime, utcnow


class Timestamps(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


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
