"""Smart links (one public page per release with per-service links and pre-save) and their hit log."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from server.db.models.base import BigIntId, TenantOwned, tenant_list_index
from server.db.types import UTCDateTime, utcnow


class SmartLink(TenantOwned, table=True):
    __tablename__ = "smartlinks"
    __table_args__ = (tenant_list_index("smartlinks"),)

    id: str = Field(primary_key=True, max_length=40)  # sl_…
    release_id: str = Field(foreign_key="releases.id", max_length=40, index=True)
    # Unique across all tenants and both environments: the public URL carries no tenant.
    slug: str = Field(max_length=63, unique=True)
    # Copied from the release at creation (the owner may override them); the public page needs no join.
    title: str = Field(max_length=200)
    artist: str = Field(max_length=500)  # the release's primary artists as displayed
    artwork_url: str | None = Field(default=None, max_length=2048)  # the owner's own image, if they gave one
    # The release's QC-passed cover as web-sized derivatives ({"source": sha256, "images": [{format, width,
    # height, sha256}]}, `{}` without one): copied here when the cover passes QC so the page needs no join.
    artwork: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # SmartLinkDestination dicts [{service, url}] in display order, at most one per service.
    destinations: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    # Pre-save settings {enabled, services}; the API's presave.release_at is the column below.
    presave: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The instant the page switches from `presave` to `stream` mode (the API's `mode` derives from it);
    # NULL when pre-saves are disabled.
    release_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # active | disabled. A disabled link keeps its slug (nobody else can take it) and its statistics; its public
    # page, JSON view and click redirects answer 410 `smartlink_disabled` until it is enabled again.
    status: str = Field(default="active", max_length=12, sa_column_kwargs={"server_default": "active"})
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    meta: dict[str, str] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"name": "metadata"})


class SmartLinkHit(SQLModel, table=True):
    """One view, click or pre-save on a public page. Append-only and high-volume; stats aggregate it per day.

    Deliberately not TenantOwned: hits are only ever read through their smartlink (already tenant-scoped), and
    the extra columns and three indexes would be paid on every page view.
    """

    __tablename__ = "smartlink_hits"
    __table_args__ = (Index("ix_smartlink_hits_link_time", "smartlink_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntId)
    smartlink_id: str = Field(foreign_key="smartlinks.id", ondelete="CASCADE", max_length=40)
    kind: str = Field(max_length=8)  # view | click | presave
    service: str | None = Field(default=None, max_length=40)  # SmartLinkService, for click and presave
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2 from geo lookup; NULL unknown
    # Host only (full referrer URLs can carry personal data); NULL = direct.
    referrer_host: str | None = Field(default=None, max_length=253)
    device: str | None = Field(default=None, max_length=8)  # mobile | desktop | tablet | other
    # HMAC of (visitor address, user agent) under a salt that changes daily and is then discarded: counts
    # unique visitors per day without ever storing an IP or tracking anyone across days.
    visitor_hash: str = Field(max_length=64)
    is_bot: bool = Field(default=False)  # kept, not dropped, so filtering can be re-tuned; stats exclude them
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
