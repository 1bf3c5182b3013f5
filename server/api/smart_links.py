"""Smart links: the owner's operations and the two public ones (the page's view and the click redirect)."""

from datetime import date
from typing import Any

import connexion
from connexion.lifecycle import ConnexionResponse

from server import principal as caller
from server.api.responses import json_response, no_content, redirect_response
from server.db.engine import session_scope
from server.domain import smartlinks as smartlink_rules
from server.openapi.fast_reads import read_only
from server.representations.smart_links import represent, represent_public
from server.services import smartlink_stats, smartlinks


def _visitor() -> smartlink_stats.Visitor:
    request = connexion.request
    return smartlink_stats.visitor(request.scope.get("client"), request.headers)


def create_smart_link(body: dict[str, Any]) -> ConnexionResponse:
    principal = caller.current()
    with session_scope() as session:
        document = smartlinks.create_and_announce(session, principal, body)
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


@read_only
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
        target = next(
            (b for b in smartlink_rules.buttons(link, smartlink_rules.mode(link)) if b.service == service), None
        )
        if target is None:
            raise smartlinks.no_button(slug, service)
        smartlink_stats.record(session, link.id, "click", visitor, service)
    return redirect_response(target.url)
