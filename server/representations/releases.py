"""The release object, alone or for a whole list page at once."""

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from server.db.models.files import File
from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.tracks import Track
from server.domain import release_rules
from server.domain.releases import deliveries_of, deliveries_of_each, tracks_of, tracks_of_each
from server.representations.files import file_info, qc_report
from server.representations.tracks import represent as represent_track
from server.timefmt import rfc3339


def _line(year: int | None, owner: str | None) -> dict[str, Any] | None:
    return None if year is None or owner is None else {"year": year, "owner": owner}


def steps(
    session: Session, release: Release, tracks: list[Track], *, facts: release_rules.Facts | None = None
) -> dict[str, Any]:
    """Each wizard step's completion: the release rule catalogue, the same rules submit checks."""
    return release_rules.steps(release_rules.findings(session, release, tracks, facts=facts))


def represent(
    session: Session,
    release: Release,
    *,
    tracks: list[Track] | None = None,
    deliveries: Sequence[ReleaseDelivery] | None = None,
    facts: release_rules.Facts | None = None,
) -> dict[str, Any]:
    """The API's release object. A list page passes its tracks, deliveries and rule facts, loaded for the whole page
    at once."""
    if tracks is None:
        tracks = tracks_of(session, release)
    if deliveries is None:
        deliveries = deliveries_of(session, release)
    artwork = session.get(File, release.artwork_file_id) if release.artwork_file_id else None
    return {
        "id": release.id,
        "object": "release",
        "environment": release.environment,
        "status": release.status,
        "status_reason": release.status_reason,
        "title": release.title,
        "version": release.version,
        "primary_artists": list(release.primary_artists),
        "featured_artists": list(release.featured_artists),
        "label": release.label,
        "genre": release.genre,
        "subgenre": release.subgenre,
        "language": release.language,
        "p_line": _line(release.p_line_year, release.p_line_owner),
        "c_line": _line(release.c_line_year, release.c_line_owner),
        "original_release_date": release.original_release_date.isoformat() if release.original_release_date else None,
        "release_date": release.release_date.isoformat() if release.release_date else None,
        "territories": list(release.territories),
        "stores": list(release.stores),
        "price_tier": release.price_tier,
        "release_type": release.release_type,
        "explicit": release.explicit,
        "upc": release.upc,
        "duration_ms": sum(t.duration_ms or 0 for t in tracks),
        "tracks": [represent_track(session, t) for t in tracks],
        "artwork": file_info(artwork),
        "artwork_qc": qc_report(
            release.artwork_qc_status,
            release.artwork_file_id,
            release.artwork_qc_findings,
            release.artwork_qc_completed_at,
        ),
        "steps": steps(session, release, tracks, facts=facts),
        "deliveries": [
            {
                "store": d.store,
                "status": d.status,
                "message": d.message,
                "store_url": d.store_url,
                "updated_at": rfc3339(d.updated_at),
            }
            for d in deliveries
        ],
        "submitted_at": rfc3339(release.submitted_at) if release.submitted_at else None,
        "metadata": dict(release.meta),
        "created_at": rfc3339(release.created_at),
        "updated_at": rfc3339(release.updated_at),
    }


class PageRepresenter:
    """`represent` for a page of releases, with a few queries for the whole page instead of several per release:
    tracks and deliveries grouped by release, the rule facts of every release (`release_rules.load_facts`), and the
    artwork and audio files loaded into the session so that each file's `session.get` is answered from the identity
    map (which holds only weak references: `files` keeps them)."""

    def __init__(self, session: Session, page: Sequence[Release]) -> None:
        self.session = session
        release_ids = [release.id for release in page]
        self.tracks = tracks_of_each(session, release_ids)
        self.deliveries = deliveries_of_each(session, release_ids)
        file_ids = [release.artwork_file_id for release in page if release.artwork_file_id]
        file_ids += [t.audio_file_id for tracks in self.tracks.values() for t in tracks if t.audio_file_id]
        self.files = session.exec(select(File).where(col(File.id).in_(file_ids))).all() if file_ids else []
        self.facts = release_rules.load_facts(session, [(release, self.tracks[release.id]) for release in page])

    def __call__(self, release: Release) -> dict[str, Any]:
        return represent(
            self.session,
            release,
            tracks=self.tracks[release.id],
            deliveries=self.deliveries[release.id],
            facts=self.facts[release.id],
        )
