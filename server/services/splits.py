"""Royalty splits: versioned, per release or per track, never retroactive."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from server.db.models.persons import Person
from server.db.models.releases import Release
from server.db.models.splits import Split, SplitShare
from server.db.models.tracks import Track
from server.db.types import utcnow
from server.domain.errors import DomainError, FieldError, invalid_state, not_found, validation_failed
from server.domain.persons import PersonRole
from server.domain.releases import ReleaseStatus
from server.domain.splits import ShareStatus, SplitCreate, SplitStatus
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.representations.splits import represent
from server.services import events

TOTAL_BPS = 10_000
# A taken-down release earns nothing new; splitting it would only confuse its statements.
_CLOSED_RELEASE_STATES = frozenset({ReleaseStatus.TAKEN_DOWN})


def _owned(row: Any, principal: Principal) -> bool:
    return row is not None and (row.account_id, row.environment) == (principal.account_id, principal.environment)


def _validate(
    session: Session, principal: Principal, body: SplitCreate, today: date
) -> tuple[Release | None, Track | None, date, list[FieldError]]:
    errors: list[FieldError] = []
    release_id, track_id = body.release_id, body.track_id
    release: Release | None = None
    track: Track | None = None
    if (release_id is None) == (track_id is None):
        errors.append(
            FieldError("split_target_required", "/release_id", "Give exactly one of release_id and track_id.")
        )
    elif release_id is not None:
        release = session.get(Release, release_id) if has_prefix(str(release_id), "rel") else None
        if not _owned(release, principal):
            release = None
            errors.append(FieldError("unknown_release", "/release_id", f"No release with id {release_id} exists."))
    else:
        track = session.get(Track, track_id) if has_prefix(str(track_id), "trk") else None
        if not _owned(track, principal):
            track = None
            errors.append(FieldError("unknown_track", "/track_id", f"No track with id {track_id} exists."))

    shares = body.shares
    total = sum(share.share_bps for share in shares)
    if total != TOTAL_BPS:
        errors.append(
            FieldError("shares_total_invalid", "/shares", f"The shares total {total} basis points, not {TOTAL_BPS}.")
        )
    seen: set[tuple[str, PersonRole]] = set()
    for index, share in enumerate(shares):
        pair = (share.person_id, share.role)
        if pair in seen:
            errors.append(
                FieldError(
                    "duplicate_share",
                    f"/shares/{index}",
                    f"{share.person_id} already has a {share.role} share in this split.",
                )
            )
        seen.add(pair)
    person_ids = sorted({share.person_id for share in shares})
    known = set(
        session.exec(
            select(Person.id).where(
                col(Person.id).in_(person_ids),
                col(Person.account_id) == principal.account_id,
                col(Person.environment) == principal.environment,
            )
        ).all()
    )
    for index, share in enumerate(shares):
        if share.person_id not in known:
            errors.append(
                FieldError(
                    "unknown_person", f"/shares/{index}/person_id", f"No person with id {share.person_id} exists."
                )
            )

    effective_from = body.effective_from or today
    if effective_from < today:
        errors.append(
            FieldError(
                "effective_from_in_past",
                "/effective_from",
                f"Splits are never retroactive: effective_from must be {today.isoformat()} or later.",
            )
        )
    return release, track, effective_from, errors


def _active_for_update(session: Session, release_id: str | None, track_id: str | None) -> Split | None:
    target = col(Split.track_id) == track_id if track_id else col(Split.release_id) == release_id
    return session.exec(select(Split).where(target, col(Split.status) == SplitStatus.ACTIVE).with_for_update()).first()


def create(session: Session, principal: Principal, body: SplitCreate) -> tuple[Split, list[SplitShare]]:
    now = utcnow()
    release, track, effective_from, errors = _validate(session, principal, body, now.date())
    current = None
    if release is not None or track is not None:
        current = _active_for_update(session, release.id if release else None, track.id if track else None)
        if current is not None and effective_from < current.effective_from:
            errors.append(
                FieldError(
                    "effective_from_in_past",
                    "/effective_from",
                    f"Version {current.version} applies from {current.effective_from.isoformat()}; "
                    "a new version cannot start before it.",
                )
            )
    if errors:
        raise validation_failed(errors)
    owning_release = release or (session.get(Release, track.release_id) if track and track.release_id else None)
    if owning_release is not None and owning_release.status in _CLOSED_RELEASE_STATES:
        raise invalid_state(
            "release", owning_release.status, f"Release {owning_release.id} was taken down; it cannot be split."
        )

    split = Split(
        id=new_id("spl"),
        account_id=principal.account_id,
        environment=principal.environment,
        release_id=release.id if release else None,
        track_id=track.id if track else None,
        version=(current.version + 1) if current else 1,
        status=SplitStatus.ACTIVE,
        effective_from=effective_from,
        meta=dict(body.metadata),
        created_at=now,
        updated_at=now,
    )
    try:
        if current is not None:
            # Free the "one active version" slot first, then point the old version at its successor once the
            # successor exists (the foreign key needs it).
            current.status = SplitStatus.SUPERSEDED
            current.superseded_at = now
            current.updated_at = now
            session.add(current)
            session.flush()
        session.add(split)
        session.flush()
        if current is not None:
            current.superseded_by = split.id
            session.add(current)
        shares = [
            SplitShare(
                account_id=principal.account_id,
                environment=principal.environment,
                split_id=split.id,
                person_id=share.person_id,
                role=share.role,
                share_bps=share.share_bps,
                acceptance_status=ShareStatus.PENDING,
                created_at=now,
                updated_at=now,
            )
            for share in body.shares
        ]
        session.add_all(shares)
        session.flush()
    except IntegrityError as exc:
        # Two creates for the same target raced; the other one won the version number.
        raise DomainError("conflict", "Another split version for this target was created at the same time.") from exc
    return split, shares


def get(session: Session, principal: Principal, split_id: str) -> Split:
    split = session.get(Split, split_id) if has_prefix(split_id, "spl") else None
    if split is None or not _owned(split, principal):
        raise not_found("split", split_id)
    return split


def shares_of(session: Session, splits: Sequence[Split]) -> dict[str, list[SplitShare]]:
    """The shares of a page of splits, in one query, each split's in the order they were given."""
    by_split: dict[str, list[SplitShare]] = defaultdict(list)
    ids = [split.id for split in splits]
    if ids:
        rows = session.exec(
            select(SplitShare).where(col(SplitShare.split_id).in_(ids)).order_by(col(SplitShare.id))
        ).all()
        for share in rows:
            by_split[share.split_id].append(share)
    return by_split


def list_page(
    session: Session,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
    release_id: str | None,
    track_id: str | None,
    status: str | None,
) -> Page[Split]:
    where: list[Any] = [col(Split.account_id) == principal.account_id, col(Split.environment) == principal.environment]
    if release_id is not None:
        where.append(col(Split.release_id) == release_id)
    if track_id is not None:
        where.append(col(Split.track_id) == track_id)
    if status is not None:
        where.append(col(Split.status) == status)
    filters = {"env": principal.environment, "release_id": release_id, "track_id": track_id, "status": status}
    return paginate(session, Split, where=where, list_name="splits", filters=filters, limit=limit, cursor=cursor)


def list_release_page(
    session: Session, principal: Principal, release_id: str, *, limit: int, cursor: str | None
) -> Page[Split]:
    release = session.get(Release, release_id) if has_prefix(str(release_id), "rel") else None
    if release is None or not _owned(release, principal):
        raise not_found("release", release_id)
    track_ids = select(Track.id).where(col(Track.release_id) == release.id)
    where: list[Any] = [
        col(Split.account_id) == principal.account_id,
        col(Split.environment) == principal.environment,
        col(Split.status) == SplitStatus.ACTIVE,
        or_(col(Split.release_id) == release.id, col(Split.track_id).in_(track_ids)),
    ]
    filters = {"env": principal.environment, "release": release.id}
    return paginate(
        session, Split, where=where, list_name="release_splits", filters=filters, limit=limit, cursor=cursor
    )


def create_and_announce(session: Session, principal: Principal, body: SplitCreate) -> dict[str, Any]:
    """`split.created` (a new version); returns the split as the API shows it."""
    split, shares = create(session, principal, body)
    document = represent(split, shares)
    events.emit(session, principal, "split.created", document)
    return document
