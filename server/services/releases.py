"""Releases: the wizard steps, derived fields, the tracklist and the status machine."""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from server.db.models.files import File
from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.sandbox import SandboxStep
from server.db.models.smartlinks import SmartLink
from server.db.models.splits import Split, SplitShare
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain import identifiers, release_rules, territories
from server.domain.errors import DomainError, FieldError, invalid_state, not_found, validation_failed
from server.domain.inputs import ABSENT
from server.domain.releases import (
    CopyrightLine,
    DeliveryStatus,
    ReleaseCreate,
    ReleaseDetailsUpdate,
    ReleaseDistributionUpdate,
    ReleaseStatus,
    ReleaseTracksUpdate,
    TrackPlacement,
    tracks_of,
)
from server.domain.tracks import QcStatus
from server.ids import has_prefix, new_id
from server.openapi.multipart import FilePart
from server.pagination import Page, paginate, tenant_list
from server.principal import Principal
from server.qc import sniff
from server.representations.changes import changed
from server.representations.releases import represent as represent_release
from server.representations.tracks import represent as represent_track
from server.services import events, files
from server.services import identifiers as owned_identifiers  # who holds an ISRC/UPC on the platform

EDITABLE = release_rules.EDITABLE

# The status machine. Submission moves draft/action_needed → submitted; review and delivery (the distributor's
# pipeline, simulated in sandbox) move it on. `rejected` and `taken_down` are final.
TRANSITIONS: dict[str, frozenset[ReleaseStatus]] = {
    ReleaseStatus.DRAFT: frozenset({ReleaseStatus.SUBMITTED}),
    ReleaseStatus.SUBMITTED: frozenset({ReleaseStatus.IN_REVIEW}),
    ReleaseStatus.IN_REVIEW: frozenset({ReleaseStatus.APPROVED, ReleaseStatus.ACTION_NEEDED, ReleaseStatus.REJECTED}),
    ReleaseStatus.APPROVED: frozenset({ReleaseStatus.DELIVERING}),
    ReleaseStatus.ACTION_NEEDED: frozenset({ReleaseStatus.SUBMITTED}),
    ReleaseStatus.REJECTED: frozenset(),
    ReleaseStatus.DELIVERING: frozenset(
        {ReleaseStatus.LIVE, ReleaseStatus.ACTION_NEEDED, ReleaseStatus.TAKEDOWN_REQUESTED}
    ),
    ReleaseStatus.LIVE: frozenset({ReleaseStatus.TAKEDOWN_REQUESTED}),
    ReleaseStatus.TAKEDOWN_REQUESTED: frozenset({ReleaseStatus.TAKEN_DOWN}),
    ReleaseStatus.TAKEN_DOWN: frozenset(),
}

SINGLE_MAX_TRACK_MS = 10 * 60 * 1000
EP_MAX_TOTAL_MS = 30 * 60 * 1000


# A prebuilt statement skips SQLAlchemy's per-call construction and cache-key work (issue 10).
_BY_ID = select(Release).where(col(Release.id) == bindparam("release_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()


def get(session: Session, principal: Principal, release_id: str, *, for_update: bool = False) -> Release:
    release = None
    if has_prefix(release_id, "rel"):
        statement = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        release = session.exec(statement, params={"release_id": release_id}).first()
    if release is None or (release.account_id, release.environment) != (principal.account_id, principal.environment):
        raise not_found("release", release_id)
    return release


def ensure_editable(release: Release) -> None:
    if release.status not in EDITABLE:
        raise invalid_state(
            "release",
            release.status,
            f"The release is {release.status}; it can be edited while it is draft or action_needed.",
        )


def create(session: Session, principal: Principal, fields: ReleaseCreate) -> Release:
    release = Release(
        id=new_id("rel"),
        account_id=principal.account_id,
        environment=principal.environment,
        title=fields.title,
        version=fields.version,
        primary_artists=list(fields.primary_artists),
        featured_artists=list(fields.featured_artists),
        label=fields.label,
        genre=fields.genre,
        subgenre=fields.subgenre,
        language=fields.language,
        meta=dict(fields.metadata),
    )
    session.add(release)
    session.flush()
    return release


def release_type(durations: list[int]) -> str | None:
    """Apple's rule: single 1-3 tracks each < 10 min; EP up to 6 tracks and ≤ 30 min; album otherwise."""
    count, total = len(durations), sum(durations)
    if count == 0:
        return None
    if count >= 7 or total > EP_MAX_TOTAL_MS:
        return "album"
    if count <= 3 and all(d < SINGLE_MAX_TRACK_MS for d in durations):
        return "single"
    return "ep"


def refresh_derived(session: Session, release: Release) -> None:
    """Type and explicit flag follow the tracklist; never written by clients."""
    tracks = tracks_of(session, release)
    release.release_type = release_type([t.duration_ms or 0 for t in tracks])
    release.explicit = any(t.explicit for t in tracks)
    session.add(release)


def touch(release: Release) -> None:
    release.updated_at = utcnow()


def update_details(session: Session, principal: Principal, release: Release, fields: ReleaseDetailsUpdate) -> None:
    if fields.fields_set != {"metadata"}:  # the client's own key-value pairs never reach a store: editable any time
        ensure_editable(release)
    if fields.title is not ABSENT:
        release.title = fields.title
    if fields.version is not ABSENT:
        release.version = fields.version
    if fields.primary_artists is not ABSENT:
        release.primary_artists = list(fields.primary_artists)
    if fields.featured_artists is not ABSENT:
        release.featured_artists = list(fields.featured_artists)
    if fields.label is not ABSENT:
        release.label = fields.label
    if fields.genre is not ABSENT:
        release.genre = fields.genre
    if fields.subgenre is not ABSENT:
        release.subgenre = fields.subgenre
    if fields.language is not ABSENT:
        release.language = fields.language
    if fields.original_release_date is not ABSENT:
        release.original_release_date = fields.original_release_date
    if fields.p_line is not ABSENT:
        release.p_line_year, release.p_line_owner = _line(fields.p_line)
    if fields.c_line is not ABSENT:
        release.c_line_year, release.c_line_owner = _line(fields.c_line)
    if fields.upc is not ABSENT:
        upc = fields.upc
        if upc is not None:
            if not identifiers.is_valid_upc(upc):
                raise validation_failed([FieldError("invalid_upc", "/upc", f"{upc} has a wrong GS1 check digit.")])
            owned_identifiers.ensure_upc_free(session, principal.environment, upc, release.id)
        release.upc = upc
    if fields.metadata is not ABSENT:
        release.meta = dict(fields.metadata)
    _refuse_conflicts(release, fields.fields_set)
    touch(release)
    session.add(release)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent writer of the same UPC won the unique constraint
        if release.upc is not None and "upc" in str(exc.orig).lower():
            raise owned_identifiers.upc_taken(release.upc) from exc
        raise


def _line(line: CopyrightLine | None) -> tuple[int | None, str | None]:
    return (line.year, line.owner) if line is not None else (None, None)


def _refuse_conflicts(release: Release, fields: frozenset[str]) -> None:
    """Fields only valid together (an original release date after the release date, a ℗/© year after the release
    year) are refused when written, pointing at the written field; nothing is stored (the session is not flushed
    and the transaction rolls back)."""
    conflicts = release_rules.written_conflicts(release, {f"/{name}" for name in fields})
    if conflicts:
        raise validation_failed([FieldError(f.code, f.pointer, f.detail) for f in conflicts])


def update_distribution(session: Session, release: Release, fields: ReleaseDistributionUpdate) -> None:
    ensure_editable(release)
    if fields.territories is not ABSENT:
        problems = territories.invalid_entries(list(fields.territories))
        if problems:
            raise validation_failed(
                [FieldError("invalid_territory", f"/territories/{index}", reason) for index, reason in problems]
            )
        release.territories = list(fields.territories)
    if fields.release_date is not ABSENT:
        release.release_date = fields.release_date
    if fields.stores is not ABSENT:
        release.stores = list(fields.stores)
    if fields.price_tier is not ABSENT:
        release.price_tier = fields.price_tier
    _refuse_conflicts(release, fields.fields_set)
    touch(release)
    session.add(release)
    session.flush()


def set_tracklist(session: Session, principal: Principal, release: Release, tracklist: ReleaseTracksUpdate) -> None:
    ensure_editable(release)
    entries = tracklist.tracks
    errors: list[FieldError] = []
    chosen: list[tuple[Track, int, int]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        pointer = f"/tracks/{index}/track_id"
        track = session.get(Track, entry.track_id)
        if track is None or (track.account_id, track.environment) != (principal.account_id, principal.environment):
            errors.append(FieldError("unknown_track", pointer, f"No track with id {entry.track_id} exists."))
        elif track.id in seen:
            errors.append(FieldError("duplicate_track", pointer, "The track is listed more than once."))
        elif track.release_id not in (None, release.id):
            errors.append(FieldError("track_on_other_release", pointer, f"The track is on release {track.release_id}."))
        else:
            seen.add(track.id)
            chosen.append((track, entry.disc_number, entry.track_number))
    errors += _numbering_errors(entries)
    if errors:
        raise validation_failed(errors)
    for track in tracks_of(session, release):
        if track.id not in seen:
            track.release_id, track.disc_number, track.track_number = None, None, None
            session.add(track)
    for track, disc, number in chosen:
        track.release_id, track.disc_number, track.track_number = release.id, disc, number
        session.add(track)
    session.flush()
    refresh_derived(session, release)
    touch(release)
    session.flush()


def _numbering_errors(entries: tuple[TrackPlacement, ...]) -> list[FieldError]:
    by_disc: dict[int, list[tuple[int, int]]] = {}
    for index, entry in enumerate(entries):
        by_disc.setdefault(entry.disc_number, []).append((entry.track_number, index))
    errors = []
    discs = sorted(by_disc)
    if discs and discs != list(range(1, len(discs) + 1)):
        errors.append(FieldError("disc_numbering", "/tracks", f"Discs must be numbered 1, 2, 3…; got {discs}."))
    for disc in discs:
        numbers = sorted(by_disc[disc])
        for expected, (number, index) in enumerate(numbers, start=1):
            if number != expected:
                errors.append(
                    FieldError(
                        "track_numbering",
                        f"/tracks/{index}/track_number",
                        f"Track numbers on disc {disc} must run 1, 2, 3… without gaps or repeats.",
                    )
                )
                break
    return errors


def set_artwork(session: Session, release: Release, artwork: File) -> None:
    ensure_editable(release)
    release.artwork_file_id = artwork.id
    release.artwork_qc_status = QcStatus.PENDING
    release.artwork_qc_findings = []
    release.artwork_qc_completed_at = None
    touch(release)
    session.add(release)
    session.flush()


def transition(session: Session, release: Release, target: ReleaseStatus, *, reason: str | None = None) -> str:
    """Moves the release to `target` if the status machine allows it; returns the previous status.

    The UPDATE is conditional on the status read, so two concurrent transitions cannot both apply.
    """
    previous = release.status
    if target not in TRANSITIONS.get(previous, frozenset()):
        raise invalid_state("release", previous, f"A release that is {previous} cannot become {target}.")
    now = utcnow()
    result = session.exec(
        update(Release)
        .where(col(Release.id) == release.id, col(Release.status) == previous)
        .values(status=target, status_reason=reason, updated_at=now)
    )
    if result.rowcount != 1:
        session.refresh(release)
        raise invalid_state("release", release.status, f"The release changed concurrently; it is {release.status}.")
    release.status, release.status_reason, release.updated_at = target, reason, now
    return previous


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    status: str | None,
    created_gte: datetime | None,
    created_lt: datetime | None,
) -> Page[Release]:
    where, filters = tenant_list(Release, principal, created_gte=created_gte, created_lt=created_lt)
    if status is not None:
        where.append(col(Release.status) == status)
    filters["status"] = status
    return paginate(session, Release, where=where, list_name="releases", filters=filters, limit=limit, cursor=cursor)


# --- takedown, deletion, removing a track ------------------------------------------------------------------------

TAKEDOWN_FROM = frozenset({ReleaseStatus.LIVE, ReleaseStatus.DELIVERING})
_TAKEDOWN_DONE = frozenset({ReleaseStatus.TAKEDOWN_REQUESTED, ReleaseStatus.TAKEN_DOWN})


def request_takedown(session: Session, principal: Principal, release_id: str) -> Release:
    """`live`/`delivering` → `takedown_requested`: every store's delivery becomes `removing` (a store that rejected
    the release has nothing to remove: `removed`), and the release becomes `taken_down` when the DSP feed reports
    the last store `removed` (`dsp_sync._advance_release`). Emits `release.status_changed` in this transaction.

    Asking again while the takedown runs, or after it finished, changes nothing and emits nothing (like a repeated
    submit); any other status is `409 invalid_state`."""
    from server.services import sandbox_simulator  # noqa: PLC0415 - it builds on this module

    release = get(session, principal, release_id, for_update=True)
    if release.status in _TAKEDOWN_DONE:
        return release
    if release.status not in TAKEDOWN_FROM:
        raise invalid_state(
            "release",
            release.status,
            f"The release is {release.status}; a takedown can be requested while it is live or delivering"
            + (" (a draft is deleted instead)." if release.status == ReleaseStatus.DRAFT else "."),
        )
    previous = transition(session, release, ReleaseStatus.TAKEDOWN_REQUESTED)
    now = utcnow()
    session.exec(
        update(ReleaseDelivery)
        .where(col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status) == DeliveryStatus.REJECTED)
        .values(status=DeliveryStatus.REMOVED, message=None, store_url=None, updated_at=now)
    )
    session.exec(
        update(ReleaseDelivery)
        .where(
            col(ReleaseDelivery.release_id) == release.id, col(ReleaseDelivery.status).not_in((DeliveryStatus.REMOVED,))
        )
        .values(status=DeliveryStatus.REMOVING, message=None, updated_at=now)
    )
    session.flush()
    document = represent_release(session, release)
    events.emit(session, principal, "release.status_changed", document, previous_attributes={"status": previous})
    if release.environment == "sandbox":  # the simulated sub-distributor removes it from each store
        sandbox_simulator.schedule_takedown(session, release.id)
    return release


def delete_draft(session: Session, principal: Principal, release_id: str) -> None:
    """Deletes a `draft` release (anything later is `409 invalid_state`: stores may have it; request a takedown).

    Its tracks are kept, off any release (`track.updated` each); its release-level splits are deleted with it (a
    draft has earned nothing); its smart links are deleted (`smartlink.deleted` each). Emits `release.deleted`
    with the release as it was."""
    from server.services import smartlinks  # noqa: PLC0415 - smartlinks builds on this module

    release = get(session, principal, release_id, for_update=True)
    if release.status != ReleaseStatus.DRAFT:
        raise invalid_state(
            "release",
            release.status,
            f"The release is {release.status}; only a draft can be deleted"
            + ("; request a takedown instead." if release.status in TAKEDOWN_FROM else "."),
        )
    document = represent_release(session, release)
    for track in tracks_of(session, release):
        before = _position(track)
        _detach(session, track)
        events.emit(session, principal, "track.updated", represent_track(session, track), previous_attributes=before)
    split_ids = list(session.exec(select(Split.id).where(col(Split.release_id) == release.id)).all())
    if split_ids:
        session.exec(delete(SplitShare).where(col(SplitShare.split_id).in_(split_ids)))
        session.exec(update(Split).where(col(Split.id).in_(split_ids)).values(superseded_by=None))
        session.exec(delete(Split).where(col(Split.id).in_(split_ids)))
    for link in session.exec(select(SmartLink).where(col(SmartLink.release_id) == release.id)).all():
        smartlinks.delete_link(session, principal, link)
    session.exec(delete(SandboxStep).where(col(SandboxStep.release_id) == release.id))
    session.delete(release)
    session.flush()
    events.emit(session, principal, "release.deleted", document)


def _position(track: Track) -> dict[str, Any]:
    return {"release_id": track.release_id, "disc_number": track.disc_number, "track_number": track.track_number}


def _detach(session: Session, track: Track) -> None:
    track.release_id, track.disc_number, track.track_number = None, None, None
    track.updated_at = utcnow()
    session.add(track)


def remove_track(session: Session, principal: Principal, release_id: str, track_id: str) -> Release:
    """Takes one track off an editable release's tracklist (the track itself is kept, on no release) and closes
    the gap: later tracks on its disc move up one; a disc left empty is dropped and later discs move down one. So
    the tracklist stays numbered 1, 2, 3… per disc and discs 1, 2, 3…, as `updateReleaseTracks` requires. Type and
    explicit flag follow the new tracklist. Emits `release.updated` and `track.updated` (the removed track)."""

    release = get(session, principal, release_id, for_update=True)
    track = session.get(Track, track_id) if has_prefix(track_id, "trk") else None
    if track is None or (track.account_id, track.environment) != (principal.account_id, principal.environment):
        raise not_found("track", track_id)
    ensure_editable(release)
    if track.release_id != release.id:
        raise DomainError("not_found", f"Track {track_id} is not on release {release.id}.")
    before = represent_release(session, release)
    track_before = _position(track)
    disc, number = track.disc_number or 1, track.track_number or 0
    _detach(session, track)
    session.flush()
    remaining = tracks_of(session, release)
    disc_left_empty = not any((t.disc_number or 1) == disc for t in remaining)
    for other in remaining:
        other_disc = other.disc_number or 1
        if other_disc == disc and (other.track_number or 0) > number:
            other.track_number = (other.track_number or 0) - 1
        elif disc_left_empty and other_disc > disc:
            other.disc_number = other_disc - 1
        else:
            continue
        session.add(other)
    session.flush()
    refresh_derived(session, release)
    touch(release)
    session.flush()
    document = represent_release(session, release)
    events.emit(session, principal, "release.updated", document, previous_attributes=changed(before, document))
    events.emit(session, principal, "track.updated", represent_track(session, track), previous_attributes=track_before)
    return release


# --- operations: each makes its change and emits its event in the caller's transaction ----------------------------


def create_and_announce(session: Session, principal: Principal, fields: ReleaseCreate) -> dict[str, Any]:
    """`release.created`; returns the release as the API shows it."""
    release = create(session, principal, fields)
    document = represent_release(session, release)
    events.emit(session, principal, "release.created", document)
    return document


def _announce_updated(
    session: Session, principal: Principal, release: Release, before: dict[str, Any]
) -> dict[str, Any]:
    document = represent_release(session, release)
    events.emit(session, principal, "release.updated", document, previous_attributes=changed(before, document))
    return document


def update_details_and_announce(
    session: Session, principal: Principal, release_id: str, fields: ReleaseDetailsUpdate
) -> dict[str, Any]:
    release = get(session, principal, release_id)
    before = represent_release(session, release)
    update_details(session, principal, release, fields)
    return _announce_updated(session, principal, release, before)


def set_tracklist_and_announce(
    session: Session, principal: Principal, release_id: str, tracklist: ReleaseTracksUpdate
) -> dict[str, Any]:
    release = get(session, principal, release_id)
    before = represent_release(session, release)
    set_tracklist(session, principal, release, tracklist)
    return _announce_updated(session, principal, release, before)


def update_distribution_and_announce(
    session: Session, principal: Principal, release_id: str, fields: ReleaseDistributionUpdate
) -> dict[str, Any]:
    release = get(session, principal, release_id)
    before = represent_release(session, release)
    update_distribution(session, release, fields)
    return _announce_updated(session, principal, release, before)


def set_artwork_and_announce(
    session: Session, principal: Principal, release_id: str, upload: FilePart
) -> dict[str, Any]:
    """Stores the uploaded cover (its QC runs in the background) and emits `release.updated`."""
    release = get(session, principal, release_id)
    ensure_editable(release)
    before = represent_release(session, release)
    artwork = files.save_upload(session, principal, upload, purpose="artwork", accepted=sniff.IMAGE_TYPES)
    set_artwork(session, release, artwork)
    return _announce_updated(session, principal, release, before)
