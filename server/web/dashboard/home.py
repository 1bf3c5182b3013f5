"""The dashboard's overview, the environment switch and the production access request."""

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.db.models.dashboard import ProductionAccessRequest
from server.problems import DomainError
from server.services import api_keys, production_access, web_sessions
from server.services.web_sessions import Viewer
from server.web.dashboard.common import checked_form, field, forbidden, page, redirect, run, signed_in


@signed_in
async def overview(request: Request, viewer: Viewer) -> Response:
    def read(session: Session) -> tuple[int, ProductionAccessRequest | None]:
        keys = api_keys.list_page(session, viewer.principal(), limit=100, cursor=None, status=None).items
        live = sum(1 for key in keys if key.revoked_at is None)
        return live, production_access.latest_for(session, viewer.account.id)

    key_count, access_request = await run(read)
    return page(
        request,
        "dashboard/home.html",
        title="Overview",
        viewer=viewer,
        key_count=key_count,
        access_request=access_request,
        base_url=request.base_url,
    )


@signed_in
async def switch_environment(request: Request, viewer: Viewer) -> Response:
    form = await checked_form(request)
    if form is None:
        return forbidden(request)
    environment = field(form, "environment")
    back = field(form, "back")
    back = back if back.startswith("/dashboard") and "//" not in back else "/dashboard"
    if environment == "production" and not viewer.account.production_access:
        return redirect("/dashboard/production-access")
    try:
        await run(
            lambda session: web_sessions.switch_environment(session, session.merge(viewer.web_session), environment)
        )
    except DomainError:
        return redirect("/dashboard")
    return redirect(back)


@signed_in
async def request_production(request: Request, viewer: Viewer) -> Response:
    context: dict[str, object] = {"use_case": "", "expected_volume": "", "errors": {}, "error": None}
    status_code = 200
    if request.method == "POST":
        form = await checked_form(request)
        if form is None:
            return forbidden(request)
        use_case, volume = field(form, "use_case"), field(form, "expected_volume")
        try:
            await run(
                lambda session: production_access.request_access(
                    session, session.merge(viewer.user), use_case=use_case, expected_volume=volume
                )
            )
            return redirect("/dashboard/production-access")
        except DomainError as problem:
            status_code = problem.status
            context = {
                "use_case": use_case,
                "expected_volume": volume,
                "errors": {error.pointer.lstrip("/"): error.detail for error in problem.errors},
                "error": problem.detail,
            }
    latest = await run(lambda session: production_access.latest_for(session, viewer.account.id))
    return page(
        request,
        "dashboard/production_access.html",
        status_code=status_code,
        title="Production access",
        viewer=viewer,
        access_request=latest,
        **context,
    )


ROUTES = {
    "/dashboard": (["GET"], overview),
    "/dashboard/environment": (["POST"], switch_environment),
    "/dashboard/production-access": (["GET", "POST"], request_production),
}
