"""Tracks: metadata, audio uploads (streamed) and QC status."""

from typing import Any

from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.openapi.fast_reads import read_only
from server.openapi.multipart import parsed_upload
from server.qc import worker
from server.representations.tracks import represent, represent_qc
from server.services import tracks


def create_track(body: Any = None) -> ConnexionResponse:
    principal = caller.current()
    upload = parsed_upload()
    try:
        with session_scope() as session:
            if upload is not None:
                document = tracks.create_and_announce(
                    session, principal, upload.fields["metadata"], audio=upload.files["audio"], pointer_base="/metadata"
                )
            else:
                document = tracks.create_and_announce(session, principal, body)
    finally:
        if upload is not None:
            upload.discard()
    if upload is not None:
        worker.wake()
    return json_response(document, 201)


@read_only
def list_tracks(
    limit: int = 20,
    cursor: str | None = None,
    release_id: str | None = None,
    created_gte: str | None = None,
    created_lt: str | None = None,
) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = tracks.list_page(
            session,
            principal,
            limit=limit,
            cursor=cursor,
            release_id=release_id,
            created_gte=timestamp(created_gte),
            created_lt=timestamp(created_lt),
        )
        return json_response(page.render(lambda track: represent(session, track)))


@read_only
def get_track(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(session, tracks.get(session, principal, id)))


def update_track(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        document = tracks.update_and_announce(session, principal, id, body)
    return json_response(document)


def upload_track_audio(id: str, body: Any = None) -> ConnexionResponse:
    principal = caller.current()
    upload = parsed_upload()
    assert upload is not None  # the operation only accepts multipart bodies
    try:
        with session_scope() as session:
            document = tracks.attach_audio_and_announce(session, principal, id, upload.files["audio"])
    finally:
        upload.discard()
    worker.wake()
    return json_response(document)


@read_only
def get_track_qc_status(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent_qc(session, tracks.get(session, principal, id)))
