"""Web-sized copies of a QC-passed cover (for smart-link pages and link previews), content-addressed.

A derivative is a pure function of the cover's bytes, so it is keyed by the cover's SHA-256 rather than by a
release or tenant: two releases with the same cover share one set. Its own SHA-256 is its public name
(`/artwork/<sha256>.<ext>`), which is what lets it be cached for a year.
"""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.types import UTCDateTime, utcnow


class ArtworkDerivative(SQLModel, table=True):
    __tablename__ = "artwork_derivatives"
    __table_args__ = (
        UniqueConstraint("source_sha256", "format", "width", name="uq_artwork_derivatives_source_format_width"),
    )

    sha256: str = Field(primary_key=True, max_length=64)  # of the derivative's bytes: its public name
    source_sha256: str = Field(max_length=64, index=True)  # of the cover file it was made from
    format: str = Field(max_length=8)  # jpeg | webp
    width: int
    height: int
    size_bytes: int
    storage_key: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
