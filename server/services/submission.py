"""Submitting a release: every submit-time check at once, then identifiers and the move to `submitted`.

The checks and their codes are the table in the spec's `submitRelease` description; each failure points into the
release as `getRelease` returns it.
"""

import re
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain.errors import DomainError, FieldError
from server.domain.releases import tracks_of
from server.principal import Principal
from server.representations.releases import represent as represent_release
from server.services import events, identifiers, releases, sandbox_simulator, territories

LEAD_TIME_DAYS = 14

_STORE_NAMES = (
    "spotify",
    "apple music",
    "itunes",
    "amazon",
    "youtube",
    "deezer",
    "tidal",
    "tiktok",
    "instagram",
    "facebook",
    "soundcloud",
    "pandora",
    "audiomack",
    "anghami",
    "boomplay",
    "jiosaavn",
    "napster",
)
_TITLE_PATTERNS = (
    (re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(com|net|org|io|de|fm|me|ly)\b", re.IGNORECASE), "a URL"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b"), "an email address"),
    (re.compile(r"(^|\s)@\w+"), "an @handle"),
    (re.compile(r"(^|\s)#\w+"), "a #hashtag"),
    (re.compile(r"\+?\d[\d\s().-]{7,}\d"), "a phone number"),
    (re.compile(r"\b(" + "|".join(_STORE_NAMES) + r")\b", re.IGNORECASE), "a store name"),
    (re.compile(r"\b(clean|explicit)\b", re.IGNORECASE), '"Clean" or "Explicit"'),
    (re.compile(r"(\bfeat\.|\bft\.|\bfeaturing\b|\bfeat\b)", re.IGNORECASE), '"feat." (use featured_artists)'),
)
_COMBINED_ARTIST = re.compile(r"\s(&|x|X|feat\.?|ft\.?|featuring|vs\.?)\s|,\s|;|\s/\s")


def _title_errors(pointer: str, title: str | None, artists: list[str]) -> list[FieldError]:
    if not title:
        return []
    for pattern, what in _TITLE_PATTERNS:
        if pattern.search(title):
            return [FieldError("forbidden_title_content", pointer, f"The title contains {what}.")]
    lowered = title.casefold()
    for artist in artists:
        name = artist.casefold()
        # A self-titled release is fine; the artist's name inside a longer title is not.
        if name and name != lowered and re.search(r"\b" + re.escape(name) + r"\b", lowered):
            return [FieldError("forbidden_title_content", pointer, f"The title contains the artist name '{artist}'.")]
    return []


def _artist_errors(pointer: str, names: list[str]) -> list[FieldError]:
    return [
        FieldError("combined_artist_name", f"{pointer}/{j}", f"'{name}' names several artists; list each separately.")
        for j, name in enumerate(names)
        if _COMBINED_ARTIST.search(name)
    ]


def check(session: Session, release: Release, tracks: list[Track], *, today: date) -> list[FieldError]:
    errors: list[FieldError] = []

    def need(pointer: str, present: object) -> None:
        if present is None or present in ([], ""):
            errors.append(FieldError("required", pointer, f"{pointer[1:]} is required for delivery."))

    need("/label", release.label)
    need("/genre", release.genre)
    need("/language", release.language)
    need("/p_line", release.p_line_year)
    need("/c_line", release.c_line_year)
    need("/release_date", release.release_date)
    need("/territories", release.territories)
    need("/stores", release.stores)
    if not tracks:
        errors.append(FieldError("no_tracks", "/tracks", "The release has no tracks."))

    errors += _artwork_errors(release)
    errors += _identifier_errors(session, release, tracks)
    errors += _date_errors(release, today)
    release_artists = release.primary_artists + release.featured_artists
    errors += _title_errors("/title", release.title, release_artists)
    errors += _title_errors("/version", release.version, release_artists)
    errors += _artist_errors("/primary_artists", release.primary_artists)
    errors += _artist_errors("/featured_artists", release.featured_artists)
    persons = _credited_persons(session, tracks)
    for i, track in enumerate(tracks):
        errors += _track_errors(i, track, release_artists, persons)
    for index, reason in territories.invalid_entries(release.territories):
        errors.append(FieldError("invalid_territory", f"/territories/{index}", reason))
    return errors


def _artwork_errors(release: Release) -> list[FieldError]:
    if release.artwork_file_id is None:
        return [FieldError("artwork_missing", "/artwork", "No cover art was uploaded.")]
    if release.artwork_qc_status == "pending":
        return [FieldError("artwork_qc_pending", "/artwork_qc/status", "The cover art's QC has not finished yet.")]
    if release.artwork_qc_status == "failed":
        return [FieldError("artwork_qc_failed", "/artwork_qc/status", "The cover art failed QC; see artwork_qc.")]
    return []


def _identifier_errors(session: Session, release: Release, tracks: list[Track]) -> list[FieldError]:
    errors = []
    if release.upc is not None:
        if not identifiers.is_valid_upc(release.upc):
            errors.append(FieldError("invalid_upc", "/upc", f"{release.upc} has a wrong GS1 check digit."))
        elif session.exec(
            select(Release.id).where(
                col(Release.account_id) == release.account_id,
                col(Release.environment) == release.environment,
                col(Release.upc) == release.upc,
                col(Release.id) != release.id,
            )
        ).first():
            errors.append(FieldError("duplicate_upc", "/upc", f"Another release uses the UPC {release.upc}."))
    seen: dict[str, int] = {}
    for i, track in enumerate(tracks):
        if track.isrc is None:
            continue
        pointer = f"/tracks/{i}/isrc"
        if not identifiers.is_valid_isrc(track.isrc):
            errors.append(FieldError("invalid_isrc", pointer, f"{track.isrc} is not a well-formed ISRC."))
        elif (
            track.isrc in seen
            or session.exec(
                select(Track.id).where(
                    col(Track.account_id) == track.account_id,
                    col(Track.environment) == track.environment,
                    col(Track.isrc) == track.isrc,
                    col(Track.id) != track.id,
                )
            ).first()
        ):
            errors.append(FieldError("duplicate_isrc", pointer, f"Another track uses the ISRC {track.isrc}."))
        seen[track.isrc] = i
    return errors


def _date_errors(release: Release, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if release.release_date is None:
        return errors
    if release.release_date < today + timedelta(days=LEAD_TIME_DAYS):
        errors.append(
            FieldError(
                "release_date_too_soon",
                "/release_date",
                f"The release date must be at least {LEAD_TIME_DAYS} days after today ({today.isoformat()}, UTC).",
            )
        )
    if release.original_release_date is not None and release.original_release_date > release.release_date:
        errors.append(
            FieldError(
                "original_release_date_after_release_date",
                "/original_release_date",
                "The original release date is after the release date.",
            )
        )
    for line in ("p_line", "c_line"):
        year = getattr(release, f"{line}_year")
        if year is not None and year > release.release_date.year:
            errors.append(
                FieldError(
                    "copyright_year_after_release",
                    f"/{line}/year",
                    f"The year {year} is after the release date's year {release.release_date.year}.",
                )
            )
    return errors


def _credited_persons(session: Session, tracks: list[Track]) -> dict[str, Person]:
    ids = {c["person_id"] for t in tracks for c in t.credits if c.get("person_id")}
    if not ids:
        return {}
    return {p.id: p for p in session.exec(select(Person).where(col(Person.id).in_(ids))).all()}


def _track_errors(i: int, track: Track, release_artists: list[str], persons: dict[str, Person]) -> list[FieldError]:
    base = f"/tracks/{i}"
    errors = []
    if track.language is None:
        errors.append(FieldError("required", f"{base}/language", "The track's language is required (zxx: none)."))
    if track.explicit is None:
        errors.append(FieldError("required", f"{base}/explicit", "Declare whether the track is explicit."))
    if track.audio_file_id is None:
        errors.append(FieldError("audio_missing", f"{base}/audio", "The track has no audio."))
    elif track.qc_status == "pending":
        errors.append(FieldError("audio_qc_pending", f"{base}/qc_status", "The track's audio QC has not finished."))
    elif track.qc_status == "failed":
        errors.append(FieldError("audio_qc_failed", f"{base}/qc_status", "The track's audio failed QC."))
    artists = release_artists + track.primary_artists + track.featured_artists
    errors += _title_errors(f"{base}/title", track.title, artists)
    errors += _title_errors(f"{base}/version", track.version, artists)
    errors += _artist_errors(f"{base}/primary_artists", track.primary_artists)
    errors += _artist_errors(f"{base}/featured_artists", track.featured_artists)
    roles = {c["role"] for c in track.credits}
    if "composer" not in roles:
        errors.append(FieldError("missing_composer", f"{base}/credits", "The track needs a composer credit."))
    if track.language not in (None, "zxx") and "lyricist" not in roles:
        errors.append(FieldError("missing_lyricist", f"{base}/credits", "A track with lyrics needs a lyricist credit."))
    for k, credit in enumerate(track.credits):
        person = persons.get(credit.get("person_id") or "")
        if credit["role"] in ("composer", "lyricist") and person is not None and not person.legal_name:
            errors.append(
                FieldError(
                    "legal_name_missing",
                    f"{base}/credits/{k}",
                    f"{person.name} is credited as {credit['role']} but has no legal_name.",
                )
            )
    return errors


def submit(session: Session, principal: Principal, release_id: str) -> tuple[Release, str | None]:
    """Submits the release; returns it and the previous status (None when it was already submitted).

    The row is locked for the check (SELECT … FOR UPDATE on PostgreSQL), so a concurrent second submit waits and then
    finds it `submitted`: it answers with the current state and never submits twice.
    """
    release = releases.get(session, principal, release_id, for_update=True)
    if release.status == "submitted":
        return release, None
    if release.status not in releases.EDITABLE:
        releases.transition(session, release, "submitted")  # raises 409 invalid_state naming the status
    tracks = tracks_of(session, release)
    now = utcnow()
    errors = check(session, release, tracks, today=now.date())
    if errors:
        count = len(errors)
        raise DomainError(
            "submission_checks_failed",
            f"The release fails {count} submit-time check{'s' if count != 1 else ''}; nothing was changed.",
            errors=errors,
        )
    if release.upc is None:
        release.upc = identifiers.assign_upc(session, release.environment)
    for track in tracks:
        if track.isrc is None:
            track.isrc = identifiers.assign_isrc(session, track.environment, now.year)
            session.add(track)
    release.submitted_at = now
    release.status_reason = None
    session.add(release)
    session.flush()
    previous = releases.transition(session, release, "submitted")
    return release, previous


def submit_and_announce(session: Session, principal: Principal, release_id: str) -> dict[str, Any]:
    """`submit`, then `release.submitted` and `release.status_changed`; in the sandbox the simulated
    sub-distributor takes it from there. Returns the release as the API shows it."""
    release, previous = submit(session, principal, release_id)
    document = represent_release(session, release)
    if previous is not None:  # None: it was already submitted; answer with its state, emit nothing
        events.emit(session, principal, "release.submitted", document)
        events.emit(session, principal, "release.status_changed", document, previous_attributes={"status": previous})
        if principal.environment == "sandbox":
            sandbox_simulator.schedule(session, release.id)
    return document
