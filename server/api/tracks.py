"""Tracks: metadata, audio uploads (streamed) and QC status."""

from typing import Any

from connexion.lifecycle import ConnexionResponse
from sqlmodel import Session

from server import principal as caller
from server.api.params import timestamp
from server.api.responses import json_response
from server.db.engine import session_scope
from server.db.models.files import File
from server.db.models.releases import Release
from server.openapi.fast_reads import read_only
from server.openapi.multipart import ParsedUpload, parsed_upload
from server.principal import Principal
from server.qc import sniff, worker
from server.representations.changes import changed
from server.representations.releases import represent as represent_release
from server.representations.tracks import represent, represent_qc
from server.services import events, files, releases, tracks


def _audio_from(session: Session, principal: Principal, upload: ParsedUpload) -> File:
    return files.save_upload(session, principal, upload.files["audio"], purpose="audio", accepted=sniff.AUDIO_TYPES)


def _emit_release_updated(session: Session, principal: Principal, release_id: str | None) -> None:
    if release_id is None:
        return
    release = session.get(Release, release_id)
    if release is not None:
        releases.refresh_derived(session, release)
        events.emit(session, principal, "release.updated", represent_release(session, release))


def create_track(body: Any = None) -> ConnexionResponse:
    principal = caller.current()
    upload = parsed_upload()
    try:
        with session_scope() as session:
            if upload is not None:
                track = tracks.create(session, principal, upload.fields["metadata"], pointer_base="/metadata")
                tracks.attach_audio(session, track, _audio_from(session, principal, upload))
            else:
                track = tracks.create(session, principal, body)
            document = represent(session, track)
            events.emit(session, principal, "track.created", document)
            _emit_release_updated(session, principal, track.release_id)
    finally:
        if upload is not None:
            upload.discard()
    if upload is not None:
        worker.wake()
    return json_response(document, 201)


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
        track = tracks.get(session, principal, id)
        before = represent(session, track)
        tracks.update(session, principal, track, body)
        document = represent(session, track)
        events.emit(session, principal, "track.updated", document, previous_attributes=changed(before, document))
        _emit_release_updated(session, principal, track.release_id)
    return json_response(document)


def upload_track_audio(id: str, body: Any = None) -> ConnexionResponse:
    principal = caller.current()
    upload = parsed_upload()
    assert upload is not None  # the operation only accepts multipart bodies
    try:
        with session_scope() as session:
            track = tracks.get(session, principal, id)
            tracks.ensure_editable(session, track)
            before = represent(session, track)
            tracks.attach_audio(session, track, _audio_from(session, principal, upload))
            document = represent(session, track)
            events.emit(session, principal, "track.updated", document, previous_attributes=changed(before, document))
    finally:
        upload.discard()
    worker.wake()
    return json_response(document)


@read_only
def get_track_qc_status(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent_qc(session, tracks.get(session, principal, id)))
