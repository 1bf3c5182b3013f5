"""Release statuses, and read-only release queries shared by the services and the release representation: the
tracklist in order and the store deliveries."""

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.tracks import Track


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
