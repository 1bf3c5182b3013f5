"""The track object and a track's QC status object."""

from typing import Any

from sqlmodel import Session

from server.db.models.files import File
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.representations.files import file_info, qc_report
from server.timefmt import rfc3339


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
