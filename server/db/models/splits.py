"""Royalty splits: versioned, per release or per track, with one share per payee and role."""

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import UTCDateTime

_ACTIVE = text("status = 'active'")


class Split(TenantOwned, table=True):
    """One version of a target's split. A new version supersedes the old one from `effective_from` on; rows
    are never edited in place, so earnings of past periods keep the shares that were in force.
    """

    __tablename__ = "splits"
    __table_args__ = (
        CheckConstraint("(release_id IS NULL) <> (track_id IS NULL)", name="ck_splits_one_target"),
        UniqueConstraint("release_id", "version", name="uq_splits_release_version"),
        UniqueConstraint("track_id", "version", name="uq_splits_track_version"),
        # At most one active version per target, even under concurrent creates (the loser gets an
        # IntegrityError).
        Index(
            "uq_splits_active_release",
            "release_id",
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        ),
        Index("uq_splits_active_track", "track_id", unique=True, postgresql_where=_ACTIVE, sqlite_where=_ACTIVE),
        tenant_list_index("splits"),
    )

    id: str = Field(primary_key=True, max_length=40)  # spl_…
    # Exactly one of the two is set (check constraint above).
    release_id: str | None = Field(default=None, foreign_key="releases.id", max_length=40, index=True)
    track_id: str | None = Field(default=None, foreign_key="tracks.id", max_length=40, index=True)
    version: int = Field(default=1)  # 1, 2, … per target
    status: str = Field(default="active", max_length=12)  # active | superseded
    effective_from: date  # first day of the sale periods this version applies to
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    superseded_by: str | None = Field(default=None, foreign_key="splits.id", max_length=40)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})


class SplitShare(TenantOwned, table=True):
    __tablename__ = "split_shares"
    __table_args__ = (
        UniqueConstraint("split_id", "person_id", "role", name="uq_split_shares_person_role"),
        CheckConstraint("share_bps BETWEEN 1 AND 10000", name="ck_split_shares_bps_range"),
    )

    id: int | None = Field(default=None, primary_key=True)  # never exposed: a share is named by its split
    split_id: str = Field(foreign_key="splits.id", ondelete="CASCADE", max_length=40, index=True)
    person_id: str = Field(foreign_key="persons.id", max_length=40, index=True)
    role: str = Field(max_length=24)  # PersonRole value
    # Basis points (10000 = 100 %): integers sum exactly, so "totals 100 %" is an equality, not a tolerance.
    share_bps: int
    # pending | accepted | declined. Unaccepted shares' earnings are held in the pending balance, never lost.
    acceptance_status: str = Field(default="pending", max_length=12)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
