"""The OAuth apps page (GitHub's developer settings as the anchor): register an application, rotate its secret,
see who authorised it and revoke their grants.

A client secret is stored only as a hash, so it is shown once, at registration and at each rotation; there is no
"reveal" for it (rotate instead).
"""

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from server.db.models.oauth import OAuthClient
from server.problems import DomainError
from server.scopes import SCOPES
from server.services import oauth_clients
from server.services.web_sessions import Viewer
from server.web import pages
from server.web.dashboard.common import checked_form, field, forbidden, page, redirect, run, signed_in

_NOT_FOUND = "No such OAuth application in this environment."


@signed_in
async def apps_page(request: Request, viewer: Viewer) -> Response:
    values: dict[str, object] = {"name": "", "redirect_uris": "", "public": False, "scopes": list(SCOPES)}
    error: str | None = None
    status_code = 200
    if request.method == "POST":
        form = await checked_form(request)
        if form is None:
            return forbidden(request)
        name = field(form, "name").strip()
        uris = [line.strip() for line in field(form, "redirect_uris").splitlines() if line.strip()]
        public = field(form, "client_type") == "public"
        scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
        values = {"name": name, "redirect_uris": "\n".join(uris), "public": public, "scopes": scopes}
        if not name or not scopes:
            error = "Give the application a name and at least one scope."
        else:

            def register(session: Session) -> oauth_clients.RegisteredClient:
                account = session.merge(viewer.account)
                return oauth_clients.register(
                    session,
                    account=account,
                    environment=viewer.environment,
                    name=name[:100],
                    redirect_uris=uris,
                    public=public,
                    scopes=scopes,
                )

            try:
                registered = await run(register)
                return await _app_page(request, viewer, registered.client.id, secret=registered.secret, fresh=True)
            except DomainError as problem:
                error = problem.detail
        status_code = 422
    apps = await run(lambda session: oauth_clients.list_for(session, viewer.principal()))
    return page(
        request,
        "dashboard/oauth_apps.html",
        status_code=status_code,
        title="OAuth apps",
        viewer=viewer,
        apps=apps,
        all_scopes=SCOPES,
        values=values,
        error=error,
    )


async def _app_page(
    request: Request,
    viewer: Viewer,
    client_id: str,
    *,
    secret: str | None = None,
    fresh: bool = False,
    notice: str | None = None,
) -> Response:
    def read(session: Session) -> tuple[OAuthClient, list[oauth_clients.Authorisation]]:
        client = oauth_clients.get_for(session, viewer.principal(), client_id)
        return client, oauth_clients.authorisations(session, client)

    try:
        client, users = await run(read)
    except DomainError:
        return pages.not_found(_NOT_FOUND)
    return page(
        request,
        "dashboard/oauth_app.html",
        title=client.name,
        viewer=viewer,
        client=client,
        users=users,
        secret=secret,
        fresh=fresh,
        notice=notice,
        authorize_url=str(request.base_url) + "oauth/authorize",
    )


@signed_in
async def app_page(request: Request, viewer: Viewer) -> Response:
    return await _app_page(request, viewer, str(request.path_params["client_id"]))


@signed_in
async def rotate_secret(request: Request, viewer: Viewer) -> Response:
    client_id = str(request.path_params["client_id"])
    if request.method == "GET":
        try:
            client = await run(lambda session: oauth_clients.get_for(session, viewer.principal(), client_id))
        except DomainError:
            return pages.not_found(_NOT_FOUND)
        return page(
            request, "dashboard/oauth_app_rotate.html", title="Rotate client secret", viewer=viewer, client=client
        )
    if await checked_form(request) is None:
        return forbidden(request)
    try:
        secret = await run(lambda session: oauth_clients.rotate_secret(session, viewer.principal(), client_id))
    except DomainError as problem:
        if problem.status == 404:
            return pages.not_found(_NOT_FOUND)
        return await _app_page(request, viewer, client_id, notice=problem.detail)
    return await _app_page(request, viewer, client_id, secret=secret)


@signed_in
async def revoke_user(request: Request, viewer: Viewer) -> Response:
    client_id, user_id = str(request.path_params["client_id"]), str(request.path_params["user_id"])

    def read(session: Session) -> tuple[OAuthClient, oauth_clients.Authorisation | None]:
        client = oauth_clients.get_for(session, viewer.principal(), client_id)
        found = [user for user in oauth_clients.authorisations(session, client) if user.user_id == user_id]
        return client, (found[0] if found else None)

    try:
        client, authorisation = await run(read)
    except DomainError:
        return pages.not_found(_NOT_FOUND)
    if authorisation is None:
        return pages.not_found("This person holds no access to the application.")
    if request.method == "GET":
        return page(
            request,
            "dashboard/oauth_app_revoke.html",
            title="Revoke access",
            viewer=viewer,
            client=client,
            authorisation=authorisation,
        )
    if await checked_form(request) is None:
        return forbidden(request)

    def revoke(session: Session) -> None:
        oauth_clients.revoke_user(session, oauth_clients.get_for(session, viewer.principal(), client_id), user_id)

    await run(revoke)
    return redirect(f"/dashboard/oauth-apps/{client_id}")


ROUTES = {
    "/dashboard/oauth-apps": (["GET", "POST"], apps_page),
    "/dashboard/oauth-apps/{client_id}": (["GET"], app_page),
    "/dashboard/oauth-apps/{client_id}/rotate-secret": (["GET", "POST"], rotate_secret),
    "/dashboard/oauth-apps/{client_id}/users/{user_id}/revoke": (["GET", "POST"], revoke_user),
}
