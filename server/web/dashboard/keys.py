"""The API keys page: list, create, rotate (the old secret keeps working for 7 days), revoke.

A new or rotated secret is rendered once, into the answer of the POST that made it (never stored, never in a URL,
`Cache-Control: no-store`). Rotate and revoke each ask for confirmation on a page of their own, so the confirm
step works without JavaScript.
"""

from datetime import datetime

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.db.models.api_keys import ApiKey
from server.db.types import utcnow
from server.domain.api_keys import status_of
from server.problems import DomainError
from server.scopes import SCOPES
from server.services import api_keys
from server.services.web_sessions import Viewer
from server.web import pages
from server.web.dashboard.common import checked_form, field, forbidden, page, run, signed_in

_ROTATION_GRACE_SECONDS = int(api_keys.ROTATION_GRACE.total_seconds())


def _rows(keys: list[ApiKey], now: datetime) -> list[dict[str, object]]:
    return [
        {
            "key": key,
            "status": status_of(key, now),
            "grace_end": key.previous_expires_at
            if key.previous_expires_at is not None and key.previous_expires_at > now and key.revoked_at is None
            else None,
        }
        for key in keys
    ]


async def _list_page(
    request: Request,
    viewer: Viewer,
    *,
    issued: api_keys.IssuedKey | None = None,
    issued_action: str = "",
    error: str | None = None,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    name: str = "",
    checked: frozenset[str] = frozenset(),
    status_code: int = 200,
) -> Response:
    def read(session: Session) -> list[ApiKey]:
        return list(api_keys.list_page(session, viewer.principal(), limit=100, cursor=None, status=None).items)

    keys = await run(read)
    return page(
        request,
        "dashboard/api_keys.html",
        status_code=status_code,
        title="API keys",
        viewer=viewer,
        rows=_rows(keys, utcnow()),
        scopes=SCOPES,
        issued=issued,
        issued_action=issued_action,
        error=error,
        notice=notice,
        errors=errors or {},
        name=name,
        checked=checked,
    )


@signed_in
async def api_keys_page(request: Request, viewer: Viewer) -> Response:
    if request.method == "GET":
        return await _list_page(request, viewer)
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    name = field(form, "name").strip()
    scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
    errors = {}
    if not name:
        errors["name"] = "Give the key a name, e.g. the integration that uses it."
    elif len(name) > 100:
        errors["name"] = "Use at most 100 characters."
    if not scopes:
        errors["scopes"] = "Choose at least one scope."
    if errors:
        return await _list_page(
            request,
            viewer,
            error="The key was not created; check the form.",
            errors=errors,
            name=name,
            checked=frozenset(scopes),
            status_code=422,
        )
    try:
        issued = await run(
            lambda session: api_keys.create_for(session, viewer.principal(), name=name, scopes=scopes, expires_at=None)
        )
    except DomainError as problem:
        return await _list_page(
            request, viewer, error=problem.detail, name=name, checked=frozenset(scopes), status_code=problem.status
        )
    return await _list_page(request, viewer, issued=issued, issued_action="created")


async def _confirm(request: Request, viewer: Viewer, action: str) -> Response:
    key_id = str(request.path_params["key_id"])
    try:
        key = await run(lambda session: api_keys.get(session, viewer.principal(), key_id))
    except DomainError:
        return pages.not_found("No such API key in this environment.")
    if request.method == "GET":
        return page(
            request,
            "dashboard/api_key_confirm.html",
            title=f"{action.capitalize()} API key",
            viewer=viewer,
            key=key,
            action=action,
            grace_days=api_keys.ROTATION_GRACE.days,
        )
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    try:
        if action == "rotate":
            issued = await run(
                lambda session: api_keys.rotate(session, viewer.principal(), key_id, expires_in=_ROTATION_GRACE_SECONDS)
            )
            return await _list_page(request, viewer, issued=issued, issued_action="rotated")
        revoked = await run(lambda session: api_keys.revoke(session, viewer.principal(), key_id))
    except DomainError as problem:
        return await _list_page(request, viewer, error=problem.detail, status_code=problem.status)
    return await _list_page(request, viewer, notice=f"“{revoked.name}” was revoked: its secrets no longer work.")


@signed_in
async def rotate(request: Request, viewer: Viewer) -> Response:
    return await _confirm(request, viewer, "rotate")


@signed_in
async def revoke(request: Request, viewer: Viewer) -> Response:
    return await _confirm(request, viewer, "revoke")


ROUTES = {
    "/dashboard/api-keys": (["GET", "POST"], api_keys_page),
    "/dashboard/api-keys/{key_id}/rotate": (["GET", "POST"], rotate),
    "/dashboard/api-keys/{key_id}/revoke": (["GET", "POST"], revoke),
}
