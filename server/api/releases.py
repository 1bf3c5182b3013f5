"""Releases: the wizard (create, details, tracks, artwork, distribution), reads, lists and submission."""

from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlmodel import Session

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.models.releases import Release
from server.openapi.fast_reads import read_only
from server.openapi.multipart import parsed_upload
from server.principal import Principal
from server.qc import sniff, worker
from server.representations.changes import changed
from server.representations.releases import PageRepresenter, represent
from server.services import events, files, releases, sandbox_simulator, submission


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
