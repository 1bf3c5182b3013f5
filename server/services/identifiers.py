"""ISRC and UPC/EAN: assignment of new numbers from our own ranges (their formats: `server.domain.identifiers`)."""

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.db.models.releases import IdentifierCounter, Release
from server.db.models.tracks import Track
from server.domain.errors import DomainError
from server.domain.identifiers import gtin_check_digit

# Our registrant code (ISRC) and GS1 company prefix (UPC). Sandbox numbers come from ranges that cannot reach a
# store: ISRC registrant "OGX" and GTIN-13 prefix 200 (GS1 "restricted circulation", never a real product).
_ISRC_PREFIX = {"production": "DEOGR", "sandbox": "DEOGX"}
_UPC_PREFIX = {"production": "4262459", "sandbox": "2000000"}


def ensure_isrc_free(session: Session, environment: str, isrc: str, track_id: str | None) -> None:
    """An ISRC names one recording on the whole platform (per environment): refused with `409 conflict` when any
    other track has it, in this account or another. The answer is the same either way, so it never tells whose it
    is (or that another account exists). The unique constraint `uq_tracks_environment_isrc` backs this up."""
    where = [col(Track.environment) == environment, col(Track.isrc) == isrc]
    if track_id is not None:
        where.append(col(Track.id) != track_id)
    if session.exec(select(Track.id).where(*where).limit(1)).first() is not None:
        raise isrc_taken(isrc)


def isrc_taken(isrc: str) -> DomainError:
    return DomainError(
        "conflict", f"The ISRC {isrc} is already used by another recording on the platform.", pointer="/isrc"
    )


def ensure_upc_free(session: Session, environment: str, upc: str, release_id: str | None) -> None:
    """A UPC names one product on the whole platform (per environment); see `ensure_isrc_free`."""
    where = [col(Release.environment) == environment, col(Release.upc) == upc]
    if release_id is not None:
        where.append(col(Release.id) != release_id)
    if session.exec(select(Release.id).where(*where).limit(1)).first() is not None:
        raise upc_taken(upc)


def upc_taken(upc: str) -> DomainError:
    return DomainError("conflict", f"The UPC {upc} is already used by another release on the platform.", pointer="/upc")


def _take(session: Session, name: str) -> int:
    """The next number of a series, atomically (the UPDATE takes the row lock on PostgreSQL)."""
    if session.get(IdentifierCounter, name) is None:
        session.add(IdentifierCounter(name=name, next_value=1))
        session.flush()
    session.exec(
        update(IdentifierCounter)
        .where(col(IdentifierCounter.name) == name)
        .values(next_value=IdentifierCounter.next_value + 1)
    )
    counter = session.get(IdentifierCounter, name, populate_existing=True)
    assert counter is not None
    return counter.next_value - 1


def assign_upc(session: Session, environment: str) -> str:
    prefix = _UPC_PREFIX[environment]
    while True:
        item = _take(session, f"upc:{environment}")
        body = f"{prefix}{item:05d}"
        upc = body + str(gtin_check_digit(body))
        taken = session.exec(
            select(Release.id).where(col(Release.upc) == upc, col(Release.environment) == environment).limit(1)
        ).first()
        if taken is None:  # a client may have brought this number themselves
            return upc


def assign_isrc(session: Session, environment: str, year: int) -> str:
    prefix = _ISRC_PREFIX[environment]
    yy = f"{year % 100:02d}"
    while True:
        designation = _take(session, f"isrc:{environment}:{yy}")
        isrc = f"{prefix}{yy}{designation:05d}"
        taken = session.exec(
            select(Track.id).where(col(Track.isrc) == isrc, col(Track.environment) == environment).limit(1)
        ).first()
        if taken is None:
            return isrc
