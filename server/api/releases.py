"""Releases: the wizard (create, details, tracks, artwork, distribution), reads, lists and submission."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response, no_content
from server.db.engine import read_scope, session_scope
from server.domain.releases import (
    ReleaseCreate,
    ReleaseDetailsUpdate,
    ReleaseDistributionUpdate,
    ReleaseTracksUpdate,
)
from server.openapi.fast_reads import read_only
from server.openapi.multipart import parsed_upload
from server.qc import worker
from server.representations.releases import PageRepresenter, represent
from server.services import releases, submission


def create_release(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        document = releases.create_and_announce(session, principal, ReleaseCreate.from_body(body))
    return json_response(document, 201)


@read_only
def list_releases(
    limit: int = 20,
    cursor: str | None = None,
    status: str | None = None,
    created_gte: str | None = None,
    created_lt: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with read_scope() as session:
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
    with read_scope() as session:
        return json_response(represent(session, releases.get(session, principal, id)))


def update_release_details(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(
            releases.update_details_and_announce(session, principal, id, ReleaseDetailsUpdate.from_body(body))
        )


def update_release_tracks(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(
            releases.set_tracklist_and_announce(session, principal, id, ReleaseTracksUpdate.from_body(body))
        )


def update_release_distribution(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(
            releases.update_distribution_and_announce(session, principal, id, ReleaseDistributionUpdate.from_body(body))
        )


def update_release_artwork(id: str, body: Any = None) -> ConnexionResponse:
    principal = caller.current()
    upload = parsed_upload()
    assert upload is not None  # the operation only accepts multipart bodies
    try:
        with session_scope() as session:
            document = releases.set_artwork_and_announce(session, principal, id, upload.files["artwork"])
    finally:
        upload.discard()
    worker.wake()
    return json_response(document)


def submit_release(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        document = submission.submit_and_announce(session, principal, id)
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
