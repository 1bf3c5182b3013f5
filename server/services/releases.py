"""Releases: the wizard steps, derived fields, the tracklist and the status machine."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from server.db.models.files import File
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain.errors import DomainError, FieldError, invalid_state, not_found, validation_failed
from server.domain.releases import tracks_of
from server.ids import has_prefix, new_id
from server.openapi.multipart import FilePart
from server.pagination import Page, paginate, tenant_list
from server.principal import Principal
from server.qc import sniff
from server.representations.changes import changed
from server.representations.releases import represent as represent_release
from server.services import events, files, identifiers, territories

EDITABLE = frozenset({"draft", "action_needed"})

# The status machine. Submission moves draft/action_needed → submitted; review and delivery (the distributor's
# pipeline, simulated in sandbox) move it on. `rejected` and `taken_down` are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted"}),
    "submitted": frozenset({"in_review"}),
    "in_review": frozenset({"approved", "action_needed", "rejected"}),
    "approved": frozenset({"delivering"}),
    "action_needed": frozenset({"submitted"}),
    "rejected": frozenset(),
    "delivering": frozenset({"live", "action_needed", "takedown_requested"}),
    "live": frozenset({"takedown_requested"}),
    "takedown_requested": frozenset({"taken_down"}),
    "taken_down": frozenset(),
}

_DETAIL_FIELDS = (
    "title",
    "version",
    "primary_artists",
    "featured_artists",
    "label",
    "genre",
    "subgenre",
    "language",
)

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


def create(session: Session, principal: Principal, fields: dict[str, Any]) -> Release:
    release = Release(
        id=new_id("rel"),
        account_id=principal.account_id,
        environment=principal.environment,
        title=fields["title"],
        version=fields.get("version"),
        primary_artists=list(fields["primary_artists"]),
        featured_artists=list(fields.get("featured_artists") or []),
        label=fields.get("label"),
        genre=fields.get("genre"),
        subgenre=fields.get("subgenre"),
        language=fields.get("language"),
        meta=dict(fields.get("metadata") or {}),
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


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def touch(release: Release) -> None:
    release.updated_at = utcnow()


def update_details(session: Session, principal: Principal, release: Release, fields: dict[str, Any]) -> None:
    if set(fields) != {"metadata"}:  # the client's own key-value pairs never reach a store: editable any time
        ensure_editable(release)
    for name in _DETAIL_FIELDS:
        if name in fields:
            setattr(release, name, fields[name])
    if "original_release_date" in fields:
        release.original_release_date = _date(fields["original_release_date"])
    for line in ("p_line", "c_line"):
        if line in fields:
            value = fields[line]
            setattr(release, f"{line}_year", value["year"] if value else None)
            setattr(release, f"{line}_owner", value["owner"] if value else None)
    if "upc" in fields:
        upc = fields["upc"]
        if upc is not None:
            if not identifiers.is_valid_upc(upc):
                raise validation_failed([FieldError("invalid_upc", "/upc", f"{upc} has a wrong GS1 check digit.")])
            taken = session.exec(
                select(Release.id).where(
                    col(Release.account_id) == principal.account_id,
                    col(Release.environment) == principal.environment,
                    col(Release.upc) == upc,
                    col(Release.id) != release.id,
                )
            ).first()
            if taken is not None:
                raise DomainError("conflict", f"Another release already uses the UPC {upc}.", pointer="/upc")
        release.upc = upc
    if "metadata" in fields:
        release.meta = dict(fields["metadata"] or {})
    touch(release)
    session.add(release)
    session.flush()


def update_distribution(session: Session, release: Release, fields: dict[str, Any]) -> None:
    ensure_editable(release)
    if "territories" in fields:
        problems = territories.invalid_entries(fields["territories"])
        if problems:
            raise validation_failed(
                [FieldError("invalid_territory", f"/territories/{index}", reason) for index, reason in problems]
            )
        release.territories = list(fields["territories"])
    if "release_date" in fields:
        release.release_date = _date(fields["release_date"])
    if "stores" in fields:
        release.stores = list(fields["stores"])
    if "price_tier" in fields:
        release.price_tier = fields["price_tier"]
    touch(release)
    session.add(release)
    session.flush()


def set_tracklist(session: Session, principal: Principal, release: Release, entries: list[dict[str, Any]]) -> None:
    ensure_editable(release)
    errors: list[FieldError] = []
    chosen: list[tuple[Track, int, int]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        pointer = f"/tracks/{index}/track_id"
        track = session.get(Track, entry["track_id"])
        if track is None or (track.account_id, track.environment) != (principal.account_id, principal.environment):
            errors.append(FieldError("unknown_track", pointer, f"No track with id {entry['track_id']} exists."))
        elif track.id in seen:
            errors.append(FieldError("duplicate_track", pointer, "The track is listed more than once."))
        elif track.release_id not in (None, release.id):
            errors.append(FieldError("track_on_other_release", pointer, f"The track is on release {track.release_id}."))
        else:
            seen.add(track.id)
            chosen.append((track, entry.get("disc_number", 1), entry["track_number"]))
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


def _numbering_errors(entries: list[dict[str, Any]]) -> list[FieldError]:
    by_disc: dict[int, list[tuple[int, int]]] = {}
    for index, entry in enumerate(entries):
        by_disc.setdefault(entry.get("disc_number", 1), []).append((entry["track_number"], index))
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
    release.artwork_qc_status = "pending"
    release.artwork_qc_findings = []
    release.artwork_qc_completed_at = None
    touch(release)
    session.add(release)
    session.flush()


def transition(session: Session, release: Release, target: str, *, reason: str | None = None) -> str:
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


# --- operations: each makes its change and emits its event in the caller's transaction ----------------------------


def create_and_announce(session: Session, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
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
    session: Session, principal: Principal, release_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    release = get(session, principal, release_id)
    before = represent_release(session, release)
    update_details(session, principal, release, fields)
    return _announce_updated(session, principal, release, before)


def set_tracklist_and_announce(
    session: Session, principal: Principal, release_id: str, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    release = get(session, principal, release_id)
    before = represent_release(session, release)
    set_tracklist(session, principal, release, entries)
    return _announce_updated(session, principal, release, before)


def update_distribution_and_announce(
    session: Session, principal: Principal, release_id: str, fields: dict[str, Any]
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
