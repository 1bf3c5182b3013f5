"""The demo account's catalogue: a release in every status, tracks with passed and failed QC, real media files.

The audio and artwork are generated here (numpy + libsndfile, Pillow) and go through the same store, QC and
submission code as uploads, so what the demo shows is what the API really does.
"""

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from server import clock
from server.api.releases import represent as represent_release
from server.db.engine import session_scope
from server.db.models.releases import Release, ReleaseDelivery
from server.media import audio_bytes, cover_bytes
from server.principal import Principal
from server.qc import worker
from server.seed_smartlinks import seed_smartlinks
from server.services import events, files, releases, submission, tracks

# The path each demo release takes after submission, named by the status it ends in.
_PATHS: dict[str, list[str]] = {
    "submitted": [],
    "in_review": ["in_review"],
    "approved": ["in_review", "approved"],
    "action_needed": ["in_review", "action_needed"],
    "rejected": ["in_review", "rejected"],
    "delivering": ["in_review", "approved", "delivering"],
    "live": ["in_review", "approved", "delivering", "live"],
    "takedown_requested": ["in_review", "approved", "delivering", "live", "takedown_requested"],
    "taken_down": ["in_review", "approved", "delivering", "live", "takedown_requested", "taken_down"],
}
_REASONS = {
    "action_needed": "The cover shows a website address; upload artwork without it.",
    "rejected": "The recording matches existing content distributed by another party.",
}
_TITLES = [
    "Northern Lights",
    "Harbour Fog",
    "Glass Orchard",
    "Slow Satellites",
    "Paper Tigers",
    "Copper Rain",
    "Night Ferry",
    "Low Tide Choir",
    "Velvet Static",
]


def seed_catalogue(principal: Principal, composer_id: str) -> None:
    master, broken, cover = audio_bytes(fmt="FLAC"), audio_bytes(seconds=8, rate=22_050, channels=1), cover_bytes()
    release_ids: dict[str, str] = {}
    with session_scope() as session:
        draft = _release(session, principal, "Unfinished Business", cover=None)
        track = _track(session, principal, draft, "Demo Sketch", composer_id)
        tracks.attach_audio(
            session, track, files.save_bytes(session, principal, broken, filename="sketch.wav", purpose="audio")
        )
        for status, title in zip(_PATHS, _TITLES, strict=True):
            release = _release(session, principal, title, cover=cover)
            for number in range(1 if status != "live" else 3):
                track = _track(session, principal, release, f"{title} {number + 1}" if number else title, composer_id)
                audio = files.save_bytes(session, principal, master, filename="master.flac", purpose="audio")
                tracks.attach_audio(session, track, audio)
            release_ids[status] = release.id
    while worker.run_pending():  # QC for real, before the submit checks look at it
        pass
    for status, release_id in release_ids.items():
        with session_scope() as session:
            release, previous = submission.submit(session, principal, release_id)
            document = represent_release(session, release)
            events.emit(session, principal, "release.submitted", document)
            events.emit(
                session, principal, "release.status_changed", document, previous_attributes={"status": previous}
            )
            for target in _PATHS[status]:
                _move(session, principal, release, target)
    seed_smartlinks(principal, release_ids["live"], release_ids["delivering"])


def _release(session: Session, principal: Principal, title: str, *, cover: bytes | None) -> Release:
    release = releases.create(
        session,
        principal,
        {"title": title, "primary_artists": ["Aurora Vale"], "featured_artists": [], "language": "en"},
    )
    year = clock.now().year
    releases.update_details(
        session,
        principal,
        release,
        {
            "label": "OG Demo Label",
            "genre": "electronic",
            "p_line": {"year": year, "owner": "OG Demo Label"},
            "c_line": {"year": year, "owner": "Aurora Vale"},
        },
    )
    releases.update_distribution(
        session,
        release,
        {
            "release_date": (clock.now().date() + timedelta(days=28)).isoformat(),
            "territories": ["WW"],
            "stores": ["spotify", "apple_music", "deezer"],
            "price_tier": "front",
        },
    )
    if cover is not None:
        releases.set_artwork(
            session, release, files.save_bytes(session, principal, cover, filename="cover.jpg", purpose="artwork")
        )
    events.emit(session, principal, "release.created", represent_release(session, release))
    return release


def _track(session: Session, principal: Principal, release: Release, title: str, composer_id: str) -> Any:
    credits = [{"person_id": composer_id, "role": "composer"}, {"person_id": composer_id, "role": "lyricist"}]
    fields = {"release_id": release.id, "title": title, "primary_artists": ["Aurora Vale"], "explicit": False}
    return tracks.create(session, principal, {**fields, "language": "en", "credits": credits})


def _move(session: Session, principal: Principal, release: Release, target: str) -> None:
    previous = releases.transition(session, release, target, reason=_REASONS.get(target))
    if target == "delivering":
        for store in release.stores:
            session.add(
                ReleaseDelivery(
                    account_id=release.account_id, environment=release.environment, release_id=release.id, store=store
                )
            )
    if target in ("live", "takedown_requested", "taken_down"):
        status = {"live": "live", "takedown_requested": "removing", "taken_down": "removed"}[target]
        for delivery in session.exec(_deliveries(release.id)).all():
            delivery.status = status
            session.add(delivery)
    session.flush()
    events.emit(
        session,
        principal,
        "release.status_changed",
        represent_release(session, release),
        previous_attributes={"status": previous},
    )


def _deliveries(release_id: str) -> Any:
    from sqlmodel import col, select  # noqa: PLC0415

    return select(ReleaseDelivery).where(col(ReleaseDelivery.release_id) == release_id)
