"""Submitting a release: every rule of the release rule catalogue at once, then identifiers and the move to
`submitted`.

The rules, their codes and pointers are `server.domain.release_rules` (the table in the spec's `submitRelease`
description); the release representation's `steps` evaluate the same catalogue, so a release whose steps are all
complete passes here. Each failure points into the release as `getRelease` returns it.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlmodel import Session

from server.db.models.releases import Release
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain import release_rules
from server.domain.errors import DomainError, FieldError
from server.domain.releases import ReleaseStatus, tracks_of
from server.principal import Principal
from server.representations.releases import represent as represent_release
from server.services import events, identifiers, releases, sandbox_simulator


def check(session: Session, release: Release, tracks: Sequence[Track], *, today: date) -> list[FieldError]:
    """Every failing rule of the catalogue, as submit reports it."""
    facts = release_rules.load_facts(session, [(release, tracks)])[release.id]
    return [
        FieldError(finding.code, finding.pointer, finding.detail)
        for finding in release_rules.evaluate(release, tracks, facts, today=today)
    ]


def submit(session: Session, principal: Principal, release_id: str) -> tuple[Release, str | None]:
    """Submits the release; returns it and the previous status (None when it was already submitted).

    The row is locked for the check (SELECT … FOR UPDATE on PostgreSQL), so a concurrent second submit waits and then
    finds it `submitted`: it answers with the current state and never submits twice.
    """
    release = releases.get(session, principal, release_id, for_update=True)
    if release.status == ReleaseStatus.SUBMITTED:
        return release, None
    if release.status not in releases.EDITABLE:
        releases.transition(session, release, ReleaseStatus.SUBMITTED)  # raises 409 invalid_state naming the status
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
    previous = releases.transition(session, release, ReleaseStatus.SUBMITTED)
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
