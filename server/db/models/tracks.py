"""Tracks (recordings): metadata, credits, the audio file and its QC result."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import UTCDateTime


class Track(TenantOwned, table=True):
    __tablename__ = "tracks"
    __table_args__ = (
        # One ISRC names one recording on the whole platform (per environment: the sandbox is its own namespace),
        # so a DSP report line for an ISRC has exactly one owner. NULLs (not yet assigned) are distinct on every
        # backend, so unassigned tracks never conflict; the service canonicalises (upper case, no hyphens) before
        # writing and answers `409 conflict` before this index would.
        UniqueConstraint("environment", "isrc", name="uq_tracks_environment_isrc"),
        # Tracklist order. Not unique on purpose: reordering swaps positions inside one transaction.
        Index("ix_tracks_release_position", "release_id", "disc_number", "track_number"),
        tenant_list_index("tracks"),
    )

    id: str = Field(primary_key=True, max_length=40)  # trk_…
    # A track belongs to at most one release; NULL while on none (then disc/track numbers are NULL too).
    release_id: str | None = Field(default=None, foreign_key="releases.id", ondelete="SET NULL", max_length=40)
    disc_number: int | None = Field(default=None)
    track_number: int | None = Field(default=None)

    title: str = Field(max_length=200)
    version: str | None = Field(default=None, max_length=200)
    primary_artists: list[str] = Field(default_factory=list, sa_type=JSON)
    featured_artists: list[str] = Field(default_factory=list, sa_type=JSON)
    isrc: str | None = Field(default=None, max_length=12)  # canonical; assigned at submit when blank
    explicit: bool | None = Field(default=None)  # NULL = not declared yet; submit requires a declaration
    language: str | None = Field(default=None, max_length=35)  # ISO 639 / BCP 47; zxx = instrumental
    # TrackCredit dicts: {person_id | null, name, role}. The name is copied at write time so a credit survives
    # edits of the person.
    credits: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    duration_ms: int | None = Field(default=None)  # from the audio analysis

    audio_file_id: str | None = Field(default=None, foreign_key="files.id", max_length=40, index=True)
    # QC of the current audio file; NULL until audio is uploaded. Findings are QcFinding dicts.
    qc_status: str | None = Field(default=None, max_length=12)  # pending | passed | failed
    qc_findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    qc_completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})
