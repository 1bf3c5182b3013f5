"""Smart links: one public page per release with a button per service, pre-saves until release day, and the hit log
behind their statistics."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel import delete as sql_delete

from server import clock
from server.db.models.releases import Release
from server.db.models.smartlinks import SmartLink, SmartLinkHit
from server.db.types import utcnow
from server.domain import account_clock
from server.domain.errors import DomainError, FieldError, not_found, validation_failed
from server.domain.smartlinks import PRESAVE_SERVICES, SmartLinkStatus, time_zone
from server.ids import has_prefix, new_id
from server.pagination import Page, paginate
from server.principal import Principal
from server.representations.smart_links import represent
from server.services import artwork, events, releases

_BY_SLUG = select(SmartLink).where(col(SmartLink.slug) == bindparam("slug"))


def _https_url(value: str) -> bool:
    """An absolute HTTPS URL with a host and no credentials: the only kind a fan's browser is ever sent to (no
    `javascript:`, `data:` or scheme-relative tricks)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return (
        value.isascii()  # what a Location header can carry as is
        and parts.scheme == "https"
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in value)
    )


def _release_at(
    presave: dict[str, Any], release: Release, zone: ZoneInfo | None, errors: list[FieldError]
) -> datetime | None:
    if "release_at" in presave:
        moment = datetime.fromisoformat(presave["release_at"])
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone or UTC)
    elif release.release_date is not None:
        # Release day starts at midnight in the link's time zone: the moment fans there can stream it.
        moment = datetime.combine(release.release_date, time(0), tzinfo=zone or UTC)
    else:
        errors.append(
            FieldError(
                "required",
                "/presave/release_at",
                "The release has no release date yet: give release_at, or set the release date first.",
            )
        )
        return None
    if moment <= clock.now():
        pointer = "/presave/release_at"
        errors.append(FieldError("in_past", pointer, "release_at must be in the future (release day has passed)."))
        return None
    return moment.astimezone(UTC)


def _destinations(fields: dict[str, Any], errors: list[FieldError]) -> list[dict[str, Any]]:
    destinations: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, destination in enumerate(fields.get("destinations") or []):
        service, url = destination["service"], destination["url"]
        if service in seen:
            errors.append(FieldError("duplicate", f"/destinations/{index}/service", f"{service} is listed twice."))
        seen.add(service)
        if not _https_url(url):
            errors.append(FieldError("https_required", f"/destinations/{index}/url", "Only HTTPS URLs are allowed."))
        destinations.append({"service": service, "url": url})
    return destinations


def _artwork_url(fields: dict[str, Any], errors: list[FieldError]) -> str | None:
    artwork_url = fields.get("artwork_url")
    if artwork_url is not None and not _https_url(artwork_url):
        errors.append(FieldError("https_required", "/artwork_url", "Only HTTPS URLs are allowed."))
    return artwork_url


def _presave(
    presave_fields: dict[str, Any], release: Release | None, errors: list[FieldError]
) -> tuple[dict[str, Any], datetime | None]:
    """The stored pre-save settings and the switch instant, validated as one (create and update alike)."""
    zone_name = presave_fields.get("time_zone", "UTC")
    zone = time_zone(zone_name)
    if zone is None:
        errors.append(FieldError("invalid_time_zone", "/presave/time_zone", f"{zone_name} is no IANA time zone."))
    release_at = None
    if presave_fields["enabled"] and release is not None:
        release_at = _release_at(presave_fields, release, zone, errors)
    stored = {
        "enabled": bool(presave_fields["enabled"]),
        "services": list(presave_fields.get("services") or PRESAVE_SERVICES),
        "time_zone": zone_name,
    }
    return stored, release_at


def create(session: Session, principal: Principal, fields: dict[str, Any]) -> SmartLink:
    errors: list[FieldError] = []
    release: Release | None = None
    try:
        release = releases.get(session, principal, fields["release_id"])
    except DomainError:
        errors.append(FieldError("unknown_release", "/release_id", "No release with this id exists."))
    destinations = _destinations(fields, errors)
    artwork_url = _artwork_url(fields, errors)
    presave, release_at = _presave(fields.get("presave") or {"enabled": False}, release, errors)
    if errors or release is None:
        raise validation_failed(errors)

    slug = fields["slug"]
    if session.exec(_BY_SLUG, params={"slug": slug}).first() is not None:
        raise _slug_taken(slug)
    link = SmartLink(
        id=new_id("sl"),
        account_id=principal.account_id,
        environment=principal.environment,
        release_id=release.id,
        slug=slug,
        title=fields.get("title") or release.title,
        artist=", ".join(release.primary_artists),
        artwork_url=artwork_url,
        artwork=artwork.for_release(session, release),
        destinations=destinations,
        presave=presave,
        release_at=release_at,
        meta=dict(fields.get("metadata") or {}),
    )
    session.add(link)
    try:
        # The unique index decides between two concurrent creates of one slug; the check above only gives the
        # common case a clean answer without a failed statement.
        session.flush()
    except IntegrityError as exc:
        raise _slug_taken(slug) from exc
    return link


def update(session: Session, principal: Principal, link_id: str, fields: dict[str, Any]) -> SmartLink:
    """Changes what the body names, with create's validation; `status` disables (or re-enables) the public page.
    Emits `smartlink.updated` with the changed fields' previous values, or nothing when nothing changed."""
    link = get(session, principal, link_id)
    before = represent(link)
    errors: list[FieldError] = []
    if "destinations" in fields:
        link.destinations = _destinations(fields, errors)
    if "artwork_url" in fields:
        link.artwork_url = _artwork_url(fields, errors)  # null: back to the release's cover
    if "presave" in fields:
        release = session.get(Release, link.release_id)
        link.presave, link.release_at = _presave(fields["presave"], release, errors)
    if errors:
        raise validation_failed(errors)
    if "title" in fields:
        link.title = fields["title"]
    if "metadata" in fields:
        link.meta = dict(fields["metadata"] or {})
    if "status" in fields and fields["status"] != link.status:
        link.status = fields["status"]
        link.disabled_at = utcnow() if link.status == SmartLinkStatus.DISABLED else None
    after = represent(link)
    previous = {key: value for key, value in before.items() if key != "updated_at" and after.get(key) != value}
    if not previous:
        return link
    link.updated_at = utcnow()
    session.add(link)
    session.flush()
    events.emit(session, principal, "smartlink.updated", represent(link), previous_attributes=previous)
    return link


def delete(session: Session, principal: Principal, link_id: str) -> None:
    delete_link(session, principal, get(session, principal, link_id))


def delete_link(session: Session, principal: Principal, link: SmartLink) -> None:
    """Deletes the link and its statistics; its slug is free again and its public URLs answer 404. Emits
    `smartlink.deleted` with the link as it was."""
    document = represent(link)
    session.exec(sql_delete(SmartLinkHit).where(col(SmartLinkHit.smartlink_id) == link.id))
    session.delete(link)
    session.flush()
    events.emit(session, principal, "smartlink.deleted", document)


def _slug_taken(slug: str) -> DomainError:
    return DomainError("conflict", f"The slug {slug} is taken; slugs are unique across the platform.")


def get(session: Session, principal: Principal, link_id: str) -> SmartLink:
    link = session.get(SmartLink, link_id) if has_prefix(link_id, "sl") else None
    if link is None or (link.account_id, link.environment) != (principal.account_id, principal.environment):
        raise not_found("smart link", link_id)
    return link


def by_slug(session: Session, slug: str) -> SmartLink:
    """The public lookup: any tenant's link, since the public URL carries only the slug. A disabled link is `410
    smartlink_disabled` (it existed and is gone on purpose; its slug stays reserved), a deleted or never-created
    one `404 not_found`.

    A sandbox link is shown on its account's test clock: from here on the request (or block) reads that clock, so
    the pre-save switch, countdowns and the day a visit or click counts on follow the sandbox's time, as the
    owner's API calls do (`server.clock`). Production links read real time.
    """
    link = session.exec(_BY_SLUG, params={"slug": slug}).first()
    if link is None:
        raise DomainError("not_found", f"No smart link with slug {slug} exists.")
    if link.status == SmartLinkStatus.DISABLED:
        raise DomainError("smartlink_disabled", f"The smart link {slug} has been disabled by its owner.")
    account_clock.enter(session, link.account_id, link.environment)
    return link


def no_button(slug: str, service: str) -> DomainError:
    return DomainError("not_found", f"The smart link {slug} has no {service} button.")


def list_page(
    session: Session, principal: Principal, *, limit: int, cursor: str | None, release_id: str | None
) -> Page[SmartLink]:
    where = [col(SmartLink.account_id) == principal.account_id, col(SmartLink.environment) == principal.environment]
    if release_id is not None:
        where.append(col(SmartLink.release_id) == release_id)
    filters = {"release_id": release_id, "env": principal.environment}
    return paginate(
        session, SmartLink, where=where, list_name="smartlinks", filters=filters, limit=limit, cursor=cursor
    )


def day_range(start: date | None, end: date | None) -> tuple[date, date]:
    """`from`/`to` of the stats: `to` defaults to today (UTC), `from` to 29 days before; at most 366 days."""
    end = end or clock.now().astimezone(UTC).date()
    start = start or end - timedelta(days=29)
    if end < start:
        raise validation_failed([FieldError("range", "query:to", "to must not be before from.")])
    if (end - start).days + 1 > 366:
        raise validation_failed([FieldError("range", "query:from", "The range may span at most 366 days.")])
    return start, end


def create_and_announce(session: Session, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """`smartlink.created`; returns the link as the API shows it."""
    document = represent(create(session, principal, fields))
    events.emit(session, principal, "smartlink.created", document)
    return document
