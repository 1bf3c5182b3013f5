"""Tracks: metadata, credits, the audio file and its QC state."""

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.db.models.files import File
from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain import identifiers, release_rules
from server.domain.errors import DomainError, FieldError, invalid_state, not_found, validation_failed
from server.domain.releases import ReleaseStatus
from server.domain.tracks import QcStatus
from server.ids import has_prefix, new_id
from server.openapi.multipart import FilePart
from server.pagination import Page, decode_cursor, encode_cursor, paginate, tenant_list
from server.principal import Principal
from server.qc import sniff
from server.representations.changes import changed
from server.representations.releases import represent as represent_release
from server.representations.tracks import represent as represent_track
from server.services import events, files, releases
from server.services import identifiers as owned_identifiers  # who holds an ISRC/UPC on the platform

EDITABLE_RELEASE_STATES = frozenset({ReleaseStatus.DRAFT, ReleaseStatus.ACTION_NEEDED})
_SIMPLE_FIELDS = ("title", "version", "primary_artists", "featured_artists", "explicit", "language")


def get(session: Session, principal: Principal, track_id: str) -> Track:
    track = session.get(Track, track_id) if has_prefix(track_id, "trk") else None
    if track is None or (track.account_id, track.environment) != (principal.account_id, principal.environment):
        raise not_found("track", track_id)
    return track


def release_of(session: Session, track: Track) -> Release | None:
    return session.get(Release, track.release_id) if track.release_id else None


def ensure_editable(session: Session, track: Track, *, metadata_only: bool = False) -> None:
    """A track on a submitted (or later) release is locked: stores already have its metadata."""
    release = release_of(session, track)
    if release is None or release.status in EDITABLE_RELEASE_STATES or metadata_only:
        return
    raise invalid_state(
        "release",
        release.status,
        f"The track is on release {release.id}, which is {release.status}; "
        "tracks can be edited while their release is draft or action_needed.",
    )


def _release_for_new_track(session: Session, principal: Principal, release_id: str, pointer: str) -> Release:
    release = session.get(Release, release_id)
    if release is None or (release.account_id, release.environment) != (principal.account_id, principal.environment):
        raise validation_failed([FieldError("unknown_release", pointer, f"No release with id {release_id} exists.")])
    if release.status not in EDITABLE_RELEASE_STATES:
        raise invalid_state(
            "release", release.status, f"Release {release.id} is {release.status}; tracks can only be added to a draft."
        )
    return release


def resolve_credits(
    session: Session, principal: Principal, credits: list[dict[str, Any]], pointer: str
) -> list[dict[str, Any]]:
    """Credits as stored: the person's legal name (or display name) copied in, so they survive person edits."""
    resolved: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    persons: dict[str, Person] = {}
    for index, credit in enumerate(credits):
        person_id = credit.get("person_id")
        if person_id is None:
            resolved.append({"person_id": None, "name": credit["name"], "role": credit["role"]})
            continue
        person = session.get(Person, person_id)
        if person is None or (person.account_id, person.environment) != (principal.account_id, principal.environment):
            errors.append(
                FieldError("unknown_person", f"{pointer}/{index}/person_id", f"No person with id {person_id} exists.")
            )
            continue
        resolved.append({"person_id": person.id, "name": person.legal_name or person.name, "role": credit["role"]})
        persons[person.id] = person
    # A composer or lyricist is paid by legal name: a credit of a person without one is refused now, not at submit.
    for index, detail in release_rules.legal_name_problems(credits, persons):
        errors.append(FieldError("legal_name_missing", f"{pointer}/{index}/person_id", detail))
    if errors:
        raise validation_failed(errors)
    return resolved


def create(session: Session, principal: Principal, fields: dict[str, Any], *, pointer_base: str = "") -> Track:
    release = None
    if fields.get("release_id"):
        release = _release_for_new_track(session, principal, fields["release_id"], f"{pointer_base}/release_id")
    credits = resolve_credits(session, principal, list(fields.get("credits") or []), f"{pointer_base}/credits")
    isrc = identifiers.canonical_isrc(fields["isrc"]) if fields.get("isrc") else None
    if isrc is not None:
        owned_identifiers.ensure_isrc_free(session, principal.environment, isrc, None)
    track = Track(
        id=new_id("trk"),
        account_id=principal.account_id,
        environment=principal.environment,
        title=fields["title"],
        version=fields.get("version"),
        primary_artists=list(fields["primary_artists"]),
        featured_artists=list(fields.get("featured_artists") or []),
        isrc=isrc,
        explicit=fields.get("explicit"),
        language=fields.get("language"),
        credits=credits,
        meta=dict(fields.get("metadata") or {}),
    )
    if release is not None:
        last = session.exec(
            select(func.max(Track.track_number)).where(col(Track.release_id) == release.id, col(Track.disc_number) == 1)
        ).one()
        track.release_id, track.disc_number, track.track_number = release.id, 1, (last or 0) + 1
    session.add(track)
    _flush_guarding_isrc(session, isrc)
    return track


def _flush_guarding_isrc(session: Session, isrc: str | None) -> None:
    """Flush; two concurrent writers of one ISRC both pass `ensure_isrc_free`, and the unique constraint decides:
    the loser gets the same `409 conflict` as a sequential duplicate, never a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        if isrc is not None and "isrc" in str(exc.orig).lower():
            raise owned_identifiers.isrc_taken(isrc) from exc
        raise


def update(session: Session, principal: Principal, track: Track, fields: dict[str, Any]) -> None:
    ensure_editable(session, track, metadata_only=set(fields) == {"metadata"})
    for name in _SIMPLE_FIELDS:
        if name in fields:
            setattr(track, name, fields[name])
    if "isrc" in fields:
        isrc = identifiers.canonical_isrc(fields["isrc"]) if fields["isrc"] else None
        if isrc is not None:
            owned_identifiers.ensure_isrc_free(session, principal.environment, isrc, track.id)
        track.isrc = isrc
    if "credits" in fields:
        track.credits = resolve_credits(session, principal, list(fields["credits"]), "/credits")
    if "metadata" in fields:
        track.meta = dict(fields["metadata"] or {})
    track.updated_at = utcnow()
    session.add(track)
    _flush_guarding_isrc(session, track.isrc if "isrc" in fields else None)


def attach_audio(session: Session, track: Track, audio: File) -> None:
    """A new master: QC starts over (the worker picks up `pending`), the duration is measured again."""
    track.audio_file_id = audio.id
    track.qc_status = QcStatus.PENDING
    track.qc_findings = []
    track.qc_completed_at = None
    track.duration_ms = None
    track.updated_at = utcnow()
    session.add(track)
    session.flush()


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    release_id: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
) -> Page[Track]:
    where, filters = tenant_list(Track, principal, created_gte=created_gte, created_lt=created_lt)
    filters["release"] = release_id
    if release_id is None:
        return paginate(session, Track, where=where, list_name="tracks", filters=filters, limit=limit, cursor=cursor)
    # A release's tracks come in tracklist order, not newest first: at most a few hundred, so the page is cut
    # from the ordered list after the cursor's track.
    ordered = list(
        session.exec(
            select(Track)
            .where(*where, col(Track.release_id) == release_id)
            .order_by(col(Track.disc_number), col(Track.track_number), col(Track.id))
        ).all()
    )
    start = 0
    if cursor:
        after = decode_cursor(cursor, "tracks", filters)
        ids = [track.id for track in ordered]
        if after not in ids:
            raise DomainError("invalid_cursor", "The cursor's track is no longer on this release.")
        start = ids.index(after) + 1
    items = ordered[start : start + limit]
    has_more = start + limit < len(ordered)
    next_cursor = encode_cursor(items[-1].id, "tracks", filters) if has_more and items else None
    return Page(items, has_more, next_cursor)


# --- operations: each makes its change and emits its event in the caller's transaction ----------------------------


def _save_audio(session: Session, principal: Principal, upload: FilePart) -> File:
    return files.save_upload(session, principal, upload, purpose="audio", accepted=sniff.AUDIO_TYPES)


def _announce_release_updated(session: Session, principal: Principal, release_id: str | None) -> None:
    """A track's change can change its release (type, explicit flag, duration): `release.updated`."""
    if release_id is None:
        return
    release = session.get(Release, release_id)
    if release is not None:
        releases.refresh_derived(session, release)
        events.emit(session, principal, "release.updated", represent_release(session, release))


def create_and_announce(
    session: Session,
    principal: Principal,
    fields: dict[str, Any],
    *,
    audio: FilePart | None = None,
    pointer_base: str = "",
) -> dict[str, Any]:
    """`track.created` (with its audio, if uploaded with it), then `release.updated` if it is on a release."""
    track = create(session, principal, fields, pointer_base=pointer_base)
    if audio is not None:
        attach_audio(session, track, _save_audio(session, principal, audio))
    document = represent_track(session, track)
    events.emit(session, principal, "track.created", document)
    _announce_release_updated(session, principal, track.release_id)
    return document


def update_and_announce(
    session: Session, principal: Principal, track_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    track = get(session, principal, track_id)
    before = represent_track(session, track)
    update(session, principal, track, fields)
    document = represent_track(session, track)
    events.emit(session, principal, "track.updated", document, previous_attributes=changed(before, document))
    _announce_release_updated(session, principal, track.release_id)
    return document


def attach_audio_and_announce(
    session: Session, principal: Principal, track_id: str, upload: FilePart
) -> dict[str, Any]:
    """Stores the uploaded audio (its QC runs in the background) and emits `track.updated`."""
    track = get(session, principal, track_id)
    ensure_editable(session, track)
    before = represent_track(session, track)
    attach_audio(session, track, _save_audio(session, principal, upload))
    document = represent_track(session, track)
    events.emit(session, principal, "track.updated", document, previous_attributes=changed(before, document))
    return document
