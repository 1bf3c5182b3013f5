"""Releases: the wizard (create, details, tracks, artwork, distribution), reads, lists and submission."""

from collections.abc import Sequence
from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response, no_content
from server.api.tracks import changed, file_info, qc_report
from server.api.tracks import represent as represent_track
from server.db.engine import session_scope
from server.db.models.files import File
from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.tracks import Track
from server.openapi.fast_reads import read_only
from server.openapi.multipart import parsed_upload
from server.principal import Principal
from server.qc import sniff, worker
from server.services import events, files, releases, sandbox_simulator, submission
from server.timefmt import rfc3339


def _step(missing: list[str]) -> dict[str, Any]:
    return {"complete": not missing, "missing": missing}


def steps(release: Release, tracks: list[Track]) -> dict[str, Any]:
    details = [
        pointer
        for pointer, value in (
            ("/title", release.title),
            ("/primary_artists", release.primary_artists),
            ("/label", release.label),
            ("/genre", release.genre),
            ("/language", release.language),
            ("/p_line", release.p_line_year),
            ("/c_line", release.c_line_year),
        )
        if value in (None, "", [])
    ]
    track_step = (
        ["/tracks"] if not tracks else [f"/tracks/{i}/audio" for i, t in enumerate(tracks) if not t.audio_file_id]
    )
    distribution = [
        pointer
        for pointer, value in (
            ("/release_date", release.release_date),
            ("/territories", release.territories),
            ("/stores", release.stores),
        )
        if value in (None, [])
    ]
    return {
        "details": _step(details),
        "tracks": _step(track_step),
        "artwork": _step([] if release.artwork_file_id else ["/artwork"]),
        "distribution": _step(distribution),
    }


def _line(year: int | None, owner: str | None) -> dict[str, Any] | None:
    return None if year is None or owner is None else {"year": year, "owner": owner}


_DELIVERY_ORDER = col(ReleaseDelivery.id)
_DELIVERIES_OF = (
    select(ReleaseDelivery).where(col(ReleaseDelivery.release_id) == bindparam("release_id")).order_by(_DELIVERY_ORDER)
)


def represent(
    session: Session,
    release: Release,
    *,
    tracks: list[Track] | None = None,
    deliveries: Sequence[ReleaseDelivery] | None = None,
) -> dict[str, Any]:
    """The API's release object. A list page passes its tracks and deliveries, loaded for the whole page at once."""
    if tracks is None:
        tracks = releases.tracks_of(session, release)
    if deliveries is None:
        deliveries = session.exec(_DELIVERIES_OF, params={"release_id": release.id}).all()
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
        "steps": steps(release, tracks),
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


def create_release(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        release = releases.create(session, principal, body)
        document = represent(session, release)
        events.emit(session, principal, "release.created", document)
    return json_response(document, 201)


def list_releases(
    limit: int = 20,
    cursor: str | None = None,
    status: str | None = None,
    created_gte: str | None = None,
    created_lt: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = releases.list_page(
            session,
            principal,
            limit=limit,
            cursor=cursor,
            status=status,
            created_gte=timestamp(created_gte),
            created_lt=timestamp(created_lt),
        )
        return json_response(page.render(PageRepresenter(session, page.items)))


class PageRepresenter:
    """`represent` for a page of releases, with three queries for the whole page instead of three per release:
    tracks and deliveries grouped by release, and the artwork and audio files loaded into the session so that each
    file's `session.get` is answered from the identity map (which holds only weak references: `files` keeps them)."""

    def __init__(self, session: Session, page: Sequence[Release]) -> None:
        self.session = session
        release_ids = [release.id for release in page]
        self.tracks = releases.tracks_of_each(session, release_ids)
        self.deliveries: dict[str, list[ReleaseDelivery]] = {release_id: [] for release_id in release_ids}
        if release_ids:
            statement = select(ReleaseDelivery).where(col(ReleaseDelivery.release_id).in_(release_ids))
            for delivery in session.exec(statement.order_by(_DELIVERY_ORDER)):
                self.deliveries[delivery.release_id].append(delivery)
        file_ids = [release.artwork_file_id for release in page if release.artwork_file_id]
        file_ids += [t.audio_file_id for tracks in self.tracks.values() for t in tracks if t.audio_file_id]
        self.files = session.exec(select(File).where(col(File.id).in_(file_ids))).all() if file_ids else []

    def __call__(self, release: Release) -> dict[str, Any]:
        return represent(self.session, release, tracks=self.tracks[release.id], deliveries=self.deliveries[release.id])


@read_only
def get_release(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(session, releases.get(session, principal, id)))


def _updated(session: Session, principal: Principal, release: Release, before: dict[str, Any]) -> ConnexionResponse:
    document = represent(session, release)
    events.emit(session, principal, "release.updated", document, previous_attributes=changed(before, document))
    return json_response(document)


def update_release_details(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        release = releases.get(session, principal, id)
        before = represent(session, release)
        releases.update_details(session, principal, release, body)
        return _updated(session, principal, release, before)


def update_release_tracks(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        release = releases.get(session, principal, id)
        before = represent(session, release)
        releases.set_tracklist(session, principal, release, body["tracks"])
        return _updated(session, principal, release, before)


def update_release_distribution(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        release = releases.get(session, principal, id)
        before = represent(session, release)
        releases.update_distribution(session, release, body)
        return _updated(session, principal, release, before)


def update_release_artwork(id: str, body: Any = None) -> ConnexionResponse:
    principal = caller.current()
    upload = parsed_upload()
    assert upload is not None  # the operation only accepts multipart bodies
    try:
        with session_scope() as session:
            release = releases.get(session, principal, id)
            releases.ensure_editable(release)
            before = represent(session, release)
            artwork = files.save_upload(
                session, principal, upload.files["artwork"], purpose="artwork", accepted=sniff.IMAGE_TYPES
            )
            releases.set_artwork(session, release, artwork)
            response = _updated(session, principal, release, before)
    finally:
        upload.discard()
    worker.wake()
    return response


def submit_release(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        release, previous = submission.submit(session, principal, id)
        document = represent(session, release)
        if previous is not None:  # None: it was already submitted; answer with its state, emit nothing
            events.emit(session, principal, "release.submitted", document)
            events.emit(
                session, principal, "release.status_changed", document, previous_attributes={"status": previous}
            )
            if principal.environment == "sandbox":  # the simulated sub-distributor takes it from here
                sandbox_simulator.schedule(session, release.id)
    return json_response(document)


def request_release_takedown(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        release = releases.request_takedown(session, principal, id)
        return json_response(represent(session, release))


def delete_release(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        releases.delete_draft(session, principal, id)
    return no_content()


def remove_release_track(id: str, trackId: str) -> ConnexionResponse:  # noqa: N803 - the spec's parameter name
    principal = caller.current()
    with session_scope() as session:
        release = releases.remove_track(session, principal, id, trackId)
        return json_response(represent(session, release))
