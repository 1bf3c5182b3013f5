"""The request log (`/dashboard/logs`, like Stripe's request logs) and the events page.

The log is written off the request path by `server.services.request_log`; these pages only read it.
"""

import json

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.db.models.dashboard import RequestLogEntry
from server.db.models.events import Event
from server.db.types import utcnow
from server.services import event_log, request_log
from server.services.web_sessions import Viewer
from server.web import pages
from server.web.dashboard.common import page, run, signed_in


@signed_in
async def request_log_page(request: Request, viewer: Viewer) -> Response:
    search = request_log.Search(
        request_id=request.query_params.get("request_id", "")[:128],
        status=request.query_params.get("status", "")[:8],
        path=request.query_params.get("path", "")[:200],
    )

    def read(session: Session) -> tuple[list[RequestLogEntry], dict[str, str]]:
        found = list(request_log.entries(session, viewer.principal(), search))
        return found, request_log.credential_names(session, viewer.principal(), found)

    found, names = await run(read)
    return page(
        request,
        "dashboard/logs.html",
        title="Request log",
        viewer=viewer,
        entries=found,
        names=names,
        search=search,
        retention_days=request_log.RETENTION.days,
    )


@signed_in
async def request_log_entry(request: Request, viewer: Viewer) -> Response:
    raw = str(request.path_params["entry_id"])
    if not raw.isdigit() or len(raw) > 18:
        return pages.not_found("No such request in the log.")
    found = await run(lambda session: request_log.entry(session, viewer.principal(), int(raw)))
    if found is None:
        return pages.not_found("No such request in the log (entries are kept for 7 days).")
    problem = json.dumps(found.problem, indent=2, ensure_ascii=False) if found.problem else None
    names = await run(lambda session: request_log.credential_names(session, viewer.principal(), [found]))
    return page(
        request, "dashboard/log_entry.html", title="Request", viewer=viewer, entry=found, problem=problem, names=names
    )


@signed_in
async def events_page(request: Request, viewer: Viewer) -> Response:
    event_type = request.query_params.get("type", "").strip()[:64] or None

    def read(session: Session) -> list[Event]:
        found = event_log.list_page(
            session,
            viewer.principal(),
            limit=50,
            cursor=None,
            event_type=event_type,
            created_gte=None,
            created_lt=None,
            moment=utcnow(),
        )
        return list(found.items)

    events = await run(read)
    shown = [(event, json.dumps(event.payload, indent=2, ensure_ascii=False)) for event in events]
    return page(request, "dashboard/events.html", title="Events", viewer=viewer, events=shown, event_type=event_type)


ROUTES = {
    "/dashboard/logs": (["GET"], request_log_page),
    "/dashboard/logs/{entry_id}": (["GET"], request_log_entry),
    "/dashboard/events": (["GET"], events_page),
}
