"""Mock catalogue: a release in every status, one complete draft ready to submit, tracks with passed and failed QC,
real media files.

The audio and artwork are generated here (numpy + libsndfile, Pillow) and go through the same file store, QC
analysis and submission checks as uploads, so what the mock data shows is what the API really does. Everything
happens in the caller's transaction.
"""

from datetime import timedelta
from functools import cache

from sqlmodel import Session, col, select

from server import clock
from server.db.models.releases import Release, ReleaseDelivery
from server.db.models.tracks import Track
from server.domain.releases import (
    CopyrightLine,
    DistributionStore,
    Genre,
    PriceTier,
    ReleaseCreate,
    ReleaseDetailsUpdate,
    ReleaseDistributionUpdate,
    ReleaseStatus,
)
from server.media import audio_bytes, cover_bytes
from server.principal import Principal
from server.qc import worker
from server.representations.releases import represent as represent_release
from server.services import events, files, releases, submission, tracks

# The path each mock release takes after submission, named by the status it ends in.
PATHS: dict[str, list[str]] = {
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
REASONS = {
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
READY_DRAFT_TITLE = "Ready When You Are"
STORES = (DistributionStore.SPOTIFY, DistributionStore.APPLE_MUSIC, DistributionStore.DEEZER)


@cache
def _media() -> tuple[bytes, bytes, bytes]:
    """The master, a broken sketch and the cover: generated once per process (deterministic bytes)."""
    return audio_bytes(fmt="FLAC"), audio_bytes(seconds=8, rate=22_050, channels=1), cover_bytes()


def seed_catalogue(session: Session, principal: Principal, composer_id: str) -> dict[str, str]:
    """Creates the catalogue; returns the release id per status (plus `draft_ready`)."""
    master, broken, cover = _media()
    release_ids: dict[str, str] = {}
    draft = _release(session, principal, "Unfinished Business", cover=None)
    sketch = _track(session, principal, draft, "Demo Sketch", composer_id)
    tracks.attach_audio(
        session, sketch, files.save_bytes(session, principal, broken, filename="sketch.wav", purpose="audio")
    )
    all_tracks: list[Track] = [sketch]
    all_releases: list[Release] = []
    for status, title in [("draft_ready", READY_DRAFT_TITLE), *zip(PATHS, _TITLES, strict=True)]:
        release = _release(session, principal, title, cover=cover)
        all_releases.append(release)
        for number in range(1 if status != "live" else 3):
            track = _track(session, principal, release, f"{title} {number + 1}" if number else title, composer_id)
            audio = files.save_bytes(session, principal, master, filename="master.flac", purpose="audio")
            tracks.attach_audio(session, track, audio)
            all_tracks.append(track)
        release_ids[status] = release.id
    worker.complete_inline(session, tracks=all_tracks, releases=all_releases)  # QC for real, before submit checks
    for release in all_releases:
        releases.refresh_derived(session, release)
    for status, release_id in release_ids.items():
        if status == "draft_ready":
            continue
        release, previous = submission.submit(session, principal, release_id)
        document = represent_release(session, release)
        events.emit(session, principal, "release.submitted", document)
        events.emit(session, principal, "release.status_changed", document, previous_attributes={"status": previous})
        for target in PATHS[status]:
            _move(session, principal, release, target)
    return release_ids


def _release(session: Session, principal: Principal, title: str, *, cover: bytes | None) -> Release:
    release = releases.create(
        session, principal, ReleaseCreate(title=title, primary_artists=("Aurora Vale",), language="en")
    )
    today = clock.now().date()
    releases.update_details(
        session,
        principal,
        release,
        ReleaseDetailsUpdate(
            label="OG Demo Label",
            genre=Genre.ELECTRONIC,
            p_line=CopyrightLine(year=today.year, owner="OG Demo Label"),
            c_line=CopyrightLine(year=today.year, owner="Aurora Vale"),
        ),
    )
    releases.update_distribution(
        session,
        release,
        ReleaseDistributionUpdate(
            release_date=today + timedelta(days=28),
            territories=("WW",),
            stores=STORES,
            price_tier=PriceTier.FRONT,
        ),
    )
    if cover is not None:
        releases.set_artwork(
            session, release, files.save_bytes(session, principal, cover, filename="cover.jpg", purpose="artwork")
        )
    events.emit(session, principal, "release.created", represent_release(session, release))
    return release


def _track(session: Session, principal: Principal, release: Release, title: str, composer_id: str) -> Track:
    credits = [{"person_id": composer_id, "role": "composer"}, {"person_id": composer_id, "role": "lyricist"}]
    fields = {"release_id": release.id, "title": title, "primary_artists": ["Aurora Vale"], "explicit": False}
    return tracks.create(session, principal, {**fields, "language": "en", "credits": credits})


def _move(session: Session, principal: Principal, release: Release, target: str) -> None:
    previous = releases.transition(session, release, ReleaseStatus(target), reason=REASONS.get(target))
    if target == "delivering":
        for store in release.stores:
            session.add(
                ReleaseDelivery(
                    account_id=release.account_id, environment=release.environment, release_id=release.id, store=store
                )
            )
    if target in ("live", "takedown_requested", "taken_down"):
        status = {"live": "live", "takedown_requested": "removing", "taken_down": "removed"}[target]
        deliveries = select(ReleaseDelivery).where(col(ReleaseDelivery.release_id) == release.id)
        for delivery in session.exec(deliveries).all():
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
