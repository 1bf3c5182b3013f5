"""Smart links: the owner's operations and the two public ones (the page's view and the click redirect)."""

from datetime import date
from typing import Any

import connexion
from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.responses import json_response, no_content, redirect_response
from server.db.engine import session_scope
from server.db.models.smartlinks import SmartLink
from server.openapi.fast_reads import read_only
from server.services import events, smartlink_stats, smartlinks
from server.timefmt import rfc3339


def _iso(moment: Any) -> str | None:
    # Local offset kept (`2026-12-12T00:00:00+01:00`): the owner set release day in that zone.
    return None if moment is None else moment.replace(microsecond=0).isoformat()


def represent(link: SmartLink) -> dict[str, Any]:
    return {
        "id": link.id,
        "object": "smartlink",
        "environment": link.environment,
        "release_id": link.release_id,
        "slug": link.slug,
        "url": smartlinks.page_url(link.slug),
        "title": link.title,
        "artist": link.artist,
        "artwork_url": smartlinks.artwork_url(link),
        "mode": smartlinks.mode(link),
        "destinations": [{"service": d["service"], "url": d["url"]} for d in link.destinations],
        "presave": {
            "enabled": bool(link.presave.get("enabled")),
            "services": list(link.presave.get("services") or []),
            "release_at": _iso(smartlinks.local_release_at(link)),
            "time_zone": str(link.presave.get("time_zone") or "UTC"),
        },
        "status": link.status,
        "disabled_at": rfc3339(link.disabled_at) if link.disabled_at else None,
        "metadata": dict(link.meta),
        "created_at": rfc3339(link.created_at),
        "updated_at": rfc3339(link.updated_at),
    }


def represent_public(link: SmartLink) -> dict[str, Any]:
    """What a fan's browser may see: no ids, no raw destination URLs, no metadata."""
    current_mode = smartlinks.mode(link)
    return {
        "object": "public_smartlink",
        "environment": link.environment,
        "slug": link.slug,
        "url": smartlinks.page_url(link.slug),
        "title": link.title,
        "artist": link.artist,
        "artwork_url": smartlinks.artwork_url(link),
        "mode": current_mode,
        "release_at": _iso(smartlinks.local_release_at(link)),
        "services": [
            {
                "service": button.service,
                "label": smartlinks.LABELS[button.service],
                "action": button.action,
                "click_url": smartlinks.click_path(link.slug, button.service),
            }
            for button in smartlinks.buttons(link, current_mode)
        ],
    }


def _visitor() -> smartlink_stats.Visitor:
    request = connexion.request
    return smartlink_stats.visitor(request.scope.get("client"), request.headers)


def create_smart_link(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        link = smartlinks.create(session, principal, body)
        document = represent(link)
        events.emit(session, principal, "smartlink.created", document)
    return json_response(document, 201)


def update_smart_link(id: str, body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(smartlinks.update(session, principal, id, body)))


def delete_smart_link(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        smartlinks.delete(session, principal, id)
    return no_content()


def list_smart_links(limit: int = 20, cursor: str | None = None, release_id: str | None = None) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        page = smartlinks.list_page(session, principal, limit=limit, cursor=cursor, release_id=release_id)
        return json_response(page.render(represent))


@read_only
def get_smart_link(id: str) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        return json_response(represent(smartlinks.get(session, principal, id)))


def get_smart_link_stats(id: str, to: str | None = None) -> ConnexionResponse:
    principal = caller.current()
    # `from` is a Python keyword, so it cannot be a handler argument: read it from the (validated) query.
    start_text = connexion.request.query_params.get("from")
    start = date.fromisoformat(start_text) if start_text else None
    end = date.fromisoformat(to) if to else None
    with session_scope() as session:
        link = smartlinks.get(session, principal, id)
        first, last = smartlinks.day_range(start, end)
        return json_response(smartlink_stats.stats(session, link, first, last))


def get_public_smart_link(slug: str) -> ConnexionResponse:
    visitor = _visitor()
    with session_scope() as session:
        link = smartlinks.by_slug(session, slug)
        document = represent_public(link)
        smartlink_stats.record(session, link.id, "view", visitor)
    return json_response(document)


def follow_smart_link(slug: str, service: str) -> ConnexionResponse:
    visitor = _visitor()
    with session_scope() as session:
        link = smartlinks.by_slug(session, slug)
        # Only a button the page offers right now can be followed, and only to that link's own destination.
        target = next((b for b in smartlinks.buttons(link, smartlinks.mode(link)) if b.service == service), None)
        if target is None:
            raise smartlinks.no_button(slug, service)
        smartlink_stats.record(session, link.id, "click", visitor, service)
    return redirect_response(target.url)
