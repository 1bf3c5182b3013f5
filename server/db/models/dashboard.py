"""What the developer dashboard stores: signed-in browser sessions, the API request log, production access requests."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from server.db.models.base import BigIntId, Timestamps
from server.db.types import UTCDateTime, utcnow


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie's random id is stored: a leaked table signs no one in."""

    __tablename__ = "web_sessions"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=40)
    environment: str = Field(default="sandbox", max_length=12)  # the dashboard's environment switch
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)  # the absolute timeout


class RequestLogEntry(SQLModel, table=True):
    """One API request of an account, kept for 7 days (`server.services.request_log`)."""

    __tablename__ = "request_log"
    __table_args__ = (Index("ix_request_log_tenant_time", "account_id", "environment", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True, autoincrement=True))
    account_id: str = Field(max_length=40)  # no foreign key: written in batches, an account is never deleted
    environment: str = Field(max_length=12)
    credential_id: str = Field(max_length=64)
    credential_kind: str = Field(max_length=12)  # api_key | oauth
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    status: int
    error_code: str | None = Field(default=None, max_length=80)
    request_id: str = Field(max_length=128, index=True)
    duration_ms: float
    problem: dict[str, object] | None = Field(default=None, sa_type=JSON)  # the problem document of an error
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class ProductionAccessRequest(Timestamps, table=True):
    """A person asking for production access; an operator reads it (`og-server accounts requests`) and grants it
    with `og-server accounts grant-production`."""

    __tablename__ = "production_access_requests"

    id: str = Field(primary_key=True, max_length=40)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=40)
    user_id: str = Field(foreign_key="users.id", max_length=40)
    use_case: str = Field(max_length=2000)
    expected_volume: str = Field(max_length=200)


class UserToken(SQLModel, table=True):
    """A single-use link emailed to a user (password reset, email verification). Only the SHA-256 of the token is
    stored: reading the table opens no link."""

    __tablename__ = "user_tokens"

    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=40)
    purpose: str = Field(max_length=20)  # password_reset | verify_email
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
