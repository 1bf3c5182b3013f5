"""ISRC and UPC/EAN: validation, canonical form, and assignment of new numbers from our own ranges."""

import re

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.db.models.releases import IdentifierCounter, Release
from server.db.models.tracks import Track
from server.problems import ApiProblem

ISRC_CANONICAL = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")

# Our registrant code (ISRC) and GS1 company prefix (UPC). Sandbox numbers come from ranges that cannot reach a
# store: ISRC registrant "OGX" and GTIN-13 prefix 200 (GS1 "restricted circulation", never a real product).
_ISRC_PREFIX = {"production": "DEOGR", "sandbox": "DEOGX"}
_UPC_PREFIX = {"production": "4262459", "sandbox": "2000000"}


def canonical_isrc(value: str) -> str:
    return value.replace("-", "").upper()


def is_valid_isrc(value: str) -> bool:
    return bool(ISRC_CANONICAL.match(value))


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3, 1, 3, … from the right)."""
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_upc(value: str) -> bool:
    return value.isdigit() and len(value) in (12, 13) and gtin_check_digit(value[:-1]) == int(value[-1])


def ensure_isrc_free(session: Session, environment: str, isrc: str, track_id: str | None) -> None:
    """An ISRC names one recording on the whole platform (per environment): refused with `409 conflict` when any
    other track has it, in this account or another. The answer is the same either way, so it never tells whose it
    is (or that another account exists). The unique constraint `uq_tracks_environment_isrc` backs this up."""
    where = [col(Track.environment) == environment, col(Track.isrc) == isrc]
    if track_id is not None:
        where.append(col(Track.id) != track_id)
    if session.exec(select(Track.id).where(*where).limit(1)).first() is not None:
        raise isrc_taken(isrc)


def isrc_taken(isrc: str) -> ApiProblem:
    return ApiProblem(
        409, "conflict", f"The ISRC {isrc} is already used by another recording on the platform.", pointer="/isrc"
    )


def ensure_upc_free(session: Session, environment: str, upc: str, release_id: str | None) -> None:
    """A UPC names one product on the whole platform (per environment); see `ensure_isrc_free`."""
    where = [col(Release.environment) == environment, col(Release.upc) == upc]
    if release_id is not None:
        where.append(col(Release.id) != release_id)
    if session.exec(select(Release.id).where(*where).limit(1)).first() is not None:
        raise upc_taken(upc)


def upc_taken(upc: str) -> ApiProblem:
    return ApiProblem(
        409, "conflict", f"The UPC {upc} is already used by another release on the platform.", pointer="/upc"
    )


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
