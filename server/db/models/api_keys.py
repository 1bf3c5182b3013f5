"""API keys for server-to-server integrations.

The secret is never stored: only its SHA-256 (the secret carries 256 random bits, so a fast hash is safe and
keeps authentication cheap) plus a display prefix and the last four characters. Rotation keeps the previous
hash valid until `previous_expires_at`.
"""

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import UTCDateTime


class ApiKey(TenantOwned, table=True):
    __tablename__ = "api_keys"
    __table_args__ = (tenant_list_index("api_keys"),)

    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=100)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    secret_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=16)  # og_test_ / og_live_
    last4: str = Field(max_length=4)
    previous_secret_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    previous_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
