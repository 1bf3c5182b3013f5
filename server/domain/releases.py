"""Release statuses, the typed inputs of the release wizard's writes (the spec's `ReleaseCreate`,
`ReleaseDetailsUpdate`, `ReleaseTracksUpdate`, `ReleaseDistributionUpdate`) with the enums they use, and read-only
release queries shared by the services and the release representation: the tracklist in order and the store
deliveries."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Self

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.tracks import Track
from server.domain.inputs import ABSENT, Absent, fields_sent, metadata, optional, sent


class ReleaseStatus(StrEnum):
    """A release's lifecycle (the spec's `ReleaseStatus`; tests/server/test_spec_enums.py keeps them equal)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    ACTION_NEEDED = "action_needed"
    REJECTED = "rejected"
    DELIVERING = "delivering"
    LIVE = "live"
    TAKEDOWN_REQUESTED = "takedown_requested"
    TAKEN_DOWN = "taken_down"


class DeliveryStatus(StrEnum):
    """One store's delivery of a release (the spec's `DeliveryStatus.status`)."""

    QUEUED = "queued"
    PREPARING = "preparing"
    DELIVERED = "delivered"
    LIVE = "live"
    REJECTED = "rejected"
    ACTION_NEEDED = "action_needed"
    STALLED = "stalled"
    REMOVING = "removing"
    REMOVED = "removed"


class Genre(StrEnum):
    """The spec's `Genre`: a release's primary genre."""

    ALTERNATIVE = "alternative"
    AMBIENT = "ambient"
    BLUES = "blues"
    CHILDRENS_MUSIC = "childrens_music"
    CLASSICAL = "classical"
    COUNTRY = "country"
    DANCE = "dance"
    ELECTRONIC = "electronic"
    FOLK = "folk"
    HIP_HOP = "hip_hop"
    HOLIDAY = "holiday"
    JAZZ = "jazz"
    LATIN = "latin"
    METAL = "metal"
    POP = "pop"
    PUNK = "punk"
    R_AND_B = "r_and_b"
    REGGAE = "reggae"
    ROCK = "rock"
    SINGER_SONGWRITER = "singer_songwriter"
    SOUL = "soul"
    SOUNDTRACK = "soundtrack"
    SPOKEN_WORD = "spoken_word"
    WORLD = "world"


class DistributionStore(StrEnum):
    """The spec's `DistributionStore`: a store (DSP) a release can be delivered to."""

    SPOTIFY = "spotify"
    APPLE_MUSIC = "apple_music"
    ITUNES = "itunes"
    AMAZON_MUSIC = "amazon_music"
    YOUTUBE_MUSIC = "youtube_music"
    YOUTUBE_CONTENT_ID = "youtube_content_id"
    DEEZER = "deezer"
    TIDAL = "tidal"
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    SOUNDCLOUD = "soundcloud"
    PANDORA = "pandora"
    AUDIOMACK = "audiomack"
    ANGHAMI = "anghami"
    BOOMPLAY = "boomplay"
    JIOSAAVN = "jiosaavn"
    NAPSTER = "napster"
    TENCENT_MUSIC = "tencent_music"
    NETEASE_CLOUD_MUSIC = "netease_cloud_music"


class PriceTier(StrEnum):
    """The spec's `PriceTier`: the download price tier."""

    BUDGET = "budget"
    MID = "mid"
    FRONT = "front"
    PREMIUM = "premium"


def _names(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


@dataclass(frozen=True)
class ReleaseCreate:
    """A new release draft (`createRelease`, wizard step 1)."""

    title: str
    primary_artists: tuple[str, ...]
    version: str | None = None
    featured_artists: tuple[str, ...] = ()
    label: str | None = None
    genre: Genre | None = None
    subgenre: str | None = None
    language: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            title=body["title"],
            primary_artists=_names(body["primary_artists"]),
            version=body.get("version"),
            featured_artists=_names(body.get("featured_artists")),
            label=body.get("label"),
            genre=optional(Genre)(body.get("genre")),
            subgenre=body.get("subgenre"),
            language=body.get("language"),
            metadata=metadata(body.get("metadata")),
        )


@dataclass(frozen=True)
class CopyrightLine:
    """A ℗ or © line to set (the spec's `CopyrightLineInput`)."""

    year: int
    owner: str

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(year=int(body["year"]), owner=body["owner"])


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ReleaseDetailsUpdate:
    """Changes to the release details (`updateReleaseDetails`); `ABSENT` keeps a field, `None` clears it."""

    title: str | Absent = ABSENT
    version: str | Absent | None = ABSENT
    primary_artists: tuple[str, ...] | Absent = ABSENT
    featured_artists: tuple[str, ...] | Absent = ABSENT
    label: str | Absent | None = ABSENT
    genre: Genre | Absent | None = ABSENT
    subgenre: str | Absent | None = ABSENT
    language: str | Absent | None = ABSENT
    p_line: CopyrightLine | Absent | None = ABSENT
    c_line: CopyrightLine | Absent | None = ABSENT
    original_release_date: date | Absent | None = ABSENT
    upc: str | Absent | None = ABSENT
    metadata: Mapping[str, str] | Absent = ABSENT

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            title=sent(body, "title", str),
            version=sent(body, "version", _same),
            primary_artists=sent(body, "primary_artists", _names),
            featured_artists=sent(body, "featured_artists", _names),
            label=sent(body, "label", _same),
            genre=sent(body, "genre", optional(Genre)),
            subgenre=sent(body, "subgenre", _same),
            language=sent(body, "language", _same),
            p_line=sent(body, "p_line", optional(CopyrightLine.from_body)),
            c_line=sent(body, "c_line", optional(CopyrightLine.from_body)),
            original_release_date=sent(body, "original_release_date", optional(date.fromisoformat)),
            upc=sent(body, "upc", _same),
            metadata=sent(body, "metadata", metadata),
        )

    @property
    def fields_set(self) -> frozenset[str]:
        return fields_sent(self)


@dataclass(frozen=True)
class TrackPlacement:
    """One entry of a tracklist: a track and its position (an item of `ReleaseTracksUpdate.tracks`)."""

    track_id: str
    track_number: int
    disc_number: int = 1

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            track_id=body["track_id"],
            track_number=int(body["track_number"]),
            disc_number=int(body.get("disc_number", 1)),
        )


@dataclass(frozen=True)
class ReleaseTracksUpdate:
    """The complete tracklist (`updateReleaseTracks`), in order."""

    tracks: tuple[TrackPlacement, ...]

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(tracks=tuple(TrackPlacement.from_body(entry) for entry in body["tracks"]))


@dataclass(frozen=True)
class ReleaseDistributionUpdate:
    """Changes to the distribution settings (`updateReleaseDistribution`); `ABSENT` keeps a field."""

    release_date: date | Absent | None = ABSENT
    territories: tuple[str, ...] | Absent = ABSENT
    stores: tuple[DistributionStore, ...] | Absent = ABSENT
    price_tier: PriceTier | Absent = ABSENT

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            release_date=sent(body, "release_date", optional(date.fromisoformat)),
            territories=sent(body, "territories", tuple),
            stores=sent(body, "stores", lambda stores: tuple(DistributionStore(store) for store in stores)),
            price_tier=sent(body, "price_tier", PriceTier),
        )

    @property
    def fields_set(self) -> frozenset[str]:
        return fields_sent(self)


# The reads every release representation makes, built once: a prebuilt statement skips SQLAlchemy's per-call
# construction and cache-key work (measured at about a third of the ORM cost of GET /releases/{id}; issue 10).
TRACK_ORDER = (col(Track.disc_number), col(Track.track_number), col(Track.id))
_TRACKS_OF = select(Track).where(col(Track.release_id) == bindparam("release_id")).order_by(*TRACK_ORDER)
_DELIVERY_ORDER = col(ReleaseDelivery.id)
_DELIVERIES_OF = (
    select(ReleaseDelivery).where(col(ReleaseDelivery.release_id) == bindparam("release_id")).order_by(_DELIVERY_ORDER)
)


def tracks_of(session: Session, release: Release) -> list[Track]:
    return list(session.exec(_TRACKS_OF, params={"release_id": release.id}).all())


def tracks_of_each(session: Session, release_ids: list[str]) -> dict[str, list[Track]]:
    """The tracklists of several releases in one query (a list page), each in `tracks_of`'s order."""
    found: dict[str, list[Track]] = {release_id: [] for release_id in release_ids}
    if release_ids:
        statement = select(Track).where(col(Track.release_id).in_(release_ids)).order_by(*TRACK_ORDER)
        for track in session.exec(statement):
            found[str(track.release_id)].append(track)
    return found


def deliveries_of(session: Session, release: Release) -> Sequence[ReleaseDelivery]:
    return session.exec(_DELIVERIES_OF, params={"release_id": release.id}).all()


def deliveries_of_each(session: Session, release_ids: list[str]) -> dict[str, list[ReleaseDelivery]]:
    """The store deliveries of several releases in one query (a list page), each in `deliveries_of`'s order."""
    found: dict[str, list[ReleaseDelivery]] = {release_id: [] for release_id in release_ids}
    if release_ids:
        statement = select(ReleaseDelivery).where(col(ReleaseDelivery.release_id).in_(release_ids))
        for delivery in session.exec(statement.order_by(_DELIVERY_ORDER)):
            found[delivery.release_id].append(delivery)
    return found
