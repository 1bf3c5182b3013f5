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
from server.db.models.tracks import Track
from server.openapi.fast_reads import read_only
from server.openapi.multipart import ParsedUpload, parsed_upload
from server.principal import Principal
from server.qc import sniff, worker
from server.services import events, files, releases, tracks
from server.timefmt import rfc3339


def file_info(file: File | None) -> dict[str, Any] | None:
    if file is None:
        return None
    return {
        "id": file.id,
        "filename": file.filename,
        "content_type": file.content_type,
        "size_bytes": file.size_bytes,
        "sha256": file.sha256,
        "uploaded_at": rfc3339(file.updated_at),
    }


def qc_report(status: str | None, file_id: str | None, findings: list[dict[str, Any]], checked: Any) -> Any:
    if status is None or file_id is None:
        return None
    return {
        "status": status,
        "file_id": file_id,
        "checked_at": rfc3339(checked) if checked is not None and status != "pending" else None,
        "warnings": [f["code"] for f in findings if f["severity"] == "warning"],
        "findings": findings if status != "pending" else [],
    }


def represent(session: Session, track: Track) -> dict[str, Any]:
    audio = session.get(File, track.audio_file_id) if track.audio_file_id else None
    return {
        "id": track.id,
        "object": "track",
        "environment": track.environment,
        "release_id": track.release_id,
        "disc_number": track.disc_number,
        "track_number": track.track_number,
        "title": track.title,
        "version": track.version,
        "primary_artists": list(track.primary_artists),
        "featured_artists": list(track.featured_artists),
        "isrc": track.isrc,
        "explicit": track.explicit,
        "language": track.language,
        "credits": [dict(credit) for credit in track.credits],
        "duration_ms": track.duration_ms,
        "audio": file_info(audio),
        "qc_status": track.qc_status if audio is not None else None,
        "metadata": dict(track.meta),
        "created_at": rfc3339(track.created_at),
        "updated_at": rfc3339(track.updated_at),
    }


def represent_qc(session: Session, track: Track) -> dict[str, Any]:
    release = session.get(Release, track.release_id) if track.release_id else None
    cover = None
    if release is not None:
        cover = qc_report(
            release.artwork_qc_status,
            release.artwork_file_id,
            release.artwork_qc_findings,
            release.artwork_qc_completed_at,
        )
    return {
        "object": "track_qc_status",
        "track_id": track.id,
        "release_id": track.release_id,
        "environment": track.environment,
        "audio": qc_report(track.qc_status, track.audio_file_id, track.qc_findings, track.qc_completed_at),
        "cover": cover,
    }


def _audio_from(session: Session, principal: Principal, upload: ParsedUpload) -> File:
    return files.save_upload(session, principal, upload.files["audio"], purpose="audio", accepted=sniff.AUDIO_TYPES)


def _emit_release_updated(session: Session, principal: Principal, release_id: str | None) -> None:
    from server.api.releases import represent as represent_release  # noqa: PLC0415 - the modules refer to each other

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


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The previous values of the top-level fields a change touched (for `previous_attributes`)."""
    return {key: value for key, value in before.items() if after.get(key) != value and key != "updated_at"}
