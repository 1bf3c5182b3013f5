"""Releases (single, EP, album) and their per-store delivery state."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.models.base import TenantOwned, tenant_list_index
from server.db.types import UTCDateTime


class Release(TenantOwned, table=True):
    __tablename__ = "releases"
    __table_args__ = (
        # A UPC names one product on the whole platform (per environment); NULL (not yet assigned) never conflicts.
        UniqueConstraint("environment", "upc", name="uq_releases_environment_upc"),
        Index("ix_releases_tenant_status", "account_id", "environment", "status"),
        tenant_list_index("releases"),
    )

    id: str = Field(primary_key=True, max_length=40)  # rel_…
    # draft | submitted | in_review | approved | action_needed | rejected | delivering | live |
    # takedown_requested | taken_down
    status: str = Field(default="draft", max_length=20)
    # review team's words for action_needed/rejected
    status_reason: str | None = Field(default=None, sa_type=Text)

    title: str = Field(max_length=200)
    version: str | None = Field(default=None, max_length=200)
    # Artists are separate list entries, never "A & B" in one string: stores link each name to an artist page.
    primary_artists: list[str] = Field(default_factory=list, sa_type=JSON)
    featured_artists: list[str] = Field(default_factory=list, sa_type=JSON)
    label: str | None = Field(default=None, max_length=200)
    genre: str | None = Field(default=None, max_length=40)  # Genre enum of the API
    subgenre: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=35)  # ISO 639 / BCP 47; zxx = instrumental

    # ℗ and © lines: the API returns each as {year, owner} or null; both parts are set together.
    p_line_year: int | None = Field(default=None)
    p_line_owner: str | None = Field(default=None, max_length=200)
    c_line_year: int | None = Field(default=None)
    c_line_owner: str | None = Field(default=None, max_length=200)

    upc: str | None = Field(default=None, max_length=13)  # GTIN-12/13 digits; assigned at submit when blank
    release_date: date | None = Field(default=None, index=True)
    original_release_date: date | None = Field(default=None)
    territories: list[str] = Field(default_factory=list, sa_type=JSON)  # ISO 3166-1 alpha-2, or ["WW"]
    stores: list[str] = Field(default_factory=list, sa_type=JSON)  # DistributionStore codes
    price_tier: str | None = Field(default=None, max_length=12)  # budget | mid | front | premium

    # Derived, never client-written: type from the tracklist (Apple's rule), explicit if any track is.
    release_type: str | None = Field(default=None, max_length=12)  # single | ep | album
    explicit: bool = Field(default=False)

    artwork_file_id: str | None = Field(default=None, foreign_key="files.id", max_length=40, index=True)
    # QC of the current artwork file; NULL status until artwork is uploaded. Findings are QcFinding dicts.
    artwork_qc_status: str | None = Field(default=None, max_length=12)  # pending | passed | failed
    artwork_qc_findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    artwork_qc_completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last submission
    # `metadata` is reserved by SQLModel/SQLAlchemy on the class, so the attribute is `meta`.
    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})


class ReleaseDelivery(TenantOwned, table=True):
    """One store's view of one release: created when delivery starts, moved by the distributor's events."""

    __tablename__ = "release_deliveries"
    __table_args__ = (UniqueConstraint("release_id", "store", name="uq_release_deliveries_release_store"),)

    id: int | None = Field(default=None, primary_key=True)  # never exposed: the API names a delivery by store
    release_id: str = Field(foreign_key="releases.id", ondelete="CASCADE", max_length=40, index=True)
    store: str = Field(max_length=40)  # DistributionStore code
    # queued | preparing | delivered | live | rejected | action_needed | stalled | removing | removed
    status: str = Field(default="queued", max_length=20)
    # the store's reason for rejected/action_needed/stalled
    message: str | None = Field(default=None, sa_type=Text)
    store_url: str | None = Field(default=None, max_length=2048)  # the release's page once live
    # The sender's own timestamp of the last applied event. Senders reorder and retry: an event whose
    # timestamp is not newer than this is ignored (compare-and-set in the UPDATE's WHERE clause).
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdentifierCounter(SQLModel, table=True):
    """The next number of an identifier series we assign (UPC item references, ISRC designation codes).

    One row per series (`upc:production`, `isrc:sandbox:26`, …); taking a number is an UPDATE of the row, so two
    concurrent submits never draw the same number.
    """

    __tablename__ = "identifier_counters"

    name: str = Field(primary_key=True, max_length=40)
    next_value: int = Field(default=1, sa_type=BigInteger)
