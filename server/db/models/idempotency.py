"""Idempotency keys: the first response to a (credential, key) pair is stored and replayed for ≥24 h."""

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models.base import BigIntId
from server.db.types import UTCDateTime, utcnow


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_records"
    # The insert of the in_progress row is the lock: a concurrent request with the same key hits this
    # constraint and answers 409 instead of running twice.
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_records_scope_key"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntId)
    # The credential the key belongs to (an API key id or an OAuth token family): two integrations never
    # collide on the same key, and the credential implies the account and environment.
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)  # the Idempotency-Key header
    request_method: str = Field(max_length=10)
    request_path: str = Field(max_length=2048)
    # SHA-256 of method, path and body: the same key with different parameters is refused (422), not replayed.
    request_hash: str = Field(max_length=64)
    # in_progress | committed | completed. An in_progress row older than the request timeout belongs to a crashed
    # request that changed nothing and may be taken over; `committed` is set in the transaction of the request's
    # first write (server/idempotency.py), so a crashed request whose work committed is never run again.
    status: str = Field(default="in_progress", max_length=12)
    response_status: int | None = Field(default=None)
    response_headers: dict[str, str] | None = Field(default=None, sa_type=JSON)
    # the exact bytes sent, replayed as-is
    response_body: bytes | None = Field(default=None, sa_type=LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)  # purge job deletes past this
